"""Public pages of billing: the landing page (services, tiers and prices, straight from the
catalog) and the one URL Stripe delivers webhooks to."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing import webhooks
from billing.catalog import (
    ASSESSMENT_PRICE,
    AUGMENTATION_PLANS,
    GUARANTEE_DAYS,
    MVP_QUALITY_STANDARDS,
    MVP_TIERS,
    PHASE_PRICE,
    PHASE_SHARE_PERCENT,
    SIZE_CLASSES,
)
from tenants import links
from tenants.models import Membership


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    portals = []
    if request.user.is_authenticated:
        portals = [
            (m, links.portal_url(request, m.customer))
            for m in Membership.objects.filter(user=request.user).select_related("customer")
        ]
    context = {
        "portals": portals,
        "tiers": MVP_TIERS,
        "mvp_standards": MVP_QUALITY_STANDARDS,
        "assessment_price": ASSESSMENT_PRICE,
        "phase_price": PHASE_PRICE,
        "phase_share": PHASE_SHARE_PERCENT,
        "size_classes": SIZE_CLASSES,
        "plans": AUGMENTATION_PLANS,
        "guarantee_days": GUARANTEE_DAYS,
    }
    return render(request, "billing/landing.html", context)


@csrf_exempt  # Stripe signs the body instead; construct_event checks it.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        _, new = webhooks.event_receive(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except webhooks.WebhookRefused as exc:
        return HttpResponseBadRequest(f"refused: {exc}", content_type="text/plain")
    return HttpResponse("received" if new else "already received", content_type="text/plain")
