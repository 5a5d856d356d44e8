"""``/healthz`` reports the database, Redis and pending migrations."""

from __future__ import annotations

import pytest

from tests.world import World

pytestmark = pytest.mark.django_db


def test_it_reports_database_redis_and_no_pending_migrations(world: World) -> None:
    response = world.client().get("/healthz")
    assert response.status_code == 200
    report = response.json()
    assert report["database"] == "ok"
    assert report["redis"] == "ok"
    assert report["migrations"]["pending"] is False
    assert report["status"] == "ok"


def test_it_fails_when_redis_is_unreachable(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = world.client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")
