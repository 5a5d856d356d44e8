"""The portal served for a benchmark: uvicorn running ``hive.asgi`` plus a bare view to compare it
with, the percentile the tables print, and the admin SQL that makes a scratch database. Shared by
bench/live.py and bench/api.py (each sets its own environment before starting the server)."""

from __future__ import annotations

from typing import Any


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def server_application() -> Any:
    """uvicorn's app factory: the portal's ASGI application plus the bare baseline view."""
    from hive.asgi import application  # noqa: I001  (first: it sets Django up)

    from django.http import HttpRequest, HttpResponse
    from django.urls import path

    import hive.urls_public

    def bare(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"ok", content_type="text/plain")

    hive.urls_public.urlpatterns.append(path("bench/bare/", bare))
    return application


def serve(port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "bench.portal_server:server_application",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        lifespan="off",
    )


def admin_execute(sql: str) -> None:
    """Run ``sql`` on the server's maintenance database (CREATE / DROP DATABASE)."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(sql)
