"""Forms of the public site and the portal's members page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from tenants.models import Role, User
from tenants.subdomains import MAX_LENGTH, validate_subdomain
from tenants.text import refuse_control_characters


class SignupForm(forms.Form):
    company_name = forms.CharField(max_length=120, label="Company name", validators=[refuse_control_characters])
    subdomain = forms.CharField(
        max_length=MAX_LENGTH + 20,
        help_text="Your portal's address: <subdomain>.{domain}. Lowercase letters, digits and hyphens.",
    )
    email = forms.EmailField(label="Work email")
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def clean_subdomain(self) -> str:
        return validate_subdomain(self.cleaned_data["subdomain"])

    def clean_email(self) -> str:
        # Whether the address has an account is never said here (see services.signup_request).
        email: str = self.cleaned_data["email"].strip().lower()
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            probe = User(email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code",
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class ReauthenticateForm(forms.Form):
    """Confirm it's you: the password, or the app's code for someone with two-factor on."""

    secret = forms.CharField(max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autofocus": True}))


class CompanyTwoFactorForm(forms.Form):
    required = forms.BooleanField(required=False, label="Require two-factor login for everyone in this company")


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class JoinForm(forms.Form):
    """A new person accepting an invitation chooses their name and password."""

    full_name = forms.CharField(max_length=150, required=False, validators=[refuse_control_characters])
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        password_validation.validate_password(password, User(email=self.email))
        return password
