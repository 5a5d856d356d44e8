"""The one way billing views reach a tenant's billing rows: filtered by the current portal, 404
otherwise (another tenant's card or receipt does not exist for this user)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from billing.models import Charge, PaymentMethod
from tenants.access import current_customer


def get_payment_method_for_portal(request: HttpRequest, pk: int) -> PaymentMethod:
    method = (
        PaymentMethod.objects.select_related("stripe_customer")
        .filter(pk=pk, stripe_customer__customer=current_customer(request))
        .first()
    )
    if method is None:
        raise Http404("No such card")
    return method


def get_charge_for_portal(request: HttpRequest, pk: int) -> Charge:
    charge = Charge.objects.select_related("customer").filter(pk=pk, customer=current_customer(request)).first()
    if charge is None:
        raise Http404("No such charge")
    return charge
