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
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    APPROVAL_GRANTED: Final = "approval.granted"
    STORY_ACCEPTED: Final = "story.accepted"
    STORY_REJECTED: Final = "story.rejected"
    DELIVERY_ACCEPTED: Final = "delivery.accepted"
    GATE_WAIVED: Final = "gate.waived"
    STORY_ADDED: Final = "scope.story_added"
    STORY_EDITED: Final = "scope.story_edited"
    STORY_DROPPED: Final = "scope.story_dropped"
    STORY_CANCELLED: Final = "scope.story_cancelled"
    TASK_CANCELLED: Final = "scope.task_cancelled"
    PROJECT_CANCELLED: Final = "scope.project_cancelled"
    CHARGE_SUCCEEDED: Final = "charge.succeeded"
    CHARGE_FAILED: Final = "charge.failed"
    REFUND_ISSUED: Final = "refund.issued"
    CRITERION_WAIVED: Final = "acceptance.criterion_waived"
    CRITERION_EVIDENCED: Final = "acceptance.criterion_evidenced"
    SCOPE_CONSENTED: Final = "scope.drop_consented"
    PLAN_CORRECTED: Final = "scope.plan_corrected"
    STORY_REASSIGNED: Final = "scope.story_reassigned"

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
        APPROVAL_GRANTED: "Approval",
        STORY_ACCEPTED: "Story accepted",
        STORY_REJECTED: "Story rejected",
        DELIVERY_ACCEPTED: "Delivery accepted",
        GATE_WAIVED: "Quality gate waived",
        STORY_ADDED: "Story added",
        STORY_EDITED: "Story edited",
        STORY_DROPPED: "Story dropped",
        STORY_CANCELLED: "Story cancelled",
        TASK_CANCELLED: "Task cancelled",
        PROJECT_CANCELLED: "Project cancelled",
        CHARGE_SUCCEEDED: "Charge",
        CHARGE_FAILED: "Failed charge",
        REFUND_ISSUED: "Refund",
        CRITERION_WAIVED: "Acceptance criterion waived",
        CRITERION_EVIDENCED: "Acceptance criterion evidence attached",
        SCOPE_CONSENTED: "Consent to dropped scope",
        PLAN_CORRECTED: "Plan item corrected",
        STORY_REASSIGNED: "Story given to another developer",
    }


# The actor of an entry written with no person and no agent behind it (a beat task, a webhook).
SYSTEM_ACTOR = "system"

# The request being served, so that a service deep below a view (which takes no request) still
# records who acted and from where; ``tenants.middleware.AuditRequestMiddleware`` sets it.
# A context variable, not a thread-local: it follows the request across asgiref's thread hops.
_current_request: ContextVar[HttpRequest | None] = ContextVar("hive_audit_request", default=None)


@contextmanager
def audit_request(request: HttpRequest) -> Iterator[None]:
    """Make ``request`` the one audit entries are attributed to while the block runs."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    user: Any = None,
    actor_label: str = "",
    tenant: Customer | None = None,
    obj: models.Model | None = None,
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEntry:
    """Append one audit entry and return it.

    ``request`` defaults to the request being served (see ``audit_request``). ``user`` is the
    person acting (default: the request's signed-in user); an agent acts with no
    user and ``actor_label`` such as ``"agent developer-2 run 17"``; with neither (and no signed-in
    user) the actor is ``"system"``. ``tenant`` defaults to the
    request's customer, then to the customer whose schema the connection is in, so services in
    tenant apps need not pass it. ``ip`` is for callers without a request (a websocket's peer).
    Call it inside the transaction of the action it records: if the
    action rolls back, so does its entry.
    """
    if request is None:
        request = _current_request.get()
    request_user = getattr(request, "user", None)
    # An agent's entry (actor_label, no user) is not the signed-in person's, even inside a request.
    if user is None and not actor_label and request_user is not None and request_user.is_authenticated:
        user = request_user
    actor = user if isinstance(user, User) and user.pk is not None else None
    if tenant is None and request is not None:
        tenant = getattr(request, "customer", None)
    if tenant is None:
        tenant = _connection_customer()
    entry = AuditEntry(
        action=action[:60],
        actor=actor,
        actor_label=(actor_label or (actor.email if actor is not None else SYSTEM_ACTOR))[:200],
        tenant=tenant,
        tenant_label=(tenant.schema_name if tenant is not None else "")[:120],
        ip=_valid_ip(ip) if ip else _client_ip(request),
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
    return _valid_ip(str(request.META.get("REMOTE_ADDR") or ""))


def _valid_ip(raw: str) -> str | None:
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
    found: Customer | None = Customer.objects.filter(schema_name=schema).first()
    return found


# --- logins ---------------------------------------------------------------------------------


def on_user_logged_in(sender: Any, *, request: HttpRequest | None, user: User, **_: Any) -> None:
    """A successful login, recorded for the portal it happened on, or (on the public site) for
    the user's company when they belong to exactly one."""
    tenant: Customer | None = getattr(request, "customer", None)
    if tenant is None:
        customers = list(Customer.objects.filter(memberships__user=user)[:2])
        tenant = customers[0] if len(customers) == 1 else None
    audit_record(action=Action.LOGIN_SUCCEEDED, request=request, user=user, tenant=tenant)


def on_user_login_failed(
    sender: Any, *, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    """A failed login: the name tried (Django has already masked the password) and the address.
    The customer is only the portal it was tried on: a failed attempt proves nothing about who."""
    tried = str(credentials.get("username") or credentials.get("email") or "")
    audit_record(action=Action.LOGIN_FAILED, request=request, actor_label=tried[:200] or "(no name given)")


def connect_login_audit() -> None:
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_logged_in.connect(on_user_logged_in, dispatch_uid="audit_login")
    user_login_failed.connect(on_user_login_failed, dispatch_uid="audit_login_failed")
