"""The API in Chromium: an owner makes a key on the API-keys page and reads it once; the docs
page (Swagger UI) renders the served schema from our own static files, asks no other origin for
anything, and nothing on it is refused under the Content-Security-Policy (the ``page`` fixture
fails on a violation)."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import schema_context

from api.models import ApiKey
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_makes_a_key_and_reads_the_docs(page: Any, site: str, world: World) -> None:
    page.goto(f"{site}/login/")
    page.fill("input[name=username]", "alpha-owner@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**alpha.hive.localhost**/")
    origin = page.url.rstrip("/")

    page.click("text=API keys")
    page.fill("input[name=name]", "CI pipeline")
    page.select_option("select[name=scope]", "write")
    page.click("button:has-text('Make key')")
    key = page.inner_text("[data-testid=clear-key]")
    prefix = key.split(".")[0]
    with schema_context("alpha"):
        assert ApiKey.objects.get(prefix=prefix).name == "CI pipeline"
    page.reload()  # shown once: not on the page again
    assert key not in page.content() and f"{prefix}…" in page.content()

    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if "localhost" not in r.url.split("/")[2] else None)
    page.goto(origin + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Agent Hive API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("text=/api/v1/projects/")
    page.wait_for_timeout(300)
    assert external == []
