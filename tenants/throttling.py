"""How often someone may try: the login lockout's hooks (django-axes) and the rate limits on
e-mails we send on request (password resets, signups, invitations, verification links).

django-axes counts login failures (per account and per client address) and refuses the account
or address for a cool-off; its hooks here normalise the username the way our login does, read
the client address the way our deployment is set up, and render the lockout page (HTTP 429).
The e-mail limits use django-ratelimit's counters in the shared cache; ``rate_exceeded`` only
names the key and settings so every caller counts the same way.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from. Behind our own TLS proxy (``BEHIND_PROXY``) that is the
    last X-Forwarded-For hop, the one the proxy appended; a client-supplied header is never
    trusted otherwise, or anyone could rotate it to escape the per-address limits."""
    if settings.SECURE_PROXY_SSL_HEADER is not None:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return str(hops[-1])
    # None when there is no address at all (a login made in code, e.g. the test client's).
    return str(request.META.get("REMOTE_ADDR", "")) or None


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a login attempt is for, as the login matches it (e-mail, case-insensitive):
    ``Alice@X`` and ``alice@x`` are one account, so they share one failure count."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None and request.method == "POST":
        raw = request.POST.get("username")
    return str(raw).strip().lower() if raw else None


def lockout_response(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponse:
    """The page a locked-out login gets (django-axes' lockout callable): what happened and when
    to try again, with the reset link that unlocks at once; 429, never a 403 stack."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "tenants/locked_out.html", {"minutes": minutes}, status=429)


def login_unlock(*, email: str) -> int:
    """Forget the failed logins of ``email`` (a password reset proved the owner); how many went."""
    from axes.utils import reset

    return int(reset(username=email.strip().lower()))


def rate_exceeded(request: HttpRequest, *, group: str, value: str, rate: str) -> bool:
    """Count one more ``group`` action for ``value`` (an address, an e-mail) and say whether it
    went past ``rate`` (django-ratelimit's "count/period"). Values are compared lowercased."""
    normalised = value.strip().lower()
    return bool(
        is_ratelimited(
            request, group=f"hive.{group}", key=lambda _group, _request: normalised, rate=rate, increment=True
        )
    )


def ip_rate_exceeded(request: HttpRequest, *, group: str, rate: str) -> bool:
    return rate_exceeded(request, group=f"{group}.ip", value=client_ip(request) or "-", rate=rate)


def too_many_requests(request: HttpRequest, what: str) -> HttpResponse:
    """A clear 429 page for a rate limit a person reached (never a stack trace)."""
    return render(request, "tenants/too_many_requests.html", {"what": what}, status=429)
