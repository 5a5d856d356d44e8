"""The billing forms' labels read as words (billing/forms.py)."""

from __future__ import annotations

from billing.forms import BillingContactForm


def test_the_address_lines_are_labelled_in_words() -> None:
    page = BillingContactForm().as_p()
    assert "Address line 1" in page and "Address line 2" in page
    assert "Address line1" not in page and "Address line2" not in page
