"""Fixtures every test module shares: the session-wide ``world`` of customers and users."""

from __future__ import annotations

import os
from collections.abc import Iterator

os.environ.setdefault("HIVE_TESTING", "1")

import pytest
from django.core import mail

from tests.world import World


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
def _locmem_email(settings: pytest.FixtureRequest) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    mail.outbox = []
