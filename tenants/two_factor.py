"""Two-factor login (TOTP apps and one-time recovery codes) and who must use it.

django-otp does the cryptography, the device rows, the per-device throttling of wrong codes and
the session's "verified by device" mark (``request.user.is_verified()``). What it does not have,
and this module adds: the rule of who needs a second factor — staff always, anyone who set one
up, and every member of a company whose owner requires it — and the middleware that sends a
half-logged-in person to the second step (or to set up a device) before any page, on every host.
The session is shared by the apex and the portals, so a login confirmed on one host holds on all.
"""

from __future__ import annotations

import io
import re
from base64 import b32encode
from collections.abc import Callable
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants import access, reauth, signals
from tenants.models import Customer, Membership, User

RECOVERY_DEVICE_NAME = "Recovery codes"
TOTP_DEVICE_NAME = "Authenticator app"
# Pages a half-logged-in person may still reach: the second step itself (setting up a first
# authenticator only when the person has none: ``TwoFactorMiddleware``), the e-mail confirmation
# link, logging out or in again, the password reset, health and static files, and Stripe's
# server-to-server webhook. Nothing else of /account/: recovery codes, switching two-factor off and
# re-authentication need the second factor first (the password alone once reached them).
SETUP_PREFIX = "/account/two-factor/setup/"
EXEMPT_PREFIXES = (
    "/account/two-factor/verify/",
    "/account/email/",
    "/login/",
    "/logout/",
    "/password-reset/",
    "/reset/",
    "/healthz",
    "/static/",
    "/stripe/webhook/",
    "/admin/logout/",
)
_CACHE_SECONDS = 300


class TwoFactorError(Exception):
    """A second-factor step that cannot be done, with the reason for the person."""


def _cache_key(user_id: int) -> str:
    return f"two-factor:{user_id}"


def has_two_factor(user: User | AnonymousUser) -> bool:
    """Whether the user has a confirmed authenticator. Asked on every request of a logged-in
    person who has not confirmed a second factor, so cached and dropped when a device changes."""
    if not user.is_authenticated:
        return False
    cache = caches["shared"]
    cached = cache.get(_cache_key(user.pk))
    if cached is None:
        cached = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        cache.set(_cache_key(user.pk), cached, _CACHE_SECONDS)
    return bool(cached)


def _device_cache_drop(sender: object, instance: Device, **_: object) -> None:
    caches["shared"].delete(_cache_key(instance.user_id))


def connect_device_cache() -> None:
    for model in (TOTPDevice, StaticDevice):
        post_save.connect(_device_cache_drop, sender=model, dispatch_uid=f"two_factor_cache_save_{model.__name__}")
        post_delete.connect(_device_cache_drop, sender=model, dispatch_uid=f"two_factor_cache_del_{model.__name__}")


def required_by(user: User, customer: Customer | None) -> str:
    """Why this user must confirm logins with a second factor here ("" when they need not)."""
    if user.is_staff:
        return "account managers confirm every login with an authenticator app."
    if customer is not None and customer.require_two_factor and access.membership_for(user, customer) is not None:
        return f"{customer.name} requires two-factor login for everyone in its portal."
    if has_two_factor(user):
        return "you switched it on."
    return ""


def is_verified(request: HttpRequest) -> bool:
    """Whether this session's login was confirmed with a second factor (django-otp's mark)."""
    check: Callable[[], bool] | None = getattr(request.user, "is_verified", None)
    return bool(check and check())


