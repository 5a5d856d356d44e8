import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_schema_image"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("action", models.CharField(db_index=True, max_length=60)),
                ("actor_label", models.CharField(blank=True, max_length=200)),
                ("tenant_label", models.CharField(blank=True, max_length=120)),
                ("ip", models.GenericIPAddressField(blank=True, null=True)),
                ("object_type", models.CharField(blank=True, max_length=100)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("object_label", models.CharField(blank=True, max_length=300)),
                ("detail", models.JSONField(blank=True, default=dict)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tenants.customer",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "audit entries",
                "ordering": ["-at", "-id"],
                "indexes": [models.Index(fields=["tenant", "-at"], name="audit_tenant_at")],
            },
        ),
        # The audit trail is evidence: the database itself refuses to change or delete a row,
        # whatever path the write takes (queryset.update, raw SQL, admin).
        migrations.RunSQL(
            sql="""
                CREATE FUNCTION tenants_auditentry_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'audit entry % is append-only', OLD.id
                        USING ERRCODE = 'check_violation';
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER tenants_auditentry_append_only
                    BEFORE UPDATE OR DELETE ON tenants_auditentry
                    FOR EACH ROW EXECUTE FUNCTION tenants_auditentry_append_only();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS tenants_auditentry_append_only ON tenants_auditentry;
                DROP FUNCTION IF EXISTS tenants_auditentry_append_only();
            """,
        ),
    ]
