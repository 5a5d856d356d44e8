"""A schema made from the recorded image of the tenant migrations is the schema migrating makes:
same tables, columns, constraints, indexes, functions, triggers, migration records and content
types. The image is stored once and reused; rows written by a migration refuse the image."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from tenants import schema_image
from tenants.models import SchemaImage

pytestmark = pytest.mark.django_db

CATALOG = {
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default,
               character_maximum_length, numeric_precision, numeric_scale, is_identity, identity_generation
        FROM information_schema.columns WHERE table_schema = %(schema)s""",
    "constraints": """
        SELECT rel.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = %(schema)s""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s",
    "triggers": """
        SELECT rel.relname, tg.tgname, pg_get_triggerdef(tg.oid)
        FROM pg_trigger tg JOIN pg_class rel ON rel.oid = tg.tgrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        WHERE ns.nspname = %(schema)s AND NOT tg.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosrc
        FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace WHERE ns.nspname = %(schema)s""",
    "sequences": "SELECT sequence_name, data_type FROM information_schema.sequences WHERE sequence_schema = %(schema)s",
}


def _catalog(schema: str) -> dict[str, set[tuple[Any, ...]]]:
    found: dict[str, set[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for name, sql in CATALOG.items():
            cursor.execute(sql, {"schema": schema})
            found[name] = {
                tuple(str(v).replace(f'"{schema}".', "").replace(f"{schema}.", "") for v in row)
                for row in cursor.fetchall()
            }
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        found["migrations"] = set(cursor.fetchall())
        cursor.execute("SELECT app_label, model FROM django_content_type")
        found["content_types"] = set(cursor.fetchall())
    return found


def _migrated(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
    schema_image.tenant_connection.set_schema_to_public()


def test_a_replayed_schema_equals_a_migrated_one() -> None:
    schema_image.forget_images()
    SchemaImage.objects.all().delete()

    schema_image.create_tenant_schema("img_replayed")
    _migrated("img_migrated")

    replayed, migrated = _catalog("img_replayed"), _catalog("img_migrated")
    assert len(migrated["columns"]) > 200 and migrated["triggers"] and migrated["functions"]
    assert ("projects", "0003_payments") in migrated["migrations"]
    assert ("projects", "project") in migrated["content_types"]
    for part in CATALOG.keys() | {"migrations", "content_types"}:
        assert replayed[part] == migrated[part], part
    # Nothing of the scratch schema the image was recorded in is left.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [schema_image.CAPTURE_SCHEMA])
        assert cursor.fetchone()[0] == 0


def test_the_quote_trigger_works_in_a_replayed_schema() -> None:
    schema_image.create_tenant_schema("img_trigger")
    with schema_context("img_trigger"), connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'projects_quote_frozen'")
        assert "cannot change" in cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'projects_quote_frozen'")
        assert cursor.fetchone()[0] >= 1


def test_the_image_is_stored_once_and_reused_by_other_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    schema_image.forget_images()
    SchemaImage.objects.all().delete()

    schema_image.create_tenant_schema("img_first")
    assert SchemaImage.objects.count() == 1
    stored = SchemaImage.objects.get()
    assert stored.fingerprint == schema_image.migrations_fingerprint()
    assert len(stored.statements) > 50

    # Another process holds no image in memory: it reads the stored one instead of recording anew.
    schema_image.forget_images()

    def no_capture() -> None:
        raise AssertionError("the stored image should have been used")

    monkeypatch.setattr(schema_image, "_capture", no_capture)
    schema_image.create_tenant_schema("img_second")
    assert _catalog("img_second")["migrations"] == _catalog("img_first")["migrations"]


def test_a_changed_migration_makes_a_new_image(monkeypatch: pytest.MonkeyPatch) -> None:
    schema_image.forget_images()
    SchemaImage.objects.all().delete()
    schema_image.create_tenant_schema("img_old")
    current = schema_image.migrations_fingerprint()

    monkeypatch.setattr(schema_image, "_fingerprint", "0" * 64)  # as if a migration file changed
    schema_image.create_tenant_schema("img_new")

    assert set(SchemaImage.objects.values_list("fingerprint", flat=True)) == {current, "0" * 64}
    assert _catalog("img_new") == _catalog("img_old")


def test_a_migration_that_writes_rows_refuses_the_image() -> None:
    statements: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE image_probe (id int)")
    with (
        pytest.raises(schema_image.ImageRefused, match="writes rows"),
        schema_image._recording(statements),
        connection.cursor() as cursor,
    ):
        cursor.execute("INSERT INTO image_probe VALUES (1)")
    # DDL through the schema editor is recorded, not refused.
    with schema_image._recording(statements), connection.schema_editor() as editor:
        editor.execute("CREATE TEMPORARY TABLE image_probe_two (id int)")
    assert statements == ["CREATE TEMPORARY TABLE image_probe_two (id int)"]


def test_a_refused_image_falls_back_to_migrating(monkeypatch: pytest.MonkeyPatch) -> None:
    from tenants.models import Customer

    schema_image.forget_images()
    SchemaImage.objects.all().delete()

    def refuse() -> None:
        raise schema_image.ImageRefused("a migration writes rows: INSERT ...")

    monkeypatch.setattr(schema_image, "_capture", refuse)
    customer = Customer(schema_name="img_fallback", name="Fallback Ltd")
    customer.save(verbosity=0)

    assert ("projects", "0003_payments") in _catalog("img_fallback")["migrations"]
    assert not SchemaImage.objects.exists()
