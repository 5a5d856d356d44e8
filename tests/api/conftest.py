"""The API tests' helpers: keys made in a company's schema, and clients that present them on a
company's host."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from agents.pools import pools_ensure
from agents.roles import ROLES
from api.keys import api_key_create
from api.models import Scope
from tests.world import World, host_of


def key_make(
    world: World, slug: str = "alpha", *, scope: Scope = Scope.READ, by: str = "", expires_at: datetime | None = None
) -> str:
    """A new key of company ``slug`` made by ``by`` (its owner by default); the clear key."""
    with schema_context(slug):
        _, key = api_key_create(
            name=f"{scope} key", scope=scope, user=world.users[by or f"{slug}_owner"], expires_at=expires_at
        )
    return key


def api_client(key: str | None, on: str = "alpha", scheme: str = "Api-Key") -> Client:
    headers: dict[str, Any] = {"HTTP_HOST": host_of(on)}
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"{scheme} {key}"
    return Client(**headers)


@pytest.fixture
def no_free_agents(world: World) -> None:
    """Every pool empty: tasks become ready but nothing is sent to a broker (no worker runs here)."""
    pools_ensure(sizes={role.value: 0 for role in ROLES})
