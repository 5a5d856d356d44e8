"""``/healthz``: a public O(1) liveness answer; details (database, Redis, pending migrations per
schema) only for staff and the monitoring token."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import Customer, Domain
from tests.world import World

pytestmark = pytest.mark.django_db

TOKEN = "monitoring-token-0123456789"


@pytest.fixture(autouse=True)
def _token(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HIVE_HEALTH_TOKEN = TOKEN


def test_anyone_gets_the_status_and_nothing_else(world: World) -> None:
    for client in (world.client(), world.client(on="alpha"), world.client("alpha_owner", on="alpha")):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert b"alpha" not in response.content and b"migrations" not in response.content


def test_the_public_answer_runs_the_same_queries_however_many_customers_there_are(world: World) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert world.client().get("/healthz").status_code == 200
        return len(captured)

    before = queries()
    for n in range(3):
        customer = Customer(schema_name=f"health{n}", name=f"Health {n}")
        customer.save(verbosity=0)
        Domain.objects.create(domain=f"health{n}.hive.localhost", tenant=customer, is_primary=True)
    connection.set_schema_to_public()  # type: ignore[attr-defined]

    assert queries() == before <= 2  # SELECT 1 (and at most the search_path it runs under)


def test_staff_get_the_details(world: World) -> None:
    report = world.client("staff").get("/healthz").json()
    assert report["database"] == "ok" and report["redis"] == "ok" and report["status"] == "ok"
    assert report["migrations"] == {"pending": False, "public": [], "tenants_behind": []}


def test_the_token_gets_the_details_and_a_wrong_one_does_not(world: World) -> None:
    good = world.client().get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert good["migrations"]["pending"] is False
    for header in (f"Bearer {TOKEN}x", "Bearer ", TOKEN, f"Basic {TOKEN}"):
        assert world.client().get("/healthz", HTTP_AUTHORIZATION=header).json() == {"status": "ok"}


def test_no_token_configured_means_staff_only(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HIVE_HEALTH_TOKEN = ""
    assert world.client().get("/healthz", HTTP_AUTHORIZATION="Bearer ").json() == {"status": "ok"}


def test_a_schema_behind_on_migrations_is_listed_in_the_details(world: World) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM beta.django_migrations WHERE app = 'projects' AND name = '0001_initial'")
    report = world.client().get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert report["migrations"] == {"pending": True, "public": [], "tenants_behind": ["beta"]}


def test_it_fails_when_redis_is_unreachable(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    public = world.client().get("/healthz")
    assert public.status_code == 503 and public.json() == {"status": "error"}
    detailed = world.client().get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert detailed.status_code == 503 and detailed.json()["redis"].startswith("error")
