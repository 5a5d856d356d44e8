"""Who may do what in a customer's portal: membership lookup, role checks, staff audit entries.

Views reach tenant data only after ``TenantAccessMiddleware`` has let the user in; these helpers
answer the finer question of role (owner / member / viewer). Staff (account managers) act with
owner rights, and every entry of theirs is recorded once per session and customer.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest

from tenants.audit import Action, audit_record
from tenants.models import ROLE_RANK, Customer, Membership, Role, StaffEntry, User

STAFF_ENTRY_SESSION_KEY = "hive_staff_entries"


MEMBERSHIP_CACHE_SECONDS = 300
_NO_MEMBERSHIP = "-"


def _membership_key(user_id: int, customer_id: int) -> str:
    return f"membership:{user_id}:{customer_id}"


def membership_for(user: User | AnonymousUser, customer: Customer) -> Membership | None:
    """The user's membership of ``customer``, or None. Every portal request asks, so the answer
    is cached (shared across hosts and processes) and dropped whenever a membership changes."""
    if not user.is_authenticated:
        return None
    cache = caches["shared"]
    key = _membership_key(user.pk, customer.pk)
    cached = cache.get(key)
    if cached == _NO_MEMBERSHIP:
        return None
    if cached is not None:
        pk, role = cached
        return Membership(pk=pk, user=user, customer=customer, role=role)
    membership = Membership.objects.filter(user=user, customer=customer).first()
    cache.set(key, (membership.pk, membership.role) if membership else _NO_MEMBERSHIP, MEMBERSHIP_CACHE_SECONDS)
    return membership


def membership_cache_drop(sender: object, instance: Membership, **_: object) -> None:
    caches["shared"].delete(_membership_key(instance.user_id, instance.customer_id))


def connect_membership_cache() -> None:
    post_save.connect(membership_cache_drop, sender=Membership, dispatch_uid="membership_cache_save")
    post_delete.connect(membership_cache_drop, sender=Membership, dispatch_uid="membership_cache_delete")


def current_customer(request: HttpRequest) -> Customer:
    customer: Customer | None = getattr(request, "customer", None)
    if customer is None:
        raise PermissionDenied("This page belongs to a customer portal")
    return customer


def portal_role(request: HttpRequest) -> Role:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is not None:
        return Role(membership.role)
    if request.user.is_authenticated and request.user.is_staff:
        return Role.OWNER
    raise PermissionDenied("Not a member of this customer")


def require_role(request: HttpRequest, role: Role) -> Role:
    """Raise PermissionDenied unless the user's role in this portal is at least ``role``."""
    have = portal_role(request)
    if ROLE_RANK[have] < ROLE_RANK[role]:
        raise PermissionDenied(f"This needs the {role.label.lower()} role; you are a {have.label.lower()}.")
    return have


def record_staff_entry(request: HttpRequest, customer: Customer) -> None:
    assert isinstance(request.user, User)
    staff_entry_record(user=request.user, customer=customer, session=request.session, path=request.get_full_path())


def staff_entry_record(*, user: User, customer: Customer, session: SessionBase, path: str, ip: str = "") -> bool:
    """Record a staff user's entry into a customer's portal, once per session; True if recorded.

    HTTP requests and websocket connections (``tenants.websockets``) share this, so a staff visit
    is audited whichever way it comes in.
    """
    entered: list[str] = session.get(STAFF_ENTRY_SESSION_KEY, [])
    if customer.schema_name in entered:
        return False
    with transaction.atomic():
        entry = StaffEntry.objects.create(user=user, customer=customer, path=path[:500])
        audit_record(
            action=Action.STAFF_ENTERED, user=user, tenant=customer, obj=entry, detail={"path": path[:500]}, ip=ip
        )
    session[STAFF_ENTRY_SESSION_KEY] = [*entered, customer.schema_name]
    return True
