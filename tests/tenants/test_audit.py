"""The audit trail (tenants.audit): one append-only row per recorded action, with actor, customer,
client address, time and object; the database refuses to change or delete a row."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context

from tenants import audit_log, services
from tenants.audit import Action, audit_record
from tenants.models import AuditEntry, AuditEntryImmutableError, Role, StaffEntry, User
from tenants.spreadsheet import FORMULA_STARTS
from tests.world import PASSWORD, World

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


# --- what is recorded -----------------------------------------------------------------------


def entries(action: str, **lookup: object) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, **lookup).order_by("id"))


def test_a_login_on_a_portal_is_recorded_with_the_address(world: World) -> None:
    client = Client(HTTP_HOST="alpha.hive.localhost", REMOTE_ADDR="198.51.100.7")

    response = client.post("/login/", {"username": "alpha-member@example.test", "password": PASSWORD})

    assert response.status_code == 302
    (entry,) = entries(Action.LOGIN_SUCCEEDED)
    assert (entry.actor, entry.tenant, entry.ip) == (
        world.users["alpha_member"],
        world.customers["alpha"],
        "198.51.100.7",
    )


def test_a_login_on_the_public_site_is_recorded_for_the_users_company(world: World) -> None:
    Client(REMOTE_ADDR="198.51.100.8").post("/login/", {"username": "beta-viewer@example.test", "password": PASSWORD})

    (entry,) = entries(Action.LOGIN_SUCCEEDED)
    assert (entry.actor, entry.tenant) == (world.users["beta_viewer"], world.customers["beta"])


def test_a_failed_login_is_recorded_with_the_name_tried_and_never_the_password(world: World) -> None:
    client = Client(HTTP_HOST="alpha.hive.localhost", REMOTE_ADDR="198.51.100.9")

    response = client.post("/login/", {"username": "alpha-owner@example.test", "password": "wrong-guess-123"})

    assert response.status_code == 200
    (entry,) = entries(Action.LOGIN_FAILED)
    assert entry.actor is None and entry.actor_label == "alpha-owner@example.test"
    assert (entry.tenant, entry.ip) == (world.customers["alpha"], "198.51.100.9")
    assert "wrong-guess" not in str(entry.detail)


def test_a_role_change_is_recorded_with_before_and_after(world: World) -> None:
    member = world.users["alpha_member"].memberships.get()

    owner = world.client("alpha_owner", on="alpha")
    owner.post(f"/members/{member.pk}/role/", {"role": "viewer"}, REMOTE_ADDR="192.0.2.44")

    (entry,) = entries(Action.ROLE_CHANGED)
    assert (entry.actor, entry.tenant, entry.ip) == (world.users["alpha_owner"], world.customers["alpha"], "192.0.2.44")
    assert (entry.object_type, entry.object_id) == ("tenants.membership", str(member.pk))
    assert entry.detail == {"user": "alpha-member@example.test", "from": "member", "to": "viewer"}


def test_invitations_sent_and_accepted_are_recorded(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        world.client("alpha_owner", on="alpha").post("/members/", {"email": "joiner@example.test", "role": "viewer"})
    (sent,) = entries(Action.INVITATION_SENT)
    assert (sent.actor, sent.tenant, sent.object_type) == (
        world.users["alpha_owner"],
        world.customers["alpha"],
        "tenants.invitation",
    )
    path = re.search(r"http://hive\.localhost(/invitations/[^/\s]+/)", str(mail.outbox[-1].body)).group(1)  # type: ignore[union-attr]

    Client(HTTP_HOST="hive.localhost", REMOTE_ADDR="192.0.2.50").post(path, {"full_name": "J", "password": PASSWORD})

    (accepted,) = entries(Action.INVITATION_ACCEPTED)
    joiner = User.objects.get(email="joiner@example.test")
    assert (accepted.actor, accepted.tenant, accepted.ip) == (joiner, world.customers["alpha"], "192.0.2.50")
    assert accepted.object_id == sent.object_id


def test_a_staff_entry_into_a_portal_is_recorded_once_per_session(world: World) -> None:
    staff = world.client("staff", on="beta")
    staff.get("/", REMOTE_ADDR="192.0.2.60")
    staff.get("/members/", REMOTE_ADDR="192.0.2.60")

    (entry,) = entries(Action.STAFF_ENTERED)
    assert (entry.actor, entry.tenant, entry.ip) == (world.users["staff"], world.customers["beta"], "192.0.2.60")
    assert entry.object_type == "tenants.staffentry" and entry.detail == {"path": "/"}
    assert StaffEntry.objects.filter(pk=int(entry.object_id), customer=world.customers["beta"]).exists()


def test_an_entry_rolls_back_with_its_action(world: World) -> None:
    member = world.users["alpha_member"].memberships.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.membership_change_role(membership=member, role=Role.VIEWER)
        raise RuntimeError("the action failed after recording")
    assert entries(Action.ROLE_CHANGED) == []


# --- the owners' page and the CSV -----------------------------------------------------------


def _csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _some_entries(world: World) -> None:
    audit_record(action=Action.LOGIN_FAILED, actor_label='=HYPERLINK("http://evil")', tenant=world.customers["alpha"])
    audit_record(
        action=Action.GATE_WAIVED,
        user=world.users["staff"],
        tenant=world.customers["alpha"],
        detail={"reason": "+1 ok"},
    )
    audit_record(action=Action.LOGIN_SUCCEEDED, user=world.users["beta_owner"], tenant=world.customers["beta"])


def test_an_owner_reads_their_companys_log_and_nothing_of_another(world: World) -> None:
    _some_entries(world)

    page = world.client("alpha_owner", on="alpha").get("/audit/")

    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="entry-login.failed"' in body and 'data-testid="entry-gate.waived"' in body
    assert "staff@hive.test" in body
    assert "beta-owner@example.test" not in body


def test_the_log_filters_by_action_and_pages(world: World) -> None:
    for n in range(55):
        audit_record(
            action=Action.STORY_EDITED, actor_label=f"agent developer-1 run {n}", tenant=world.customers["alpha"]
        )
    _some_entries(world)
    owner = world.client("alpha_owner", on="alpha")

    filtered = owner.get("/audit/", {"action": Action.GATE_WAIVED}).content.decode()
    assert filtered.count('data-testid="entry-') == 1 and 'data-testid="entry-gate.waived"' in filtered
    first = owner.get("/audit/", {"action": Action.STORY_EDITED}).content.decode()
    second = owner.get("/audit/", {"action": Action.STORY_EDITED, "page": "2"}).content.decode()
    assert first.count('data-testid="entry-scope.story_edited"') == 50 and "page 1 of 2" in first
    assert second.count('data-testid="entry-scope.story_edited"') == 5 and "page 2 of 2" in second
    assert "run 0<" in second and "run 0<" not in first and "run 54<" in first
    assert 'data-testid="entry-' in owner.get("/audit/", {"action": "no-such-action"}).content.decode()


@pytest.mark.parametrize("user", ["alpha_member", "alpha_viewer"])
def test_members_and_viewers_cannot_read_the_log(world: World, user: str) -> None:
    client = world.client(user, on="alpha")
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_another_companys_owner_and_an_outsider_get_404(world: World, path: str) -> None:
    assert world.client("beta_owner", on="alpha").get(path).status_code == 404
    assert world.client("outsider", on="alpha").get(path).status_code == 404


def test_the_csv_export_is_the_companys_and_neutralises_formulas(world: World) -> None:
    _some_entries(world)
    audit_record(
        action=Action.STORY_EDITED, actor_label="\tcmd", obj=world.customers["alpha"], tenant=world.customers["alpha"]
    )
    audit_record(action=Action.STORY_EDITED, actor_label="-2+3", tenant=world.customers["alpha"])
    audit_record(action=Action.STORY_EDITED, actor_label="@SUM(A1)", tenant=world.customers["alpha"])
    audit_record(action=Action.STORY_EDITED, actor_label="\rx", tenant=world.customers["alpha"])

    response = world.client("alpha_owner", on="alpha").get("/audit/export.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="audit-alpha-' in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == audit_log.CSV_COLUMNS
    actors = [row[2] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in actors
    assert {"'\tcmd", "'-2+3", "'@SUM(A1)", "'\rx"} <= set(actors)
    assert all(not cell.startswith(FORMULA_STARTS) for row in rows[1:] for cell in row)
    assert {row[4] for row in rows[1:]} == {"alpha"}
    assert "beta-owner@example.test" not in str(rows)


def test_the_csv_export_follows_the_action_filter(world: World) -> None:
    _some_entries(world)
    response = world.client("alpha_owner", on="alpha").get("/audit/export.csv", {"action": Action.GATE_WAIVED})
    rows = _csv_rows(response)
    assert [row[1] for row in rows[1:]] == [Action.GATE_WAIVED]


# --- staff in the admin ---------------------------------------------------------------------


def test_staff_read_every_companys_log_in_the_admin_and_cannot_change_it(world: World) -> None:
    _some_entries(world)
    entry = AuditEntry.objects.filter(action=Action.GATE_WAIVED).get()
    staff = world.client("staff")

    listing = staff.get("/admin/tenants/auditentry/").content.decode()
    assert "alpha" in listing and "beta-owner@example.test" in listing
    detail = staff.get(f"/admin/tenants/auditentry/{entry.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert staff.post(f"/admin/tenants/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff.get("/admin/tenants/auditentry/add/").status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_staff_export_the_selected_entries_as_csv(world: World) -> None:
    _some_entries(world)
    ids = list(AuditEntry.objects.values_list("pk", flat=True))

    response = world.client("staff").post(
        "/admin/tenants/auditentry/", {"action": "export_csv", "_selected_action": ids}
    )

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response)
    assert {row[4] for row in rows[1:]} == {"alpha", "beta"}
    assert '\'=HYPERLINK("http://evil")' in [row[2] for row in rows[1:]]
