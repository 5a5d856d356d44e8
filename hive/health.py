"""``/healthz``: liveness for anyone, the detailed report for staff and monitoring.

Anyone (a load balancer, an uptime probe) gets ``{"status": "ok"}`` or a 503 from two O(1) probes
— ``SELECT 1`` and a Redis ``PING`` — and nothing else: no schema names, no migration state, and
no work that grows with the number of customers, so the public URL cannot be used to load the
database or to list customers.

Staff users, and callers sending ``Authorization: Bearer <HIVE_HEALTH_TOKEN>``, get the details:
the same probes plus pending migrations for the public schema and for every tenant schema (one
small query per tenant against its ``django_migrations``, because a tenant left behind is an
outage for it).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django_tenants.utils import get_tenant_model, schema_context
from redis import Redis
from redis.exceptions import RedisError


def _pending_public() -> list[str]:
    with schema_context("public"):
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        plan = executor.migration_plan(targets)
        shared = {app.split(".")[-1] for app in settings.SHARED_APPS}
        return sorted({f"{m.app_label}.{m.name}" for m, _ in plan if m.app_label in shared})


def _tenants_behind() -> list[str]:
    tenant_labels = {app.split(".")[-1] for app in settings.TENANT_APPS}
    executor = MigrationExecutor(connection)
    expected = {(app, name) for app, name in executor.loader.disk_migrations if app in tenant_labels}
    behind = []
    for schema in get_tenant_model().objects.values_list("schema_name", flat=True):
        with connection.cursor() as cursor:
            # Schema names come from our own Customer rows, validated as DNS labels at signup.
            cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(schema)}.django_migrations")  # noqa: S608
            applied = set(cursor.fetchall())
        if expected - applied:
            behind.append(schema)
    return behind


def _may_see_details(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token: str = settings.HIVE_HEALTH_TOKEN
    if not token:
        return False
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def _redis_error() -> str:
    try:
        Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
    except RedisError as exc:
        return f"error: {exc.__class__.__name__}"
    return ""


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database_ok = _database_ok()
    redis_error = _redis_error()
    healthy = database_ok and not redis_error
    status = 200 if healthy else 503
    if not _may_see_details(request):
        return JsonResponse({"status": "ok" if healthy else "error"}, status=status)
    report: dict[str, object] = {
        "database": "ok" if database_ok else "error",
        "redis": redis_error or "ok",
    }
    if database_ok:
        try:
            pending = _pending_public()
            behind = _tenants_behind()
        except DatabaseError as exc:
            healthy, status = False, 503
            report["database"] = f"error: {exc.__class__.__name__}"
        else:
            report["migrations"] = {"pending": bool(pending or behind), "public": pending, "tenants_behind": behind}
    report["status"] = "ok" if healthy else "error"
    return JsonResponse(report, status=status)
