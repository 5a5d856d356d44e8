"""The owners' API-key page (api.views_portal): make a key (shown once, kept hashed), see prefix,
scope, expiry and last use, revoke; nobody but an owner of the company reaches it."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from api.models import ApiKey
from tests.api.conftest import api_client
from tests.world import World

pytestmark = pytest.mark.django_db
PAGE = "/settings/api-keys/"


def _clear_key(html: str) -> str:
    match = re.search(r'data-testid="clear-key">([^<]+)<', html)
    assert match, html[:3000]
    return match.group(1)


def test_an_owner_makes_a_key_that_is_shown_once_and_opens_the_api(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    assert owner.get(PAGE).status_code == 200
    response = owner.post(PAGE, {"name": "CI pipeline", "scope": "write", "expires_in_days": "30"})
    assert response.status_code == 200
    html = response.content.decode()
    key = _clear_key(html)
    prefix = key.split(".")[0]
    with schema_context("alpha"):
        row = ApiKey.objects.get(prefix=prefix)
        assert (row.name, row.prefix, row.scope, row.created_by_email) == (
            "CI pipeline",
            prefix,
            "write",
            "alpha-owner@example.test",
        )
        assert row.expires_at is not None and key.split(".")[1] not in row.hashed_key
    assert response["Cache-Control"].startswith("max-age=0")  # the clear key is never cached

    later = owner.get(PAGE).content.decode()
    assert key not in later and f"{prefix}…" in later and "never" in later  # last used: never
    assert api_client(key).get("/api/v1/projects/").status_code == 200
    assert "never</td>" not in owner.get(PAGE).content.decode().split(f"key-{prefix}")[1].split("</tr>")[0]


def test_an_owner_revokes_a_key(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    key = _clear_key(owner.post(PAGE, {"name": "Old", "scope": "read", "expires_in_days": ""}).content.decode())
    prefix = key.split(".")[0]
    assert owner.post(f"{PAGE}{prefix}/revoke/").status_code == 302
    assert api_client(key).get("/api/v1/projects/").status_code == 401
    assert "revoked" in owner.get(PAGE).content.decode()
    assert owner.post(f"{PAGE}nosuchkey/revoke/").status_code == 404


@pytest.mark.parametrize("user", ["alpha_member", "alpha_viewer", "staff", "beta_owner", "outsider"])
def test_nobody_but_an_owner_of_the_company_reaches_the_page(world: World, user: str) -> None:
    owner = world.client("alpha_owner", on="alpha")
    key = _clear_key(owner.post(PAGE, {"name": "Mine", "scope": "read"}).content.decode())
    prefix = key.split(".")[0]
    client = world.client(user, on="alpha")
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"name": "Sneaky", "scope": "write"}).status_code == 404
    assert client.post(f"{PAGE}{prefix}/revoke/").status_code == 404
    with schema_context("alpha"):
        assert not ApiKey.objects.filter(name="Sneaky").exists()
        assert ApiKey.objects.get(prefix=prefix).revoked_at is None


def test_a_key_is_made_only_when_the_reauthentication_hook_allows(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.views_portal.api_key_creation_allowed", lambda request: False)
    response = world.client("alpha_owner", on="alpha").post(PAGE, {"name": "CI", "scope": "write"})
    assert response.status_code == 302 and response["Location"].startswith("/account/reauthenticate/")
    with schema_context("alpha"):
        assert not ApiKey.objects.filter(name="CI").exists()


def test_hostile_form_input_is_refused(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    for data in (
        {"name": "   ", "scope": "read"},
        {"name": "x" * 81, "scope": "read"},
        {"name": "ok", "scope": "admin"},
        {"name": "ok", "scope": "read", "expires_in_days": "-5"},
    ):
        assert owner.post(PAGE, data).status_code == 400, data
    with schema_context("alpha"):
        assert not ApiKey.objects.filter(name__in=["ok", "x" * 81]).exists()
    shown = owner.post(PAGE, {"name": "<script>alert(1)</script>", "scope": "read"}).content.decode()
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown


def test_owners_find_the_page_in_the_navigation(world: World) -> None:
    assert f'href="{PAGE}"' in world.client("alpha_owner", on="alpha").get("/").content.decode()
    assert f'href="{PAGE}"' not in world.client("alpha_member", on="alpha").get("/").content.decode()
