"""Forms of the customer's success pages and of the account managers' admin pages."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from projects.delivery.controls import PROVIDER_CHOICES
from projects.delivery.uat import MAX_FINDINGS, MAX_TESTERS, UatReport, UatReportError
from success.models import StoryDecision


class StoryDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=StoryDecision.Decision.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    unmet = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, criteria: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["unmet"]).choices = [(c, c) for c in criteria]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == StoryDecision.Decision.REJECTED and not (data.get("comment") or "").strip():
            self.add_error("comment", "Say what is wrong: a rejection needs a comment.")
        return data


class SurveyAnswerForm(forms.Form):
    score = forms.IntegerField(min_value=0, max_value=10)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class GuaranteeClaimForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class ReportPreferenceForm(forms.Form):
    daily_summary = forms.BooleanField(required=False)


# --- admin --------------------------------------------------------------------------------------


class GateWaiverForm(forms.Form):
    code = forms.ChoiceField(label="Gate")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The customer sees this reason.")

    def __init__(self, *args: Any, gates: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["code"]).choices = gates


class EscalationResolveForm(forms.Form):
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class MeasurementForm(forms.Form):
    code = forms.ChoiceField(label="Metric")
    value = forms.DecimalField(max_digits=14, decimal_places=3)
    source = forms.CharField(max_length=250, help_text="Where the number comes from.")
    baseline = forms.BooleanField(required=False, help_text="Record it as the metric's baseline.")

    def __init__(self, *args: Any, metrics: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["code"]).choices = metrics


class GuaranteeDecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("assess", "Assess again"), ("refund", "Confirm the full refund"), ("decline", "Decline the refund")]
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AgentSettingsForm(forms.Form):
    """An account manager's choice of the agents for a project: provider, model, budget."""

    provider = forms.ChoiceField(choices=PROVIDER_CHOICES, required=False)
    model = forms.CharField(max_length=100, required=False, help_text="empty: the deployment's HIVE_LLM_MODEL")
    budget_tokens = forms.IntegerField(
        min_value=0, required=False, help_text="for the whole project; 0: no limit; empty: the deployment's"
    )
    budget_cost = forms.DecimalField(
        min_value=0, max_digits=12, decimal_places=2, required=False, help_text="USD for the whole project"
    )

    def llm(self) -> dict[str, Any]:
        data = self.cleaned_data
        cost = data["budget_cost"]
        return {
            "model": data["model"].strip(),
            "budget_tokens": data["budget_tokens"],
            "budget_cost": None if cost is None else str(cost),
        }


class UatReportForm(forms.Form):
    """The customer's report of user acceptance testing (``projects.delivery.uat``)."""

    testers = forms.IntegerField(min_value=1, max_value=MAX_TESTERS, label="How many people tested it")
    satisfied = forms.IntegerField(min_value=0, max_value=MAX_TESTERS, label="How many of them were satisfied")
    findings = forms.CharField(
        required=False,
        max_length=MAX_FINDINGS,
        label="What they found (problems, wishes)",
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())
        if self.errors:
            return cleaned
        try:
            cleaned["report"] = UatReport(cleaned["testers"], cleaned["satisfied"], cleaned.get("findings") or "")
        except UatReportError as error:
            raise forms.ValidationError(str(error)) from error
        return cleaned
