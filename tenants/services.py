"""Writes with side effects on customers, users and memberships: signup and provisioning,
invitations, role changes, suspension. Each is a transaction; each returns what it made; the ones
an owner must be able to account for write their audit entry (``tenants.audit``) inside it."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from tenants.audit import Action, audit_record
from tenants.emails import send_templated_email
from tenants.models import Customer, Domain, Invitation, Membership, Role, User

log = logging.getLogger(__name__)

INVITATION_SALT = "hive.tenants.invitation"


class ProvisioningError(Exception):
    """Creating a customer's portal failed; nothing of it was kept."""


class MembershipError(Exception):
    """A membership change that would break a rule (e.g. leave a customer without an owner)."""


class InvitationError(Exception):
    """An invitation link that cannot be used, with the reason for the person holding it."""


@transaction.atomic
def customer_signup(*, company_name: str, subdomain: str, email: str, password: str) -> tuple[Customer, User]:
    """Create the owner, the customer, its schema (migrated), its domain and the owner membership.

    Everything happens in one transaction — PostgreSQL DDL included — so a failure at any step
    leaves no user, no customer row, no domain and no schema behind.
    """
    try:
        user = User.objects.create_user(email=email, password=password)
        customer = Customer(schema_name=subdomain, name=company_name)
        customer.save(verbosity=0)
        Domain.objects.create(domain=f"{subdomain}.{settings.HIVE_DOMAIN}", tenant=customer, is_primary=True)
        Membership.objects.create(user=user, customer=customer, role=Role.OWNER)
    except Exception as exc:
        log.exception("provisioning of %r failed", subdomain)
        raise ProvisioningError(
            "We could not set up your portal, and nothing was created. Please try again in a minute; "
            "if it keeps failing, write to support."
        ) from exc
    return customer, user


@transaction.atomic
def customer_suspend(*, customer: Customer, reason: str) -> Customer:
    customer.status = Customer.Status.SUSPENDED
    customer.suspended_reason = reason
    customer.save(update_fields=["status", "suspended_reason"])
    return customer


@transaction.atomic
def customer_reactivate(*, customer: Customer) -> Customer:
    customer.status = Customer.Status.ACTIVE
    customer.suspended_reason = ""
    customer.save(update_fields=["status", "suspended_reason"])
    return customer


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"invitation": invitation.pk}, salt=INVITATION_SALT)


@transaction.atomic
def invitation_send(
    *, customer: Customer, email: str, role: Role, invited_by: User, accept_url_base: str
) -> Invitation:
    """Invite ``email`` to ``customer``; the email carries a signed link that expires."""
    email = email.strip().lower()
    if Membership.objects.filter(customer=customer, user__email__iexact=email).exists():
        raise MembershipError(f"{email} is already a member of {customer.name}.")
    invitation = Invitation.objects.create(customer=customer, email=email, role=role, invited_by=invited_by)
    audit_record(
        action=Action.INVITATION_SENT, user=invited_by, tenant=customer, obj=invitation, detail={"role": str(role)}
    )
    link = f"{accept_url_base}{invitation_token(invitation)}/"
    days = settings.INVITATION_MAX_AGE // 86400
    send_templated_email(
        "invitation",
        [email],
        {"invitation": invitation, "link": link, "inviter": invited_by, "days": days},
    )
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """The open invitation behind ``token``, or InvitationError saying why it cannot be used."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvitationError("This invitation has expired. Ask the person who invited you for a new one.") from exc
    except signing.BadSignature as exc:
        raise InvitationError("This invitation link is not valid. Check that you copied all of it.") from exc
    invitation = Invitation.objects.select_related("customer").filter(pk=payload.get("invitation")).first()
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationError("This invitation was withdrawn. Ask the person who invited you for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used. Log in to reach the portal.")
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_open:
        raise InvitationError("This invitation has already been used. Log in to reach the portal.")
    membership, _ = Membership.objects.get_or_create(
        user=user, customer=locked.customer, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        action=Action.INVITATION_ACCEPTED,
        user=user,
        tenant=locked.customer,
        obj=locked,
        detail={"role": membership.role},
    )
    return membership


@transaction.atomic
def invitation_join(*, invitation: Invitation, password: str, full_name: str = "") -> tuple[User, Membership]:
    """A person without an account accepts: the account and the membership, or InvitationError.

    The invitation row is locked before the account is made, so of simultaneous submissions of
    one link exactly one creates the account; the others wait, then find the invitation used.
    """
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_open:
        raise InvitationError("This invitation has already been used. Log in to reach the portal.")
    if User.objects.filter(email__iexact=locked.email).exists():
        raise InvitationError(f"An account for {locked.email} exists already. Log in to join.")
    user = User.objects.create_user(email=locked.email, password=password, full_name=full_name)
    return user, invitation_accept(invitation=locked, user=user)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(action=Action.INVITATION_REVOKED, tenant=invitation.customer, obj=invitation)
    return invitation


def _ensure_another_owner(membership: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(customer=membership.customer, role=Role.OWNER)
    if membership.role == Role.OWNER and owners.exclude(pk=membership.pk).count() == 0:
        raise MembershipError(f"{membership.customer.name} must keep at least one owner.")


@transaction.atomic
def membership_change_role(*, membership: Membership, role: Role) -> Membership:
    if role != Role.OWNER:
        _ensure_another_owner(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action=Action.ROLE_CHANGED,
        tenant=membership.customer,
        obj=membership,
        detail={"user": membership.user.email, "from": str(before), "to": str(role)},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _ensure_another_owner(membership)
    audit_record(
        action=Action.MEMBER_REMOVED,
        tenant=membership.customer,
        obj=membership,
        detail={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()
