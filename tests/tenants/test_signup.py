"""Signup provisions a customer — schema, migrations, domain, owner — or leaves nothing behind."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenants.models import Customer, Domain, Membership, Role, User
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def _signup(world: World, **overrides: str):  # type: ignore[no-untyped-def]
    data = {"company_name": "Gamma Foods", "subdomain": "gamma", "email": "boss@gamma.test", "password": PASSWORD}
    data.update(overrides)
    return world.client().post("/signup/", data)


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


def test_it_refuses_an_email_that_already_has_an_account(world: World) -> None:
    response = _signup(world, email="alpha-owner@example.test")

    assert response.status_code == 400
    assert "already exists" in response.content.decode()


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

    assert response.status_code == 400
    assert "nothing was created" in response.content.decode()
    assert not Customer.objects.filter(schema_name="gamma").exists()
    assert not Domain.objects.filter(domain="gamma.hive.localhost").exists()
    assert not User.objects.filter(email="boss@gamma.test").exists()
    assert "gamma" not in _schemas()
