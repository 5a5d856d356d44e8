"""Error pages of both URL roots, rendered on the request's own tenant schema.

Under ASGI Django builds an error response (``response_for_exception``) in a worker thread of
its own (``sync_to_async(..., thread_sensitive=False)``): that thread's database connection is not
the one ``HostTenantMiddleware`` pointed at the customer's schema. The portal's layout reads tenant
tables (the header's unread notifications), so a 403 there failed with "relation does not exist"
and became a 500 — with DEBUG on, Django's debug page. Each handler here points the connection of
the thread it runs on at ``request.tenant`` for the rendering and puts it back afterwards.

A handler that fails anyway is logged with its traceback (Django's fallback does not log it) and
answers its status with a page that needs no database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.views import defaults

from api import errors as api_errors

logger = logging.getLogger("hive.errors")

PLAIN = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · Agent Hive</title>'
    '<link rel="stylesheet" href="{stylesheet}"></head><body><main><section class="card" '
    'data-testid="error-{status}"><h1>{title}</h1><p><a class="btn secondary" href="/">Back to the start page</a>'
    "</p></section></main></body></html>"
)


@contextmanager
def request_schema(request: HttpRequest) -> Iterator[None]:
    """The connection of the current thread on ``request.tenant``'s schema (public without one)."""
    tenant = getattr(request, "tenant", None)
    previous = getattr(connection, "tenant", None)
    wanted = tenant.schema_name if tenant is not None else None
    if wanted is None or connection.schema_name == wanted:  # type: ignore[attr-defined]
        yield
        return
    connection.set_tenant(tenant)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if previous is not None:
            connection.set_tenant(previous)  # type: ignore[attr-defined]
        else:
            connection.set_schema_to_public()  # type: ignore[attr-defined]


def _rendered(request: HttpRequest, status: int, title: str, render: Callable[[], HttpResponse]) -> HttpResponse:
    try:
        with request_schema(request):
            response = render()
            if not getattr(response, "is_rendered", True):
                response.render()  # type: ignore[attr-defined]
            return response
    except Exception:
        logger.exception("The %s page of %s failed to render", status, request.path)
        return HttpResponse(PLAIN.format(title=title, status=status, stylesheet=_stylesheet()), status=status)


def _stylesheet() -> str:
    try:
        return static("css/hive.css")
    except Exception:  # no manifest entry: the page stays readable unstyled
        return "/static/css/hive.css"


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _rendered(request, 400, "Bad request", lambda: defaults.bad_request(request, exception))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _rendered(request, 403, "You cannot do this here", lambda: defaults.permission_denied(request, exception))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _rendered(request, 404, "There is nothing here", lambda: api_errors.not_found(request, exception))


def server_error(request: HttpRequest) -> HttpResponse:
    return _rendered(request, 500, "Something went wrong on our side", lambda: defaults.server_error(request))
