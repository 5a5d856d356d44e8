"""E-mail address verification: a signed link proves a person reads the address they gave.

Signup itself is confirmed by such a link (``services.signup_request``); this module covers
accounts whose address is not yet proven (made in the admin or by a script) and the rule that
an unproven address may not start the company's first payment or invite anyone:
``email_verified_require`` is called by those services, and raises ``EmailUnverified`` — a
PermissionDenied, so a view or an API that does not catch it still answers 403.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from tenants import signals
from tenants.emails import send_templated_email
from tenants.models import User

SALT = "hive.tenants.email-verification"


class EmailUnverified(PermissionDenied):
    """The acting person's e-mail address is not confirmed yet."""


class VerificationError(Exception):
    """A verification link that cannot be used, with the reason."""


def email_verified_require(user: User, *, action: str) -> None:
    """Refuse ``action`` (e.g. "accepting a quote") until ``user`` confirmed their address."""
    if not user.email_verified:
        raise EmailUnverified(
            f"Confirm your e-mail address before {action}: open the link we sent to {user.email}, "
            "or send a new one from your account page."
        )


def email_verification_token(user: User) -> str:
    # The address is part of the token: a link stops working if the account's address changes.
    return signing.dumps({"user": user.pk, "email": user.email}, salt=SALT)


def email_verification_send(*, user: User, link_base: str) -> None:
    """Mail ``user`` a link that confirms their address (``link_base`` + token + "/")."""
    link = f"{link_base}{email_verification_token(user)}/"
    days = settings.HIVE_EMAIL_VERIFICATION_MAX_AGE // 86400
    send_templated_email("email_verification", [user.email], {"user": user, "link": link, "days": days})


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Mark the address behind ``token`` as confirmed (once; opening the link again is harmless)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.HIVE_EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise VerificationError("This link has expired. Log in and send yourself a new one.") from exc
    except signing.BadSignature as exc:
        raise VerificationError("This link is not valid. Check that you copied all of it.") from exc
    user = User.objects.select_for_update().filter(pk=payload.get("user"), email=payload.get("email")).first()
    if user is None:
        raise VerificationError("This link is not valid any more. Log in and send yourself a new one.")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        signals.email_verified.send(sender=User, request=None, user=user)
    return user


def email_mark_verified(user: User) -> None:
    """The person proved the address another way (an invitation or reset link mailed to it)."""
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        signals.email_verified.send(sender=User, request=None, user=user)
