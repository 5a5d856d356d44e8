"""The billing page of a customer's portal: billing contact, cards on file, charge history and
printable receipts. Everyone in the portal may read it; only owners change anything."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import gateway, services
from billing.access import get_charge_for_portal, get_payment_method_for_portal
from billing.forms import BillingContactForm, TestCardForm
from billing.models import Charge, StripeCustomer, Subscription
from tenants.access import current_customer, portal_role, require_role
from tenants.models import Role


def _page(
    request: HttpRequest,
    *,
    contact_form: BillingContactForm | None = None,
    card_form: TestCardForm | None = None,
    status: int = 200,
) -> HttpResponse:
    customer = current_customer(request)
    role = portal_role(request)
    stripe_customer = StripeCustomer.objects.filter(customer=customer).first()
    cards = list(stripe_customer.payment_methods.all()) if stripe_customer else []
    charges = Charge.objects.filter(customer=customer).prefetch_related("refunds")
    context = {
        "stripe_customer": stripe_customer,
        "contact_form": contact_form
        or BillingContactForm(instance=stripe_customer or StripeCustomer(billing_name=customer.name)),
        "card_form": card_form or TestCardForm(),
        "next": request.GET.get("next", ""),
        "cards": cards,
        "charges": charges,
        "subscriptions": Subscription.objects.filter(customer=customer),
        "is_owner": role == Role.OWNER,
        "test_mode": gateway.is_test_mode(),
        "server_side_cards": gateway.is_emulated(),
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    return render(request, "billing/portal.html", context, status=status)


@require_http_methods(["GET", "POST"])
def billing_home(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    require_role(request, Role.OWNER)
    stripe_customer = services.stripe_customer_ensure(customer=current_customer(request))
    form = BillingContactForm(request.POST, instance=StripeCustomer.objects.get(pk=stripe_customer.pk))
    if not form.is_valid():
        return _page(request, contact_form=form, status=400)
    try:
        services.billing_contact_update(stripe_customer=stripe_customer, **form.cleaned_data)
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Billing contact saved.")
    return redirect("billing_home")


@require_POST
def billing_card_add(request: HttpRequest) -> HttpResponse:
    require_role(request, Role.OWNER)
    form = TestCardForm(request.POST)
    if not form.is_valid():
        return _page(request, card_form=form, status=400)
    try:
        card = services.payment_method_add_test_card(customer=current_customer(request), **form.cleaned_data)
    except services.BillingError as exc:
        form.add_error("number", str(exc))
        return _page(request, card_form=form, status=400)
    messages.success(request, f"Card {card} added.")
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page that sent the owner to add a card (the quote's payment step), else billing."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("billing_home")


@require_POST
def billing_charge_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay a failed milestone now, on the default card."""
    charge = get_charge_for_portal(request, pk)
    require_role(request, Role.OWNER)
    try:
        charge = services.charge_pay_now(charge=charge)
    except services.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("billing_home")
    if charge.status == Charge.Status.SUCCEEDED:
        messages.success(request, f"Paid {charge.amount_label}. Thank you.")
    elif charge.status == Charge.Status.FAILED:
        messages.error(request, f"The payment did not go through: {charge.failure_message}")
    else:
        messages.info(request, "The payment is being processed.")
    return redirect("billing_home")


@require_POST
def billing_setup_begin(request: HttpRequest) -> HttpResponse:
    """Stripe.js asks for a SetupIntent to confirm the card the owner typed into Stripe's form."""
    require_role(request, Role.OWNER)
    return JsonResponse({"client_secret": services.setup_intent_begin(customer=current_customer(request))})


@require_POST
def billing_setup_finish(request: HttpRequest) -> HttpResponse:
    require_role(request, Role.OWNER)
    try:
        card = services.setup_intent_finish(
            customer=current_customer(request), setup_intent_id=request.POST.get("setup_intent", "")
        )
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Card {card} added.")
    return redirect("billing_home")


@require_POST
def billing_card_default(request: HttpRequest, pk: int) -> HttpResponse:
    card = get_payment_method_for_portal(request, pk)
    require_role(request, Role.OWNER)
    services.payment_method_set_default(payment_method=card)
    messages.success(request, f"{card} is now the card we charge.")
    return redirect("billing_home")


@require_POST
def billing_card_remove(request: HttpRequest, pk: int) -> HttpResponse:
    card = get_payment_method_for_portal(request, pk)
    require_role(request, Role.OWNER)
    try:
        services.payment_method_remove(payment_method=card)
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{card} removed.")
    return redirect("billing_home")


@require_GET
def billing_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    charge = get_charge_for_portal(request, pk)
    stripe_customer = StripeCustomer.objects.filter(customer=charge.customer).first()
    context = {"charge": charge, "stripe_customer": stripe_customer, "refunds": list(charge.refunds.all())}
    return render(request, "billing/receipt.html", context)
