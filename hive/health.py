"""``/healthz``: is the database reachable, is Redis reachable, are any migrations pending.

Pending migrations are checked for the public schema and for every tenant schema (one small query
per tenant against its ``django_migrations``), because a tenant left behind is an outage for it.
"""

from __future__ import annotations

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


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report: dict[str, object] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
        pending = _pending_public()
        behind = _tenants_behind()
        report["migrations"] = {
            "pending": bool(pending or behind),
            "public": pending,
            "tenants_behind": behind,
        }
    except DatabaseError as exc:
        healthy = False
        report["database"] = f"error: {exc.__class__.__name__}"
    try:
        Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
        report["redis"] = "ok"
    except RedisError as exc:
        healthy = False
        report["redis"] = f"error: {exc.__class__.__name__}"
    report["status"] = "ok" if healthy else "error"
    return JsonResponse(report, status=200 if healthy else 503)
