"""The billing page of a portal: owners manage the contact and cards (in test mode through
localstripe), everyone reads the history and receipts, members and viewers change nothing, and
another tenant's users get 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing import gateway, services
from billing.milestones import acceptance_milestone
from billing.models import PaymentMethod, StripeCustomer
from tests.billing.billing_world import DECLINED_AT_ONCE, accepted_project, card_add
from tests.portal_pages import portal_paths
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)
URLCONF = "hive.urls_tenant"


def url(name: str, *args: int) -> str:
    return reverse(name, urlconf=URLCONF, args=args)


CARD = {"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2031", "cvc": "123"}


def test_an_owner_sets_the_contact_and_manages_cards_in_test_mode(world: World, stripe_emulator: str) -> None:
    client = world.client("alpha_owner", on="alpha")

    page = client.get(url("billing_home"))
    assert page.status_code == 200
    assert b"TEST MODE" in page.content and b"localstripe" in page.content

    contact = {
        "billing_name": "Alpha Industries Ltd",
        "billing_email": "ap@alpha.test",
        "address_line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "us",
    }
    assert client.post(url("billing_home"), contact).status_code == 302
    stripe_customer = StripeCustomer.objects.get(customer=world.customers["alpha"])
    remote = gateway.client().v1.customers.retrieve(stripe_customer.stripe_id)
    assert remote.email == "ap@alpha.test" and remote.address is not None and remote.address.country == "US"

    added = client.post(url("billing_card_add"), CARD, follow=True)
    assert "Visa •••• 4242" in added.content.decode() and "visa ••••" not in added.content.decode()
    assert client.post(url("billing_card_add"), {**CARD, "number": "4000 0566 5566 5556"}).status_code == 302
    first, second = PaymentMethod.objects.order_by("created_at")
    assert first.is_default and not second.is_default
    declined = client.post(url("billing_card_add"), {**CARD, "number": DECLINED_AT_ONCE})
    assert declined.status_code == 400 and b"declined" in declined.content

    assert client.post(url("billing_card_default", second.pk)).status_code == 302
    remote = gateway.client().v1.customers.retrieve(stripe_customer.stripe_id)
    assert remote.invoice_settings is not None and remote.invoice_settings.default_payment_method == second.stripe_id
    assert client.post(url("billing_card_remove", second.pk)).status_code == 302
    assert list(PaymentMethod.objects.values_list("pk", "is_default")) == [(first.pk, True)]
    assert [pm.id for pm in gateway.payment_methods_list(stripe_customer.stripe_id)] == [first.stripe_id]
    assert b'data-testid="card-5556"' not in client.get(url("billing_home")).content


def test_history_and_a_printable_receipt(world: World, stripe_emulator: str) -> None:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"])
    milestone = acceptance_milestone(service="mvp", price_cents=7_500_000)
    assert milestone is not None
    charge = services.milestone_charge(
        customer=world.customers["alpha"],
        project_id=project.pk,
        project_name=project.name,
        service="mvp",
        milestone=milestone,
    )
    viewer = world.client("alpha_viewer", on="alpha")

    page = viewer.get(url("billing_home"))
    assert page.status_code == 200 and b"$37,500" in page.content and b"Receipt" in page.content
    receipt = viewer.get(url("billing_receipt", charge.pk))
    assert receipt.status_code == 200
    assert charge.receipt_number.encode() in receipt.content and b"$37,500" in receipt.content
    assert b'<meta name="viewport" content="width=device-width, initial-scale=1">' in receipt.content
    assert b"data-print" in receipt.content and b"js/forms.js" in receipt.content  # the print link (static/js/forms.js)


def test_members_and_viewers_cannot_change_billing(world: World, stripe_emulator: str) -> None:
    card = card_add(world.customers["alpha"])
    for user in ("alpha_member", "alpha_viewer"):
        client = world.client(user, on="alpha")
        assert client.get(url("billing_home")).status_code == 200
        assert client.post(url("billing_home"), {"billing_name": "x", "billing_email": "x@y.test"}).status_code == 403
        assert client.post(url("billing_card_add"), CARD).status_code == 403
        assert client.post(url("billing_setup_begin")).status_code == 403
        assert client.post(url("billing_setup_finish"), {"setup_intent": "seti_x"}).status_code == 403
        assert client.post(url("billing_card_default", card.pk)).status_code == 403
        assert client.post(url("billing_card_remove", card.pk)).status_code == 403
    assert PaymentMethod.objects.get().is_default


@pytest.mark.parametrize("user", ["beta_owner", "beta_viewer", "outsider"])
def test_another_tenants_user_gets_404_on_every_billing_page(world: World, user: str) -> None:
    client = world.client(user, on="alpha")
    billing = {name: path for name, path in portal_paths(world, "alpha").items() if name.startswith("billing_")}
    assert len(billing) == 8
    for name, path in billing.items():
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 404, f"{method.upper()} {name} {path} → {response.status_code}"


def test_staff_may_open_a_tenants_billing_page(world: World, stripe_emulator: str) -> None:
    assert world.client("staff", on="alpha").get(url("billing_home")).status_code == 200


def test_a_stale_session_adds_a_card_only_after_confirming_the_password(world: World, stripe_emulator: str) -> None:
    from tenants.reauth import SESSION_KEY

    client = world.client("alpha_owner", on="alpha")
    session = client.session
    session[SESSION_KEY] = int(session[SESSION_KEY]) - 3600  # logged in an hour ago
    session.save()
    billing = "http://alpha.hive.localhost" + url("billing_home")

    refused = client.post(url("billing_card_add"), CARD, HTTP_REFERER=billing)
    assert refused.status_code == 302 and refused["Location"].startswith("/account/reauthenticate/")
    assert not PaymentMethod.objects.exists()

    confirmed = client.post(refused["Location"], {"secret": "correct-horse-battery-staple"})
    assert confirmed.status_code == 302 and confirmed["Location"] == url("billing_home")
    assert client.post(url("billing_card_add"), CARD).status_code == 302
    (card,) = PaymentMethod.objects.all()
    assert card.last4 == "4242"
