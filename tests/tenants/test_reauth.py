"""Re-authentication before money actions: a session whose login is older than
HIVE_REAUTH_SECONDS must confirm the password (or a TOTP code) before cards, quote acceptance,
payment and refunds; ``recent_auth_required`` is the guard."""

from __future__ import annotations

import time

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from billing.models import Charge, StripeCustomer
from projects.models import Project, Quote
from tenants.reauth import SESSION_KEY
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def age(client: Client, seconds: int = 601) -> None:
    """Make the session's last proof of identity ``seconds`` old (the default limit is 600 s)."""
    session = client.session
    session[SESSION_KEY] = int(time.time()) - seconds
    session.save()


def test_a_stale_session_is_asked_to_confirm_before_adding_a_card(world: World) -> None:
    client = world.client("alpha_owner", on="alpha")
    age(client)
    card = {"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2031", "cvc": "123"}

    response = client.post("/billing/cards/add/", card, HTTP_REFERER="http://alpha.hive.localhost/billing/")

    assert response.status_code == 302
    assert response["Location"] == "/account/reauthenticate/?next=%2Fbilling%2F"
    assert not StripeCustomer.objects.exists()  # the action was not done: not even a Stripe customer
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Confirm it" in page.content and b"Enter your password" in page.content


@pytest.mark.parametrize("path", ["/billing/cards/1/remove/", "/billing/cards/1/default/", "/billing/cards/setup/"])
def test_every_card_action_asks_a_stale_session_to_confirm(world: World, path: str) -> None:
    client = world.client("alpha_owner", on="alpha")
    age(client)

    response = client.post(path)

    assert response.status_code == 302 and response["Location"].startswith("/account/reauthenticate/")


def test_a_fresh_login_needs_no_confirmation(world: World) -> None:
    client = world.client("alpha_owner", on="alpha")
    # A card that does not exist: the guard let the request through to the view's own 404.
    assert client.post("/billing/cards/999999/remove/").status_code == 404


def test_the_password_confirms_and_returns_to_the_page(world: World) -> None:
    client = world.client("alpha_owner", on="alpha")
    age(client)

    wrong = client.post("/account/reauthenticate/", {"secret": "not-it-at-all", "next": "/billing/"})
    right = client.post("/account/reauthenticate/", {"secret": PASSWORD, "next": "/billing/"})

    assert wrong.status_code == 400 and b"not right" in wrong.content
    assert right.status_code == 302 and right["Location"] == "/billing/"
    assert client.post("/billing/cards/999999/remove/").status_code == 404


def test_wrong_passwords_at_re_authentication_count_toward_the_lockout(world: World) -> None:
    client = world.client("alpha_owner", on="alpha")
    age(client)
    answers = [client.post("/account/reauthenticate/", {"secret": f"guess-{n}-xx"}).status_code for n in range(5)]

    assert answers == [400, 400, 400, 400, 429]
    assert AccessAttempt.objects.filter(username="alpha-owner@example.test").exists()
    assert client.post("/account/reauthenticate/", {"secret": PASSWORD}).status_code == 429


def test_with_two_factor_the_app_s_code_confirms(world: World) -> None:
    user = world.users["beta_owner"]
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = world.client("beta_owner", on="beta")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    age(client)

    page = client.get("/account/reauthenticate/?next=/billing/")
    password = client.post("/account/reauthenticate/", {"secret": PASSWORD, "next": "/billing/"})
    ok = client.post("/account/reauthenticate/", {"secret": f"{totp.token():06d}", "next": "/billing/"})

    assert b"authenticator app" in page.content
    assert password.status_code == 400
    assert ok.status_code == 302 and ok["Location"] == "/billing/"


def test_accepting_a_quote_asks_a_stale_session_to_confirm(world: World) -> None:
    with schema_context("alpha"):
        project = Project.objects.create(name="Reauth", service="mvp")
        quote = Quote.objects.create(project=project, number=1, snapshot={"service": "mvp"}, price_cents=7_500_000)
    client = world.client("alpha_owner", on="alpha")
    age(client)
    referer = f"http://alpha.hive.localhost/projects/{project.pk}/quotes/1/"

    response = client.post(f"/projects/{project.pk}/quotes/1/accept/", HTTP_REFERER=referer)
    pay = client.post(f"/projects/{project.pk}/pay/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/reauthenticate/?next=%2Fprojects%2F")
    assert pay["Location"].startswith("/account/reauthenticate/")
    with schema_context("alpha"):
        quote.refresh_from_db()
        assert quote.accepted_at is None


def test_a_refund_in_the_admin_asks_a_stale_staff_session_to_confirm(world: World) -> None:
    charge = Charge.objects.create(
        customer=world.customers["alpha"],
        schema_name="alpha",
        project_id=1,
        project_name="x",
        service="mvp",
        milestone="reauth",
        description="deposit",
        amount_cents=1000,
        status=Charge.Status.SUCCEEDED,
    )
    admin = world.client("staff")
    refund_url = reverse("admin:billing_charge_refund", args=[charge.pk], urlconf="hive.urls_public")
    assert admin.get(refund_url).status_code == 200
    age(admin)

    response = admin.get(refund_url)

    assert response.status_code == 302
    assert response["Location"].startswith("/account/reauthenticate/?next=%2Fadmin%2Fbilling%2Fcharge%2F")
