"""Forms of the new-project wizard and the scoping pages."""

from __future__ import annotations

from typing import Any

from django import forms

from projects.models import Engagement, Service, Story
from tenants.text import refuse_control_characters


class NewProjectForm(forms.Form):
    name = forms.CharField(max_length=160, label="Project name", validators=[refuse_control_characters])
    service = forms.ChoiceField(choices=Service.choices, widget=forms.RadioSelect, initial=Service.MVP)


class _UploadForm(forms.Form):
    """A form with a file field whose upload may have been stopped for its size before the form
    saw it (`projects.scoping.uploads`): that refusal is the form's error, and the other fields stay."""

    def __init__(self, *args: Any, upload_refusal: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upload_refusal = upload_refusal

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.upload_refusal is not None:
            raise forms.ValidationError(self.upload_refusal)
        return cleaned


class RequirementsForm(_UploadForm):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "placeholder": "As a shopper, I want to …"}),
        required=False,
        label="Paste your requirements",
    )
    document = forms.FileField(
        required=False, label="…or upload a document or backlog (.txt, .md, .docx, .pdf, .csv, .xlsx; up to 5 MB)"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("text", "").strip() and not cleaned.get("document"):
            raise forms.ValidationError("Paste your requirements or upload a document.")
        return cleaned


class StoryForm(forms.ModelForm[Story]):
    acceptance_criteria = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="One criterion per line."
    )
    points = forms.TypedChoiceField(
        choices=[("", "estimate for me"), *[(n, n) for n in (1, 2, 3, 5, 8, 13)]],
        coerce=int,
        required=False,
        empty_value=None,
    )

    class Meta:
        model = Story
        fields = ["epic", "title", "as_a", "i_want", "so_that", "priority", "points", "acceptance_criteria"]
        widgets = {"i_want": forms.TextInput(), "so_that": forms.TextInput()}
        labels = {"as_a": "As a", "i_want": "I want", "so_that": "so that"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["acceptance_criteria"] = "\n".join(self.instance.acceptance_criteria)


class LegacyCodeForm(_UploadForm):
    archive = forms.FileField(required=False, label="Upload the code (.zip or .tar.gz)")
    git_path = forms.CharField(required=False, max_length=500, label="…or the path of a git repository on our server")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("archive") and not cleaned.get("git_path", "").strip():
            raise forms.ValidationError("Upload an archive of the code or give a git repository path.")
        return cleaned


class EngagementForm(forms.ModelForm[Engagement]):
    class Meta:
        model = Engagement
        fields = ["kind", "sprints", "sprint_weeks", "months", "team_size", "skills", "notes"]
        widgets = {"kind": forms.RadioSelect, "notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "sprints": "Sprint-based: how many sprints ($25,000 each).",
            "sprint_weeks": "Sprint-based: 2 to 4 weeks per sprint.",
            "months": "Continuous: first commitment in months ($75,000 per month).",
            "team_size": "Number of agents (continuous: at least 3).",
            "skills": "Skills you need, comma-separated (e.g. Django, React, PostgreSQL).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A required choice shown as radio buttons needs no "---------" button for "none".
        self.fields["kind"].choices = Engagement.Kind.choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind == Engagement.Kind.SPRINT:
            if not 1 <= (cleaned.get("sprints") or 0) <= 26:
                self.add_error("sprints", "Choose between 1 and 26 sprints.")
            if not 2 <= (cleaned.get("sprint_weeks") or 0) <= 4:
                self.add_error("sprint_weeks", "A sprint lasts 2 to 4 weeks.")
        if kind == Engagement.Kind.CONTINUOUS:
            if (cleaned.get("team_size") or 0) < 3:
                self.add_error("team_size", "Continuous augmentation runs at least 3 agents.")
            if not 1 <= (cleaned.get("months") or 0) <= 36:
                self.add_error("months", "Choose between 1 and 36 months.")
        if not 1 <= (cleaned.get("team_size") or 0) <= 20:
            self.add_error("team_size", "Choose a team of 1 to 20 agents.")
        return cleaned
