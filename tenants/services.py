"""Writes with side effects on customers, users and memberships: signup (asked for, then
confirmed from the mailed link) and provisioning, invitations, role changes, suspension, the
company's two-factor requirement. Each is a transaction; each returns what it made; the ones an
owner must be able to account for write their audit entry (``tenants.audit``) inside it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenants import signals
from tenants.audit import Action, audit_record
from tenants.emails import send_templated_email
from tenants.models import Customer, Domain, Invitation, Membership, Role, SignupRequest, User
from tenants.subdomains import validate_subdomain
from tenants.text import one_line
from tenants.verification import email_verified_require

log = logging.getLogger(__name__)

INVITATION_SALT = "hive.tenants.invitation"
SIGNUP_SALT = "hive.tenants.signup"


class ProvisioningError(Exception):
    """Creating a customer's portal failed; nothing of it was kept."""


class MembershipError(Exception):
    """A membership change that would break a rule (e.g. leave a customer without an owner)."""


class InvitationError(Exception):
    """An invitation link that cannot be used, with the reason for the person holding it."""


class SignupError(Exception):
    """A signup link that cannot be used (expired, used, or its subdomain was taken meanwhile)."""


@transaction.atomic
def customer_signup(
    *,
    company_name: str,
    subdomain: str,
    email: str,
    password: str | None = None,
    password_hash: str | None = None,
    email_verified_at: datetime | None = None,
) -> tuple[Customer, User]:
    """Create the owner, the customer, its schema (migrated), its domain and the owner membership.

    Everything happens in one transaction — PostgreSQL DDL included — so a failure at any step
    leaves no user, no customer row, no domain and no schema behind.
    """
    try:
        user = User.objects.create_user(email=email, password=password, email_verified_at=email_verified_at)
        if password_hash is not None:
            user.password = password_hash
            user.save(update_fields=["password"])
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


def signup_token(signup: SignupRequest) -> str:
    return signing.dumps({"signup": signup.pk}, salt=SIGNUP_SALT)


@transaction.atomic
def signup_request(
    *, company_name: str, subdomain: str, email: str, password: str, link_base: str, login_url: str
) -> SignupRequest | None:
    """Ask for a new company portal: mail the address a link that creates it when opened.

    Nothing else happens yet, and the caller answers the same whatever the address: if it
    already has an account, its owner is mailed that someone tried (with the login link) instead
    of a signup link, so the signup form does not tell who has an account here.
    """
    email = email.strip().lower()
    company_name = one_line(company_name)  # the form refuses control characters; stored on one line whatever the caller
    # Links older than their lifetime can never be used: their rows (and password hashes) go.
    stale = timezone.now() - timedelta(seconds=settings.HIVE_EMAIL_VERIFICATION_MAX_AGE)
    SignupRequest.objects.filter(created_at__lt=stale).delete()
    # Hashed whatever the address, so the answer takes as long for a taken one as for a new one.
    password_hash = make_password(password)
    existing = User.objects.filter(email__iexact=email).first()
    signals.signup_requested.send(sender=User, request=None, user=existing, email=email, subdomain=subdomain)
    if existing is not None:
        send_templated_email("signup_existing", [email], {"company_name": company_name, "login_url": login_url})
        return None
    signup = SignupRequest.objects.create(
        email=email, company_name=company_name, subdomain=subdomain, password_hash=password_hash
    )
    days = settings.HIVE_EMAIL_VERIFICATION_MAX_AGE // 86400
    send_templated_email(
        "signup_confirm",
        [email],
        {"signup": signup, "link": f"{link_base}{signup_token(signup)}/", "days": days},
    )
    return signup


def signup_from_token(token: str) -> SignupRequest:
    """The open signup behind ``token``, or SignupError saying why it cannot be used."""
    try:
        payload = signing.loads(token, salt=SIGNUP_SALT, max_age=settings.HIVE_EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise SignupError("This signup link has expired. Sign up again to get a new one.") from exc
    except signing.BadSignature as exc:
        raise SignupError("This signup link is not valid. Check that you copied all of it.") from exc
    signup = SignupRequest.objects.filter(pk=payload.get("signup")).first()
    if signup is None:
        raise SignupError("This signup link is not valid. Sign up again to get a new one.")
    if signup.completed_at is not None:
        raise SignupError("This portal was already created from this link. Log in to reach it.")
    return signup


@transaction.atomic
def signup_complete(*, signup: SignupRequest) -> tuple[Customer, User]:
    """Create the portal of a confirmed signup; its owner's address is verified by the link."""
    locked = SignupRequest.objects.select_for_update().get(pk=signup.pk)
    if locked.completed_at is not None:
        raise SignupError("This portal was already created from this link. Log in to reach it.")
    try:
        subdomain = validate_subdomain(locked.subdomain)
    except ValidationError as exc:  # someone took the name since the link was mailed
        raise SignupError(f"{' '.join(exc.messages)} Sign up again with another name.") from exc
    if User.objects.filter(email__iexact=locked.email).exists():
        raise SignupError("This address has an account already. Log in, then create the company from there.")
    customer, user = customer_signup(
        company_name=locked.company_name,
        subdomain=subdomain,
        email=locked.email,
        password_hash=locked.password_hash,
        email_verified_at=timezone.now(),
    )
    locked.completed_at = timezone.now()
    locked.password_hash = ""
    locked.save(update_fields=["completed_at", "password_hash"])
    return customer, user


@transaction.atomic
def customer_two_factor_require(*, customer: Customer, required: bool, by: User) -> Customer:
    """Turn the company-wide two-factor requirement on or off; the owner turning it on must use
    two-factor themselves, so they cannot lock the whole company out of its portal."""
    from tenants.two_factor import has_two_factor

    if required and not has_two_factor(by):
        raise MembershipError("Switch on two-factor login for yourself first (Account → Two-factor login).")
    customer.require_two_factor = required
    customer.save(update_fields=["require_two_factor"])
    return customer


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
    email_verified_require(invited_by, action="inviting people")
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
    # The invitation link was mailed to this address: opening it proves the address.
    user = User.objects.create_user(
        email=locked.email, password=password, full_name=full_name, email_verified_at=timezone.now()
    )
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
