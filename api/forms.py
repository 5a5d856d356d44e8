"""The owners' form for a new API key: name, scope and expiry (the key itself is generated)."""

from __future__ import annotations

from typing import Any

from django import forms

from api.keys import MAX_NAME
from api.models import Scope
from tenants.text import refuse_control_characters

EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME,
        help_text="What the key is for, e.g. “CI pipeline”.",
        validators=[refuse_control_characters],
    )
    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.READ)
    expires_in_days = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", required=False, label="Expires in")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the key a name.")
        return name

    def expiry_days(self) -> int | None:
        value: Any = self.cleaned_data.get("expires_in_days")
        return int(value) if value else None