def session_is_verified(user: User, session: SessionBase) -> bool:
    """Whether ``session`` (outside the HTTP middleware: a websocket's) carries a second factor
    of ``user``'s, as django-otp's middleware decides it for a request."""
    persistent_id = session.get(django_otp.DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk and bool(device.confirmed)


# --- enrolment -----------------------------------------------------------------------------------


def totp_device_begin(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for ``user`` (replacing any earlier unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def pending_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an SVG QR code, drawn on the server (no script, no external service)."""
    # White background and the standard 4-module quiet zone: it scans whatever the page's colours.
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=16, border=4)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]


def totp_secret(device: TOTPDevice) -> str:
    """The base32 secret, in groups of four, for apps that cannot scan."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def totp_device_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> list[str]:
    """Confirm ``device`` with a code from the app; switch two-factor on and return the new
    recovery codes (shown once). The session counts as confirmed from now on."""
    user = device.user
    locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if locked.confirmed or not locked.verify_token(_digits(token)):
        raise TwoFactorError("That code did not match. Check the time on your phone and enter the newest code.")
    # One authenticator per person: a new one replaces the old (a lost phone is re-enrolled).
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=locked.pk).delete()
    locked.confirmed = True
    locked.save(update_fields=["confirmed"])
    codes = _recovery_codes_make(user)
    django_otp.login(request, locked)
    reauth.recent_auth_mark(request)
    signals.two_factor_enabled.send(sender=User, request=request, user=user, device=locked)
    return codes


def _recovery_codes_make(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.HIVE_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, request: HttpRequest, user: User) -> list[str]:
    """Replace the recovery codes (the old ones stop working); needs two-factor switched on."""
    if not has_two_factor(user):
        raise TwoFactorError("Switch on two-factor login first.")
    codes = _recovery_codes_make(user)
    signals.recovery_codes_regenerated.send(sender=User, request=request, user=user)
    return codes


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count())


@transaction.atomic
def two_factor_disable(*, request: HttpRequest, user: User) -> None:
    """Remove the authenticator and the recovery codes — unless something requires two-factor."""
    reason = ""
    if user.is_staff:
        reason = required_by(user, None)
    elif Membership.objects.filter(user=user, customer__require_two_factor=True).exists():
        reason = "a company you belong to requires it."
    if reason:
        raise TwoFactorError(f"Two-factor login cannot be switched off: {reason}")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    signals.two_factor_disabled.send(sender=User, request=request, user=user)


# --- the login's second step and re-authentication ----------------------------------------------


def _digits(token: str) -> str:
    return re.sub(r"\s+", "", token)


def two_factor_verify(*, request: HttpRequest, user: User, code: str) -> Device:
    """Check a TOTP code or a recovery code for ``user``; on success mark the session confirmed
    (and recently authenticated) and return the device. A recovery code works once."""
    cleaned = re.sub(r"[\s-]+", "", code).lower()
    device: Device | None = None
    if cleaned.isdigit():
        for totp in TOTPDevice.objects.filter(user=user, confirmed=True):
            device = django_otp.verify_token(user, totp.persistent_id, cleaned)
            if device is not None:
                break
    elif cleaned:
        for static in StaticDevice.objects.filter(user=user, confirmed=True):
            device = django_otp.verify_token(user, static.persistent_id, cleaned)
            if device is not None:
                signals.recovery_code_used.send(
                    sender=User, request=request, user=user, remaining=recovery_codes_left(user)
                )
                break
    if device is None:
        signals.two_factor_failed.send(sender=User, request=request, user=user)
        raise TwoFactorError(
            "That code did not work. Enter the 6-digit code from your app, or an unused recovery code."
        )
    django_otp.login(request, device)
    reauth.recent_auth_mark(request)
    signals.two_factor_verified.send(sender=User, request=request, user=user, device=device)
    return device


class TwoFactorMiddleware:
    """Sends a logged-in person who must use a second factor, and has not yet in this session,
    to the second step (or to set up an authenticator) before any other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        setting_up_a_first_device = request.path.startswith(SETUP_PREFIX) and not (
            user.is_authenticated and has_two_factor(user)
        )
        exempt = request.path.startswith(EXEMPT_PREFIXES) or setting_up_a_first_device
        if (
            user.is_authenticated
            and not exempt
            and not is_verified(request)
            and (has_two_factor(user) or required_by(user, getattr(request, "customer", None)))
        ):
            step = "two_factor_verify" if has_two_factor(user) else "two_factor_setup"
            url = f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
            if getattr(request, "htmx", False):
                # An htmx fragment request: the whole page goes to the second step, not the fragment.
                return HttpResponse(status=204, headers={"HX-Redirect": url})
            return HttpResponseRedirect(url)
        return self.get_response(request)
