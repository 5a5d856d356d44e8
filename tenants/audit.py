"""The audit trail: one call, ``audit_record``, that every service doing something an enterprise
must be able to account for makes inside its own transaction.

The rows live in the public schema (``tenants.models.AuditEntry``), so owners read their
company's log and staff read everyone's from one table; the database refuses to change or delete
them. Hand-written rather than a library such as django-auditlog or django-simple-history: those
record field diffs of model saves, while this log records *business actions* (an approval, a
waiver, a refund) with the actor — a person, or an agent and its run — the customer and the
client address, which only the service performing the action knows.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Final

from django.db import connection, models
from django.http import HttpRequest

from tenants.models import AuditEntry, Customer, User


class Action:
    """The actions the platform records. ``audit_record`` takes any string, so an app may add
    its own; these are the ones the portal's filter lists by name."""

    LOGIN_SUCCEEDED: Final = "login.succeeded"
    LOGIN_FAILED: Final = "login.failed"
    ROLE_CHANGED: Final = "membership.role_changed"
    MEMBER_REMOVED: Final = "membership.removed"
    INVITATION_SENT: Final = "invitation.sent"
    INVITATION_ACCEPTED: Final = "invitation.accepted"
    INVITATION_REVOKED: Final = "invitation.revoked"
    STAFF_ENTERED: Final = "staff.entered"
    QUOTE_ACCEPTED: Final = "quote.accepted"
    PLAN_APPROVED: Final = "plan.approved"
    STORY_ACCEPTED: Final = "story.accepted"
    STORY_REJECTED: Final = "story.rejected"
    DELIVERY_ACCEPTED: Final = "delivery.accepted"
    GATE_WAIVED: Final = "gate.waived"
    STORY_ADDED: Final = "scope.story_added"
    STORY_EDITED: Final = "scope.story_edited"
    STORY_DROPPED: Final = "scope.story_dropped"
    STORY_CANCELLED: Final = "scope.story_cancelled"
    TASK_CANCELLED: Final = "scope.task_cancelled"
    CHARGE_SUCCEEDED: Final = "charge.succeeded"
    CHARGE_FAILED: Final = "charge.failed"
    REFUND_ISSUED: Final = "refund.issued"

    LABELS: Final[dict[str, str]] = {
        LOGIN_SUCCEEDED: "Login",
        LOGIN_FAILED: "Failed login",
        ROLE_CHANGED: "Role changed",
        MEMBER_REMOVED: "Member removed",
        INVITATION_SENT: "Invitation sent",
        INVITATION_ACCEPTED: "Invitation accepted",
        INVITATION_REVOKED: "Invitation withdrawn",
        STAFF_ENTERED: "Staff entered the portal",
        QUOTE_ACCEPTED: "Quote accepted",
        PLAN_APPROVED: "Plan approved",
        STORY_ACCEPTED: "Story accepted",
        STORY_REJECTED: "Story rejected",
        DELIVERY_ACCEPTED: "Delivery accepted",
        GATE_WAIVED: "Quality gate waived",
        STORY_ADDED: "Story added",
        STORY_EDITED: "Story edited",
        STORY_DROPPED: "Story dropped",
        STORY_CANCELLED: "Story cancelled",
        TASK_CANCELLED: "Task cancelled",
        CHARGE_SUCCEEDED: "Charge",
        CHARGE_FAILED: "Failed charge",
        REFUND_ISSUED: "Refund",
    }


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    user: Any = None,
    actor_label: str = "",
    tenant: Customer | None = None,
    obj: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry and return it.

    ``user`` is the person acting (default: the request's signed-in user); an agent acts with no
    user and ``actor_label`` such as ``"agent developer-2 run 17"``. ``tenant`` defaults to the
    request's customer, then to the customer whose schema the connection is in, so services in
    tenant apps need not pass it. Call it inside the transaction of the action it records: if the
    action rolls back, so does its entry.
    """
    request_user = getattr(request, "user", None)
    if user is None and request_user is not None and request_user.is_authenticated:
        user = request_user
    actor = user if isinstance(user, User) and user.pk is not None else None
    if tenant is None and request is not None:
        tenant = getattr(request, "customer", None)
    if tenant is None:
        tenant = _connection_customer()
    entry = AuditEntry(
        action=action[:60],
        actor=actor,
        actor_label=(actor_label or (actor.email if actor is not None else ""))[:200],
        tenant=tenant,
        tenant_label=(tenant.schema_name if tenant is not None else "")[:120],
        ip=_client_ip(request),
        detail=detail or {},
    )
    if obj is not None:
        entry.object_type = f"{obj._meta.app_label}.{obj._meta.model_name}"
        entry.object_id = str(obj.pk)[:64]
        entry.object_label = str(obj)[:300]
    entry.save()
    return entry


def _client_ip(request: HttpRequest | None) -> str | None:
    """The peer address of the request. Forwarded headers are not read: anyone can set them, and
    the deployment's proxy (when there is one) is expected to set REMOTE_ADDR."""
    if request is None:
        return None
    raw = str(request.META.get("REMOTE_ADDR") or "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _connection_customer() -> Customer | None:
    schema = getattr(connection, "schema_name", None)
    if not schema or schema == "public":
        return None
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Customer):
        return tenant
    # schema_context() sets a stand-in tenant that is not a Customer row.
    return Customer.objects.filter(schema_name=schema).first()
