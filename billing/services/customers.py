"""The tenant's Stripe customer and its billing contact."""

from __future__ import annotations

import uuid

import stripe
from django.db import transaction
from django.utils import timezone

from billing import gateway
from billing.models import StripeCustomer
from billing.services.notices import BillingError, owner_emails
from tenants.models import Customer


def stripe_customer_ensure(*, customer: Customer) -> StripeCustomer:
    """The tenant's Stripe customer, made on first need with the tenant in its metadata."""
    existing = StripeCustomer.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        # One creator per tenant: the lock on the tenant row serialises first needs.
        Customer.objects.select_for_update().get(pk=customer.pk)
        existing = StripeCustomer.objects.filter(customer=customer).first()
        if existing is not None:
            return existing
        emails = owner_emails(customer)
        email = emails[0] if emails else ""
        remote = gateway.customer_create(
            name=customer.name,
            email=email,
            metadata={"schema_name": customer.schema_name, "tenant_id": str(customer.pk), "tenant": customer.name},
            idempotency_key=f"customer-{customer.schema_name}-{customer.pk}",
        )
        return StripeCustomer.objects.create(
            customer=customer, stripe_id=remote.id, billing_name=customer.name, billing_email=email
        )


def billing_contact_update(
    *,
    stripe_customer: StripeCustomer,
    billing_name: str,
    billing_email: str,
    address_line1: str = "",
    address_line2: str = "",
    city: str = "",
    state: str = "",
    postal_code: str = "",
    country: str = "",
) -> StripeCustomer:
    """Change the billing contact and address, in Stripe first and then here."""
    stripe_customer.billing_name = billing_name.strip()
    stripe_customer.billing_email = billing_email.strip()
    stripe_customer.address_line1 = address_line1.strip()
    stripe_customer.address_line2 = address_line2.strip()
    stripe_customer.city = city.strip()
    stripe_customer.state = state.strip()
    stripe_customer.postal_code = postal_code.strip()
    stripe_customer.country = country.strip().upper()
    try:
        gateway.customer_update(
            stripe_customer.stripe_id,
            name=stripe_customer.billing_name,
            email=stripe_customer.billing_email,
            address=stripe_customer.address,
            idempotency_key=f"customer-update-{stripe_customer.pk}-{uuid.uuid4()}",
        )
    except stripe.StripeError as exc:
        raise BillingError(f"Stripe did not accept the billing contact: {exc.user_message or exc}") from exc
    stripe_customer.updated_at = timezone.now()
    stripe_customer.save()
    return stripe_customer
