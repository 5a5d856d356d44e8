"""Signup provisions a customer — schema, migrations, domain, owner — from the link mailed to the
owner's address, or leaves nothing behind; the form never tells whether an address has an account."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.http import HttpResponse
from django.test import Client, TestCase
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import Customer, Domain, Membership, Role, SignupRequest, User
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def _ask(client: Client, **overrides: str):  # type: ignore[no-untyped-def]
    data = {"company_name": "Gamma Foods", "subdomain": "gamma", "email": "boss@gamma.test", "password": PASSWORD}
    data.update(overrides)
    # E-mails leave when the transaction commits; the test's transaction never does.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/signup/", data)


def _mailed_link(to: str) -> str:
    bodies = [m.body for m in mail.outbox if m.to == [to]]
    assert bodies, f"no e-mail to {to}"
    found = re.search(r"http://hive\.localhost(/signup/confirm/[^/\s]+/)", str(bodies[-1]))
    assert found, bodies[-1]
    return found.group(1)


def _signup(world: World, **overrides: str):  # type: ignore[no-untyped-def]
    """Ask for the portal, then open the mailed link and press its button, as a person does."""
    client = world.client()
    asked = _ask(client, **overrides)
    if asked.status_code != 200:
        return asked
    link = _mailed_link(overrides.get("email", "boss@gamma.test"))
    assert client.get(link).status_code == 200
    return client.post(link)


def test_it_provisions_schema_domain_and_owner_and_logs_the_owner_in(world: World) -> None:
    response = _signup(world)

    assert response.status_code == 302
    assert response["Location"] == "http://gamma.hive.localhost/"
    customer = Customer.objects.get(schema_name="gamma")
    assert customer.name == "Gamma Foods"
    assert "gamma" in _schemas()
    assert Domain.objects.get(tenant=customer).domain == "gamma.hive.localhost"
    membership = Membership.objects.get(customer=customer)
    assert (membership.user.email, membership.role) == ("boss@gamma.test", Role.OWNER)
    with schema_context("gamma"), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'contenttypes'")
        assert cursor.fetchone()[0] >= 1

    # The session cookie belongs to the parent domain, so the portal host sees the same login.
    assert response.cookies["sessionid"]["domain"] == ".hive.localhost"
    page = response.client.get("/", HTTP_HOST="gamma.hive.localhost")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert b"Gamma Foods" in page.content and b"boss@gamma.test" in page.content


@pytest.mark.parametrize(
    ("subdomain", "message"),
    [
        ("www", "is reserved"),
        ("admin", "is reserved"),
        ("api", "is reserved"),
        ("public", "is reserved"),
        ("static", "is reserved"),
        ("Acme", "lowercase"),
        ("ab", "3 to 40 characters"),
        ("a" * 41, "3 to 40 characters"),
        ("-acme", "letters, digits and hyphens"),
        ("acme-", "letters, digits and hyphens"),
        ("ac_me", "letters, digits and hyphens"),
        ("ac.me", "letters, digits and hyphens"),
        ("ac--me", "Two hyphens"),
        ("alpha", "already taken"),
    ],
)
def test_it_refuses_bad_subdomains_with_a_clear_message(world: World, subdomain: str, message: str) -> None:
    before = Customer.objects.count()
    response = _signup(world, subdomain=subdomain)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Customer.objects.count() == before
    assert not User.objects.filter(email="boss@gamma.test").exists()


def test_nothing_is_created_until_the_mailed_link_is_opened(world: World) -> None:
    response = _ask(world.client())

    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    assert not User.objects.filter(email="boss@gamma.test").exists()
    assert not Customer.objects.filter(schema_name="gamma").exists()
    assert "gamma" not in _schemas()
    # The link's page alone (a mail scanner opening it) creates nothing either.
    assert world.client().get(_mailed_link("boss@gamma.test")).status_code == 200
    assert not Customer.objects.filter(schema_name="gamma").exists()


def test_the_new_owner_s_address_counts_as_verified(world: World) -> None:
    _signup(world)

    assert User.objects.get(email="boss@gamma.test").email_verified


def test_signup_does_not_reveal_whether_an_address_has_an_account(world: World) -> None:
    taken = _ask(world.client(), email="alpha-owner@example.test", subdomain="gamma")
    free = _ask(world.client(), email="someone-new@example.test", subdomain="gamma")

    assert taken.status_code == free.status_code == 200

    def page(response: HttpResponse, email: str) -> str:
        # Each client has its own CSRF token; everything else must be the same.
        return re.sub(r'"X-CSRFToken": "\w+"', "", response.content.decode().replace(email, "X"))

    assert page(taken, "alpha-owner@example.test") == page(free, "someone-new@example.test")
    # The account's owner is told instead (no signup link), and nothing is made for the request.
    (note,) = [m for m in mail.outbox if m.to == ["alpha-owner@example.test"]]
    assert "already have an account" in note.body
    assert "/signup/confirm/" not in note.body
    assert not SignupRequest.objects.filter(email="alpha-owner@example.test").exists()
    assert not Customer.objects.filter(schema_name="gamma").exists()


def test_a_signup_link_works_once(world: World) -> None:
    client = world.client()
    _ask(client)
    link = _mailed_link("boss@gamma.test")
    assert client.post(link).status_code == 302

    again = world.client().post(link)

    assert again.status_code == 410
    assert "already created" in again.content.decode()
    assert Customer.objects.filter(schema_name="gamma").count() == 1


def test_an_expired_signup_link_is_refused_and_its_request_is_dropped(
    world: World, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    client = world.client()
    _ask(client)
    link = _mailed_link("boss@gamma.test")
    later = time.time() + settings.HIVE_EMAIL_VERIFICATION_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)

    response = client.post(link)

    assert response.status_code == 410 and b"expired" in response.content
    assert not Customer.objects.filter(schema_name="gamma").exists()
    # The next signup (by anyone) sweeps requests whose links can no longer work.
    SignupRequest.objects.update(created_at=timezone.now() - timedelta(days=4))
    _ask(world.client(), email="other@delta.test", subdomain="delta")
    assert list(SignupRequest.objects.values_list("email", flat=True)) == ["other@delta.test"]


def test_a_tampered_signup_link_is_refused(world: World) -> None:
    client = world.client()
    _ask(client)
    link = _mailed_link("boss@gamma.test")

    response = client.post(link.replace("/confirm/", "/confirm/x"))

    assert response.status_code == 410
    assert not Customer.objects.filter(schema_name="gamma").exists()


def test_a_subdomain_taken_before_the_link_is_opened_is_refused_clearly(world: World) -> None:
    first, second = world.client(), world.client()
    _ask(first, email="first@gamma.test")
    _ask(second, email="second@gamma.test")
    assert first.post(_mailed_link("first@gamma.test")).status_code == 302

    late = second.post(_mailed_link("second@gamma.test"))

    assert late.status_code == 409
    assert "already taken" in late.content.decode()
    assert not User.objects.filter(email="second@gamma.test").exists()


def test_signups_are_limited_per_address(world: World, settings: pytest.FixtureRequest) -> None:
    settings.HIVE_RATE_SIGNUP = "2/h"  # type: ignore[attr-defined]
    for n in range(4):
        assert _ask(world.client(), subdomain=f"gamma{n}").status_code == 200

    assert len([m for m in mail.outbox if m.to == ["boss@gamma.test"]]) == 2
    assert SignupRequest.objects.filter(email="boss@gamma.test").count() == 2


def test_signups_are_limited_per_network_with_a_clear_page(world: World, settings: pytest.FixtureRequest) -> None:
    settings.HIVE_RATE_SIGNUP_IP = "3/h"  # type: ignore[attr-defined]
    client = world.client()
    answers = [_ask(client, email=f"p{n}@gamma.test", subdomain=f"gamma{n}").status_code for n in range(5)]

    assert answers == [200, 200, 200, 429, 429]
    assert len(mail.outbox) == 3
    limited = _ask(client, email="late@gamma.test")
    assert b"too many signups" in limited.content.lower()


def test_it_refuses_a_weak_password(world: World) -> None:
    response = _signup(world, password="12345")

    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not Customer.objects.filter(schema_name="gamma").exists()


def test_a_failed_provisioning_leaves_nothing_and_tells_the_user(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fail at the very last step, after the schema was created and migrated.
    def explode(**_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Membership.objects, "create", explode)

    response = _signup(world)

    assert response.status_code == 409
    assert "nothing was created" in response.content.decode()
    assert not Customer.objects.filter(schema_name="gamma").exists()
    assert not Domain.objects.filter(domain="gamma.hive.localhost").exists()
    assert not User.objects.filter(email="boss@gamma.test").exists()
    assert "gamma" not in _schemas()
