"""Forms of the billing pages: the billing contact, a test card, a partial refund, an export period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from billing.models import CustomQuote, StripeCustomer
from tenants.text import refuse_control_characters


class BillingContactForm(forms.ModelForm[StripeCustomer]):
    class Meta:
        model = StripeCustomer
        fields = [
            "billing_name",
            "billing_email",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "country",
        ]
        labels = {
            "billing_name": "Company name on receipts",
            "billing_email": "Billing email",
            "address_line1": "Address line 1",
            "address_line2": "Address line 2",
        }

    def clean(self) -> dict[str, Any]:
        # Every field is one line of a receipt (and of Stripe's customer record): no line breaks.
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            try:
                refuse_control_characters(value)
            except forms.ValidationError as refused:
                self.add_error(name, refused)
        return cleaned

    def clean_country(self) -> str:
        country = str(self.cleaned_data.get("country", "")).strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Use the two-letter country code, e.g. US or DE.")
        return country


class TestCardForm(forms.Form):
    """Test mode only: a Stripe test card number (4242 4242 4242 4242 pays; 4000 0000 0000 0341
    attaches but declines charges; 4000 0000 0000 0002 is declined at once)."""

    number = forms.CharField(max_length=23, initial="4242 4242 4242 4242")
    exp_month = forms.IntegerField(min_value=1, max_value=12, initial=12)
    exp_year = forms.IntegerField(min_value=2020, max_value=2099, initial=date.today().year + 3)
    cvc = forms.CharField(min_length=3, max_length=3, initial="123")

    def clean_number(self) -> str:
        number = str(self.cleaned_data["number"]).replace(" ", "")
        if not number.isdigit() or len(number) != 16:
            raise forms.ValidationError("A card number has 16 digits.")
        return number


class RefundForm(forms.Form):
    amount = forms.DecimalField(min_value=0.01, decimal_places=2, max_digits=12, help_text="in US dollars")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def amount_cents(self) -> int:
        return int(self.cleaned_data["amount"] * 100)


class PeriodForm(forms.Form):
    start = forms.DateField(help_text="first day, YYYY-MM-DD")
    end = forms.DateField(help_text="last day, YYYY-MM-DD")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The period ends before it starts.")
        return data


class CustomQuoteForm(forms.ModelForm[CustomQuote]):
    """An account manager's custom quote, priced in dollars (the ledger keeps cents). Each
    milestone it makes is either nothing or at least Stripe's smallest charge ($0.50); it is valid
    from today on."""

    amount = forms.DecimalField(label="Price (USD)", min_value=Decimal("1.00"), decimal_places=2, max_digits=12)

    class Meta:
        model = CustomQuote
        fields = ["customer", "project_id", "title", "scope", "service", "deposit_percent", "valid_until"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["amount"].initial = Decimal(self.instance.amount_cents) / 100

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount, percent = data.get("amount"), data.get("deposit_percent")
        if amount is not None and percent is not None:
            cents = int(amount * 100)
            deposit = cents * percent // 100
            for part in (deposit, cents - deposit):
                if 0 < part < STRIPE_MINIMUM_CENTS:
                    raise forms.ValidationError("Each payment must be $0.50 or more (Stripe's smallest charge).")
        valid_until = data.get("valid_until")
        if valid_until is not None and valid_until < date.today():
            self.add_error("valid_until", "A quote cannot be valid until a day already past.")
        return data

    def save(self, commit: bool = True) -> CustomQuote:
        self.instance.amount_cents = int(self.cleaned_data["amount"] * 100)
        return super().save(commit=commit)


STRIPE_MINIMUM_CENTS = 50
