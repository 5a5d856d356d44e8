"""The audit trail (tenants.audit): one append-only row per recorded action, with actor, customer,
client address, time and object; the database refuses to change or delete a row."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django_tenants.utils import schema_context

from tenants.audit import Action, audit_record
from tenants.models import AuditEntry, AuditEntryImmutableError
from tests.world import World

pytestmark = pytest.mark.django_db


def test_it_records_actor_tenant_ip_and_object(world: World) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    request.user = world.users["alpha_owner"]
    request.customer = world.customers["alpha"]  # type: ignore[attr-defined]
    membership = world.users["alpha_member"].memberships.get()

    entry = audit_record(action=Action.ROLE_CHANGED, request=request, obj=membership, detail={"to": "viewer"})

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.actor == world.users["alpha_owner"]
    assert stored.actor_label == "alpha-owner@example.test"
    assert stored.tenant == world.customers["alpha"]
    assert stored.tenant_label == "alpha"
    assert stored.ip == "203.0.113.9"
    assert (stored.object_type, stored.object_id) == ("tenants.membership", str(membership.pk))
    assert stored.detail == {"to": "viewer"}


def test_an_agent_acts_under_its_run_label_and_the_tenant_comes_from_the_schema(world: World) -> None:
    with schema_context("beta"):
        entry = audit_record(action=Action.TASK_CANCELLED, actor_label="agent developer-2 run 17")

    assert entry.actor is None
    assert entry.actor_label == "agent developer-2 run 17"
    assert entry.tenant == world.customers["beta"]


def test_the_model_refuses_to_change_or_delete_an_entry(world: World) -> None:
    entry = audit_record(action=Action.LOGIN_FAILED, actor_label="nobody@example.test")
    entry.action = "login.succeeded"
    with pytest.raises(AuditEntryImmutableError):
        entry.save()
    with pytest.raises(AuditEntryImmutableError):
        entry.delete()


def test_the_database_refuses_update_and_delete_by_any_path(world: World) -> None:
    entry = audit_record(action=Action.LOGIN_FAILED, actor_label="nobody@example.test")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="login.succeeded")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenants_auditentry WHERE id = %s", [entry.pk])

    assert AuditEntry.objects.get(pk=entry.pk).action == Action.LOGIN_FAILED
