"""Fixtures every test module shares: the session-wide ``world`` of customers and users."""

from __future__ import annotations

import os
from collections.abc import Iterator

os.environ.setdefault("HIVE_TESTING", "1")

import pytest
from django.core import mail
from django.db import connections
from django.test import TransactionTestCase

from tests.world import World

_flush = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]


def _flush_on_public_schema(self: TransactionTestCase) -> None:
    """A transactional test's flush empties the tables of the *current* schema: after a portal
    request that is a tenant's. Go back to public first, so the flush clears the public tables
    it is meant to and never a tenant's."""
    for connection in connections.all():
        connection.set_schema_to_public()  # type: ignore[attr-defined]
    _flush(self)


TransactionTestCase._fixture_teardown = _flush_on_public_schema  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _world_session(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> World:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        return World.build()


@pytest.fixture
def world(_world_session: World, django_db_blocker: pytest.FixtureRequest) -> Iterator[World]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        _world_session.ensure()
    yield _world_session


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    """Cached memberships and sessions must not outlive the rows a test rolled back."""
    from django.core.cache import caches

    from tenants import host_cache

    for cache in caches.all():
        cache.clear()
    # The in-process host → customer cache too: a customer row saved by a rolled-back test (e.g.
    # its two-factor requirement) must not serve the next test.
    host_cache.clear()


@pytest.fixture(autouse=True)
def _locmem_email(settings: pytest.FixtureRequest) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    mail.outbox = []
