"""API keys at the door (api.authentication, api.keys, api.throttling): only a usable key of the
host's own company opens the API; everything else is a 401 without data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import TestCase
from django.utils import timezone
from django_tenants.utils import schema_context

from api.keys import api_key_revoke
from api.models import ApiKey, Scope
from api.signals import api_key_used
from api.throttling import ApiKeyThrottle
from projects.models import Project, Service
from tenants import host_cache
from tenants.models import Customer, Membership, Role
from tests.api.conftest import api_client, key_make
from tests.world import World

pytestmark = pytest.mark.django_db


def _project(slug: str, name: str) -> Project:
    with schema_context(slug):
        return Project.objects.create(name=name, service=Service.MVP)


def test_a_key_reads_its_own_company_with_either_scheme(world: World) -> None:
    _project("alpha", "Alpha secret plan")
    key = key_make(world)
    for scheme in ("Api-Key", "Bearer", "api-key"):
        response = api_client(key, scheme=scheme).get("/api/v1/projects/")
        assert response.status_code == 200, response.content
        names = [p["name"] for p in response.json()["results"]]
        assert "Alpha secret plan" in names and not any(name.startswith("beta") for name in names)


def test_no_key_a_wrong_key_and_the_portal_session_get_401(world: World) -> None:
    _project("alpha", "Alpha secret plan")
    key = key_make(world)
    prefix = key.split(".")[0]
    for presented in (None, "", "nonsense", f"{prefix}.wrong-secret", f"{prefix}.", "." + key, key + "x"):
        response = api_client(presented).get("/api/v1/projects/")
        assert response.status_code == 401, (presented, response.content)
        assert "Alpha secret plan" not in response.content.decode()
        assert response["WWW-Authenticate"].startswith("Api-Key")
    session = world.client("alpha_owner", on="alpha")  # a signed-in owner, but no key
    assert session.get("/api/v1/projects/").status_code == 401


def test_a_key_of_one_company_gets_nothing_on_another_companys_host(world: World) -> None:
    _project("alpha", "Alpha secret plan")
    beta_project = _project("beta", "Beta secret plan")
    alpha_key = key_make(world, "alpha", scope=Scope.WRITE)
    for path in ("/api/v1/projects/", f"/api/v1/projects/{beta_project.pk}/", "/api/v1/charges/"):
        response = api_client(alpha_key, on="beta").get(path)
        assert response.status_code == 401
        assert "secret plan" not in response.content.decode()
    refused = api_client(alpha_key, on="beta").post(
        "/api/v1/projects/", {"name": "x", "requirements_text": "As a user I want x"}, content_type="application/json"
    )
    assert refused.status_code == 401
    with schema_context("beta"):
        assert not Project.objects.filter(name="x").exists()
    # and the beta project does not exist for an alpha key on its own host either
    assert api_client(alpha_key).get(f"/api/v1/projects/{beta_project.pk + 1000}/").status_code == 404


def test_expired_and_revoked_keys_get_401(world: World) -> None:
    expired = key_make(world, expires_at=timezone.now() + timedelta(seconds=1))
    with schema_context("alpha"):
        ApiKey.objects.filter(prefix=expired.split(".")[0]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client(expired).get("/api/v1/projects/").status_code == 401

    revoked = key_make(world)
    assert api_client(revoked).get("/api/v1/projects/").status_code == 200
    with schema_context("alpha"):
        api_key_revoke(key=ApiKey.objects.get(prefix=revoked.split(".")[0]), user=world.users["alpha_owner"])
    assert api_client(revoked).get("/api/v1/projects/").status_code == 401


def test_a_key_stops_when_its_maker_leaves_the_company(world: World) -> None:
    key = key_make(world)
    assert api_client(key).get("/api/v1/projects/").status_code == 200
    Membership.objects.filter(user=world.users["alpha_owner"], customer=world.customers["alpha"]).delete()
    assert api_client(key).get("/api/v1/projects/").status_code == 401


def test_the_key_is_stored_hashed_and_its_last_use_recorded(world: World) -> None:
    key = key_make(world)
    prefix, secret = key.split(".")
    with schema_context("alpha"):
        row = ApiKey.objects.get(prefix=prefix)
        assert secret not in row.hashed_key and key not in row.hashed_key and row.hashed_key.startswith("sha512$$")
        assert row.last_used_at is None
    used: list[dict[str, object]] = []

    def receive(sender: object, **kwargs: object) -> None:
        used.append(kwargs)

    api_key_used.connect(receive)
    try:
        api_client(key).get("/api/v1/projects/")
    finally:
        api_key_used.disconnect(receive)
    with schema_context("alpha"):
        assert ApiKey.objects.get(prefix=prefix).last_used_at is not None
    assert len(used) == 1 and used[0]["schema_name"] == "alpha" and used[0]["path"] == "/api/v1/projects/"


def test_too_many_refused_keys_from_one_address_get_429(world: World, settings: object) -> None:
    settings.HIVE_API_REFUSALS_PER_MINUTE = 3  # type: ignore[attr-defined]
    good = key_make(world)
    for _ in range(3):
        assert api_client("abcdefgh.guess").get("/api/v1/projects/").status_code == 401
    assert api_client("abcdefgh.guess").get("/api/v1/projects/").status_code == 429
    assert api_client(good).get("/api/v1/projects/").status_code == 429  # the address waits, whatever it sends
    cache.clear()
    assert api_client(good).get("/api/v1/projects/").status_code == 200


def test_each_key_is_throttled_on_its_own(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    busy, other = key_make(world), key_make(world)
    assert [api_client(busy).get("/api/v1/projects/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert api_client(other).get("/api/v1/projects/").status_code == 200


def test_a_suspended_company_gets_403(world: World) -> None:
    key = key_make(world)
    customer = world.customers["alpha"]
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    host_cache.clear()
    try:
        assert api_client(key).get("/api/v1/projects/").status_code == 403
    finally:
        Customer.objects.filter(pk=customer.pk).update(status=customer.status)
        host_cache.clear()


def test_key_creation_is_announced(world: World) -> None:
    from api.signals import api_key_created

    made: list[dict[str, object]] = []

    def receive(sender: object, **kwargs: object) -> None:
        made.append(kwargs)

    api_key_created.connect(receive)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            key_make(world, scope=Scope.WRITE)
    finally:
        api_key_created.disconnect(receive)
    assert len(made) == 1 and made[0]["user"] == world.users["alpha_owner"] and made[0]["schema_name"] == "alpha"
    assert Role.OWNER  # the maker was an owner


def test_hostile_keys_and_ids_are_refused_without_an_error(world: World) -> None:
    key = key_make(world)
    for presented in ("x" * 10_000, "a.b" * 3000, "é€.ünïcode", "\t", "Api-Key Api-Key", "' OR 1=1 --.x"):
        assert api_client(presented).get("/api/v1/projects/").status_code == 401
    for path in ("projects/99999999999999999999999999/", "projects/9223372036854775808/quotes/1/"):
        assert api_client(key).get(f"/api/v1/{path}").status_code == 404


def test_key_creation_use_and_revocation_are_audited(world: World) -> None:
    from tenants.models import AuditEntry

    key = key_make(world, scope=Scope.WRITE)
    prefix = key.split(".")[0]
    for _ in range(3):  # three requests in one minute: one recorded use
        assert api_client(key).get("/api/v1/projects/").status_code == 200
    with schema_context("alpha"):
        api_key_revoke(key=ApiKey.objects.get(prefix=prefix), user=world.users["alpha_owner"])
    entries = list(
        AuditEntry.objects.filter(action__startswith="api_key.", detail__prefix=prefix)
        .order_by("pk")
        .values_list("action", "actor__email", "tenant__schema_name")
    ) + list(
        AuditEntry.objects.filter(action="api_key.used", actor_label__contains=prefix).values_list(
            "action", "actor__email", "tenant__schema_name"
        )
    )
    assert entries == [
        ("api_key.created", "alpha-owner@example.test", "alpha"),
        ("api_key.revoked", "alpha-owner@example.test", "alpha"),
        ("api_key.used", "alpha-owner@example.test", "alpha"),
    ]
    used = AuditEntry.objects.get(action="api_key.used", actor_label__contains=prefix)
    assert (used.detail["path"], used.ip, used.object_type) == ("/api/v1/projects/", "127.0.0.1", "api.apikey")
    assert key.split(".")[1] not in str(AuditEntry.objects.filter(actor_label__contains=prefix).values())
