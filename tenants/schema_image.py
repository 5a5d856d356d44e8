"""A new customer's schema, made from a recorded image of the tenant migrations.

Migrating a fresh schema costs about a second and a half here, nearly all of it Django rendering
the migration state of every app, not SQL. The SQL itself is the same for every customer, so it is
recorded once: the tenant migrations run in a scratch schema inside a savepoint that is rolled
back, and every statement the schema editor executes is kept. A new schema then gets those
statements replayed with its own ``search_path``, the ``django_migrations`` rows of a migrated
schema, and the content types that ``post_migrate`` would have created.

The image is stored in the public schema under a fingerprint of everything that shapes the SQL
(each migration file's bytes, the Django and django-tenants versions, the tenant/shared app
lists), so every process reuses it and a changed migration makes a new one. It is refused —
and the schema migrated the ordinary way — when replaying could not reproduce a migrated schema:
a migration writing rows itself (``RunPython``), or SQL that names the scratch schema.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
from django.apps import apps as global_apps
from django.conf import settings
from django.core.management.sql import emit_post_migrate_signal
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_tenants.utils import quote_schema_name

log = logging.getLogger(__name__)
# django-tenants' connection (set_schema, set_schema_to_public), which the stubs do not know.
tenant_connection: Any = connection

CAPTURE_SCHEMA = "hive_schema_image_capture"
WRITES = ("insert", "update", "delete", "copy", "merge", "truncate")

_images: dict[str, Image] = {}
_fingerprint: str | None = None


@dataclass(frozen=True)
class Image:
    statements: list[str]  # the schema editor's SQL, in order, parameters merged
    applied: list[tuple[str, str]]  # the (app, name) rows a migrated schema's django_migrations holds


class ImageRefused(Exception):
    """Replaying the recorded SQL would not give the schema that migrating gives."""


def migrations_fingerprint() -> str:
    """What shapes the SQL of the tenant migrations: every migration file's bytes, the Django and
    django-tenants versions and the app lists. Computed once per process."""
    global _fingerprint
    if _fingerprint is None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        digest = hashlib.sha256()
        versions = (django.__version__, importlib.metadata.version("django-tenants"))
        for part in (*versions, settings.TENANT_APPS, settings.SHARED_APPS):
            digest.update(repr(part).encode())
        for key in sorted(loader.disk_migrations):
            source = inspect.getsourcefile(type(loader.disk_migrations[key]))
            assert source is not None
            digest.update(repr(key).encode() + hashlib.sha256(Path(source).read_bytes()).digest())
        _fingerprint = digest.hexdigest()
    return _fingerprint


def create_tenant_schema(schema_name: str) -> None:
    """Create ``schema_name`` holding exactly what migrating it would: tables, constraints,
    indexes, functions, triggers, the migration records and the content types."""
    fingerprint = migrations_fingerprint()
    image = _images.get(fingerprint) or _stored_image(fingerprint)
    if image is None:
        image = _capture()
        _store_image(fingerprint, image)
    _images[fingerprint] = image
    _replay(schema_name, image)


def _stored_image(fingerprint: str) -> Image | None:
    SchemaImage = global_apps.get_model("tenants", "SchemaImage")  # by name: tenants.models imports this module
    stored = SchemaImage.objects.filter(fingerprint=fingerprint).first()
    if stored is None:
        return None
    return Image(statements=list(stored.statements), applied=[(app, name) for app, name in stored.applied])


def _store_image(fingerprint: str, image: Image) -> None:
    SchemaImage = global_apps.get_model("tenants", "SchemaImage")  # by name: tenants.models imports this module
    try:
        with transaction.atomic():
            SchemaImage.objects.create(fingerprint=fingerprint, statements=image.statements, applied=image.applied)
    except IntegrityError:
        pass  # another process stored the same image first


def _capture() -> Image:
    """Migrate a scratch schema inside a savepoint, keep what the schema editor executed and
    which migrations were recorded, roll the schema back."""
    statements: list[str] = []
    with transaction.atomic():
        sid = transaction.savepoint()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{CAPTURE_SCHEMA}"')
            with _recording(statements):
                tenant_connection.set_schema(CAPTURE_SCHEMA, include_public=False)
                MigrationRecorder(connection).ensure_schema()
                tenant_connection.set_schema(CAPTURE_SCHEMA)
                executor = MigrationExecutor(connection)
                targets = executor.loader.graph.leaf_nodes()
                executor.migrate(targets, plan=executor.migration_plan(targets))
            with connection.cursor() as cursor:
                cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
                applied = [(app, name) for app, name in cursor.fetchall()]
        finally:
            tenant_connection.set_schema_to_public()
            transaction.savepoint_rollback(sid)
    named = [sql for sql in statements if CAPTURE_SCHEMA in sql]
    if named:
        raise ImageRefused(f"a migration names its schema: {named[0][:200]}")
    return Image(statements=statements, applied=applied)


@contextmanager
def _recording(statements: list[str]) -> Iterator[None]:
    """Keep every statement the schema editor runs; refuse rows written any other way (a
    ``RunPython`` that inserts data), since replaying DDL would not reproduce them."""
    editor_class = connection.SchemaEditorClass
    editing = [False]

    class RecordingSchemaEditor(editor_class):  # type: ignore[misc,valid-type]
        def execute(self, sql: Any, params: Any = ()) -> None:
            if params is not None:
                sql = self.connection.ops.compose_sql(str(sql), params)
            statements.append(str(sql).strip().rstrip(";"))
            editing[0] = True
            try:
                super().execute(sql, None)
            finally:
                editing[0] = False

    def watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        verb = sql.lstrip().split(None, 1)[0].lower() if sql.strip() else ""
        if not editing[0] and verb in WRITES and "django_migrations" not in sql:
            raise ImageRefused(f"a migration writes rows: {sql[:200]}")
        return execute(sql, params, many, context)

    connection.SchemaEditorClass = RecordingSchemaEditor
    try:
        with connection.execute_wrapper(watch):
            yield
    finally:
        del connection.SchemaEditorClass  # back to the class attribute


def _replay(schema_name: str, image: Image) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")
    tenant_connection.set_schema(schema_name)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(";\n".join(image.statements))
            now = timezone.now()
            cursor.executemany(
                "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)",
                [(app, name, now) for app, name in image.applied],
            )
        # What ``migrate`` does after migrating: the tenant's own content types.
        emit_post_migrate_signal(0, False, connection.alias, apps=global_apps, plan=[])
    finally:
        tenant_connection.set_schema_to_public()


def forget_images() -> None:
    """Drop the images this process holds (tests use it to force a capture)."""
    _images.clear()
