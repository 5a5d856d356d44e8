"""Driving the scoping pages of a customer portal from tests: start a project, read the page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from billing.models import PaymentMethod, StripeCustomer
from projects.models import Project, Service, Story
from tenants.models import Customer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

URLCONF = "hive.urls_tenant"
REQUIREMENTS = Path(__file__).parent / "fixtures" / "requirements"


def url(name: str, *args: int) -> str:
    return reverse(name, urlconf=URLCONF, args=args)


_INLINE_TAG = re.compile(r"</?(a|b|strong|em|span|code)\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", markup))).split())


def text_of(response: Response) -> str:
    """The page's text as a reader sees it: tags out, entities decoded, whitespace collapsed."""
    return _plain(response.content.decode())


def by_testid(response: Response, name: str) -> str:
    """The text of the element marked ``data-testid=name`` (no nested element of the same tag)."""
    content = response.content.decode()
    match = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(name)}"[^>]*>(.*?)</\1>', content, re.S)
    assert match is not None, f"no data-testid={name!r} on the page"
    return _plain(match.group(2))


def new_project(client: Client, service: Service, name: str = "Launch") -> Project:
    response = client.post(url("project_new"), {"name": name, "service": service.value})
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("alpha"):
        project = Project.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))
    assert response["Location"] == url("project_detail", project.pk)
    return project


def submit_requirements(client: Client, project: Project, fixture: str) -> Response:
    text = (REQUIREMENTS / fixture).read_text(encoding="utf-8")
    response = client.post(url("requirements_submit", project.pk), {"text": text})
    assert response.status_code == 302, text_of(response)[:2000]
    return client.get(url("project_detail", project.pk))


def stories_of(project: Project) -> list[Story]:
    with schema_context("alpha"):
        return list(Story.objects.filter(project=project))


def card_on_file(customer: Customer, *, last4: str = "4242") -> PaymentMethod:
    """A default card in the ledger, as adding one through Stripe leaves it (no Stripe call: the
    scoping tests do not charge; the billing tests charge real cards on localstripe)."""
    stripe_customer, _ = StripeCustomer.objects.get_or_create(
        customer=customer, defaults={"stripe_id": f"cus_test_{customer.schema_name}"}
    )
    card = stripe_customer.default_payment_method
    if card is not None:
        return card
    return PaymentMethod.objects.create(
        stripe_customer=stripe_customer,
        stripe_id=f"pm_test_{customer.schema_name}_{last4}",
        brand="visa",
        last4=last4,
        exp_month=12,
        exp_year=2030,
        is_default=True,
    )


_CONSENT = re.compile(r'name="consent" value="([^"]+)"')


def quote_accept_consenting(client: Client, project: Project, number: int) -> Response:
    """Accept a quote the way an owner does: open its payment step, tick the box, confirm."""
    page = client.get(url("quote_accept", project.pk, number))
    match = _CONSENT.search(page.content.decode())
    assert match is not None, f"no consent token on the payment step: {text_of(page)[:500]}"
    return client.post(url("quote_accept", project.pk, number), {"consent": match.group(1), "authorise": "yes"})
