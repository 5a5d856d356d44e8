"""Re-authentication before sensitive actions: the person proves they are still there (password,
or a TOTP code when they have two-factor) within the last ``HIVE_REAUTH_SECONDS``.

A stolen or forgotten-open session should not be enough to add a card, accept a priced quote,
refund a charge or mint an API key. No maintained Django library does just this (django-sudo is
unmaintained, and allauth's reauthentication comes with allauth's whole account stack), so it is
one session timestamp, set by every login, second-factor confirmation and re-authentication,
and ``recent_auth_required`` to guard a view.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import user_has_device

SESSION_KEY = "hive_auth_at"

View = TypeVar("View", bound=Callable[..., HttpResponse])


def recent_auth_mark(request: HttpRequest) -> None:
    """The person just proved who they are in this session."""
    request.session[SESSION_KEY] = int(time.time())


def has_recent_auth(request: HttpRequest, max_age: int | None = None) -> bool:
    """A login (or confirmation) within ``max_age`` seconds — and, for a person with an
    authenticator, one that has passed the second factor: the password alone is not recent
    authentication for them."""
    if not request.user.is_authenticated:
        return False
    if user_has_device(request.user) and not getattr(request.user, "is_verified", lambda: False)():
        return False
    at = request.session.get(SESSION_KEY)
    limit = settings.HIVE_REAUTH_SECONDS if max_age is None else max_age
    return isinstance(at, int) and 0 <= time.time() - at <= limit


def _on_login(sender: object, request: HttpRequest | None = None, **_: object) -> None:
    if request is not None and hasattr(request, "session"):
        recent_auth_mark(request)


def connect_login_mark() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="hive_reauth_login_mark")


def reauth_url(request: HttpRequest) -> str:
    """Where to confirm it's you, coming back to this page (for a POST: the page it came from,
    so the form is shown again rather than re-sent blindly)."""
    target = request.get_full_path()
    if request.method != "GET":
        referer = request.META.get("HTTP_REFERER", "")
        same_host = url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()})
        target = (urlsplit(referer).path or "/") if referer and same_host else "/"
    return f"{reverse('reauthenticate')}?{urlencode({'next': target})}"


def recent_auth_required(view: View | None = None, *, max_age: int | None = None) -> Any:
    """Guard a view: without a recent login or re-authentication the person is sent to confirm
    it's them and the action is not done. ``@recent_auth_required`` or with ``(max_age=…)``."""

    def decorate(inner: View) -> View:
        @functools.wraps(inner)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if has_recent_auth(request, max_age):
                return inner(request, *args, **kwargs)
            messages.info(request, "For your security, confirm it's you before this action, then do it again.")
            url = reauth_url(request)
            if getattr(request, "htmx", False):
                return HttpResponse(status=204, headers={"HX-Redirect": url})
            accept = request.headers.get("Accept", "")
            if "application/json" in accept and "text/html" not in accept:
                return JsonResponse({"error": "reauthentication required", "url": url}, status=401)
            return HttpResponseRedirect(url)

        return wrapped  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate
