"""A session left open past HIVE_REAUTH_SECONDS cannot turn into a durable API key, nor accept a
delivery (which charges its final milestone), without the person proving it is them again."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context

from api.models import ApiKey
from tenants.reauth import SESSION_KEY
from tests.world import World

pytestmark = pytest.mark.django_db


def _stale(client) -> None:  # type: ignore[no-untyped-def]
    session = client.session
    session[SESSION_KEY] = int(time.time()) - 24 * 3600
    session.save()


def test_a_stale_session_is_asked_to_confirm_before_making_an_api_key(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    _stale(owner)

    answer = owner.post("/settings/api-keys/", {"name": "ci", "scope": "write", "expires": ""})

    assert answer.status_code == 302 and answer["Location"].startswith("/account/reauthenticate/")
    with schema_context("alpha"):
        assert not ApiKey.objects.filter(name="ci").exists()


def test_a_stale_session_is_asked_to_confirm_before_approving(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    _stale(owner)

    answer = owner.post("/projects/1/tasks/1/approve/")

    assert answer.status_code == 302 and answer["Location"].startswith("/account/reauthenticate/")
