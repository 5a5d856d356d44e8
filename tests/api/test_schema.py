"""The served OpenAPI schema (api.urls, api.schema) and its docs pages, and the API tested against
that schema by schemathesis: generated requests (bounded examples) to every operation through
the WSGI application on a company's host, with a write key of its owner. Zero server errors and
zero answers that the schema does not describe (status codes, content types, bodies, headers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import Scope
from api.throttling import ApiKeyThrottle
from projects.models import Quote, Story, Task
from tests.api.conftest import api_client, key_make
from tests.success.success_world import started_mvp
from tests.world import World, host_of

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Not ``negative_data_rejection``: like most HTTP APIs this one ignores query parameters it does
# not know, which that check counts as accepting invalid input.


def test_the_schema_is_served_on_every_host_and_lists_every_endpoint(world: World) -> None:
    for client in (api_client(None, on="alpha"), world.client()):
        response = client.get("/api/schema/?format=json")
        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"
    paths = set(schema["paths"])
    assert {
        "/api/v1/projects/",
        "/api/v1/projects/{id}/events/",
        "/api/v1/projects/{id}/quotes/{number}/accept/",
        "/api/v1/projects/{id}/tasks/{task_pk}/approve/",
        "/api/v1/projects/{id}/acceptance/",
        "/api/v1/projects/{id}/gates/",
        "/api/v1/reports/daily/",
        "/api/v1/reports/weekly/",
        "/api/v1/charges/",
    } <= paths
    assert "cursor" in {p["name"] for p in schema["paths"]["/api/v1/projects/{id}/events/"]["get"]["parameters"]}
    # Accepting the delivery needs ``confirm: true``; the schema says so.
    approve = schema["paths"]["/api/v1/projects/{id}/tasks/{task_pk}/approve/"]["post"]["requestBody"]
    body = approve["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    confirm = schema["components"]["schemas"][body]["properties"]["confirm"]
    assert confirm["type"] == "boolean" and "accept" in confirm["description"]


def test_the_docs_page_loads_its_scripts_from_our_own_static_files(world: World) -> None:
    response = api_client(None, on="alpha").get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") or s.startswith("/api/") for s in sources), sources
    assert "//" not in "".join(s.split("?")[0] for s in sources)  # no other origin, no CDN
    for source in sources:
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/")), source
    # No inline code that a Content-Security-Policy would have to allow.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and "<style" not in html and " on" not in html
    for script in (s for s in sources if s.startswith("/api/")):
        served = api_client(None, on="alpha").get(script.replace("&amp;", "&"))
        assert served.status_code == 200 and served["Content-Type"].startswith("application/javascript")
        assert "/api/schema/" in served.content.decode()


def test_an_unknown_api_url_is_a_json_404(world: World) -> None:
    for path in ("/api/v1/projects/-1/", "/api/v1/nothing/", "/api/v2/"):
        response = api_client(key_make(world)).get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert "text/html" in world.client("alpha_owner", on="alpha").get("/no/such/page/")["Content-Type"]


# The schema as the API serves it, fetched through the WSGI application when the module is collected
# (the apex host: no database is needed to serve it).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


@pytest.fixture
def fuzz_data(world: World, monkeypatch: pytest.MonkeyPatch, no_free_agents: None) -> Iterator[dict[str, int]]:
    """Rows the generated requests may find, and no throttle in the way of a few hundred requests.

    The WSGI handler closes the database connection when a request ends (Django's test client
    switches that off the same way): here it would close the test's transaction under it.
    """
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "100000/min"})
    with schema_context("alpha"):
        project = started_mvp("Fuzzed", world.users["alpha_owner"], stories=2)
        Quote.objects.create(project=project, number=1, snapshot={"outcome": "tier"}, price_cents=100)
        ids = {
            "id": project.pk,
            "number": 1,
            "story_pk": Story.objects.filter(project=project).values_list("pk", flat=True)[0],
            "task_pk": Task.objects.filter(project=project).values_list("pk", flat=True)[0],
        }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield ids
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_conforms_to_its_schema(case: Any, world: World, fuzz_data: dict[str, int]) -> None:
    key = _key(world)
    # Every other case asks for rows that exist, so answers with data are checked too, not only 404s.
    _calls[0] += 1
    if case.path_parameters and _calls[0] % 2:
        case.path_parameters = {name: fuzz_data.get(name, value) for name, value in case.path_parameters.items()}
    case.call_and_validate(
        base_url=f"http://{host_of('alpha')}",
        headers={"Authorization": f"Api-Key {key}"},
        checks=CHECKS,
    )


_keys: dict[int, str] = {}
_calls = [0]


def _key(world: World) -> str:
    """One owner's write key per test (the test transaction rolls it back afterwards)."""
    from api.models import ApiKey

    with schema_context("alpha"):
        current = ApiKey.objects.filter(name="write key").order_by("-pk").first()
        if current is not None and current.pk in _keys:
            return _keys[current.pk]
    key = key_make(world, scope=Scope.WRITE)
    with schema_context("alpha"):
        _keys[ApiKey.objects.get(prefix=key.split(".")[0]).pk] = key
    return key
