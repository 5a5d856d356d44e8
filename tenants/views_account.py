"""The person's own account: two-factor setup, the login's second step, recovery codes,
re-authentication before sensitive actions, and e-mail address verification."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tenants import links, reauth, signals, throttling, two_factor, verification
from tenants.forms import ReauthenticateForm, TwoFactorCodeForm
from tenants.models import User
from tenants.views_public import next_is_safe


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target and next_is_safe(request, target) else default


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "has_two_factor": two_factor.has_two_factor(user),
        "required_by": two_factor.required_by(user, getattr(request, "customer", None)),
        "recovery_codes_left": two_factor.recovery_codes_left(user),
    }
    return render(request, "tenants/account/account.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Show a new authenticator's QR code and secret; a code from the app confirms it, and the
    recovery codes are shown on the answer to that, once. Someone who already has two-factor
    must confirm this session first (replacing the authenticator must not need only a password)."""
    user = _user(request)
    if two_factor.has_two_factor(user) and not two_factor.is_verified(request):
        return redirect(f"{_verify_url()}?next={request.path}")
    form = TwoFactorCodeForm(request.POST or None)
    device = two_factor.pending_totp_device(user) if request.method == "POST" else None
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            codes = two_factor.totp_device_confirm(request=request, device=device, token=form.cleaned_data["code"])
        except two_factor.TwoFactorError as exc:
            form.add_error("code", str(exc))
        else:
            return render(request, "tenants/account/recovery_codes.html", {"codes": codes, "next": _next(request)})
    if device is None:
        device = two_factor.totp_device_begin(user=user)
    context = {
        "form": form,
        "qr_svg": two_factor.totp_qr_svg(device),
        "secret": two_factor.totp_secret(device),
        "otpauth_uri": device.config_url,
        "required_by": two_factor.required_by(user, getattr(request, "customer", None)),
        "next": _next(request),
    }
    return render(request, "tenants/account/two_factor_setup.html", context, status=400 if form.errors else 200)


def _verify_url() -> str:
    return reverse("two_factor_verify")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The login's second step: a code from the app, or a recovery code (each works once)."""
    user = _user(request)
    if not two_factor.has_two_factor(user):
        return redirect("two_factor_setup")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.two_factor_verify(request=request, user=user, code=form.cleaned_data["code"])
        except two_factor.TwoFactorError as exc:
            form.add_error("code", str(exc))
        else:
            if device.name == two_factor.RECOVERY_DEVICE_NAME:
                left = two_factor.recovery_codes_left(user)
                messages.warning(request, f"You used a recovery code; {left} left. Make new ones on your account page.")
            return HttpResponseRedirect(_next(request))
    context = {"form": form, "next": _next(request, "")}
    return render(request, "tenants/account/two_factor_verify.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
@reauth.recent_auth_required
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    try:
        codes = two_factor.recovery_codes_regenerate(request=request, user=_user(request))
    except two_factor.TwoFactorError as exc:
        messages.error(request, str(exc))
        return redirect("account")
    return render(request, "tenants/account/recovery_codes.html", {"codes": codes, "next": "/account/"})


@login_required
@require_POST
@reauth.recent_auth_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    try:
        two_factor.two_factor_disable(request=request, user=_user(request))
    except two_factor.TwoFactorError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Two-factor login is off. Your logins need only your password now.")
    return redirect("account")


@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Confirm it's you: the app's code (two-factor on) or the password (counted by the login
    lockout like any login, so a left-open session cannot be used to guess it)."""
    user = _user(request)
    uses_code = two_factor.has_two_factor(user)
    form = ReauthenticateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data["secret"]
        ok = False
        if uses_code:
            try:
                two_factor.two_factor_verify(request=request, user=user, code=secret)
                ok = True
            except two_factor.TwoFactorError:
                pass
        else:
            ok = authenticate(request, username=user.email, password=secret) is not None
            if getattr(request, "axes_locked_out", False):
                return throttling.lockout_response(request)
        if ok:
            reauth.recent_auth_mark(request)
            signals.reauthenticated.send(sender=User, request=request, user=user)
            return HttpResponseRedirect(_next(request))
        form.add_error("secret", "That code did not work." if uses_code else "That password is not right.")
    context = {
        "form": form,
        "uses_code": uses_code,
        "next": _next(request, ""),
        "minutes": settings.HIVE_REAUTH_SECONDS // 60,
    }
    return render(request, "tenants/account/reauthenticate.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def email_verification_send(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.email_verified:
        messages.info(request, f"{user.email} is already confirmed.")
    elif throttling.rate_exceeded(
        request, group="email-verification", value=user.email, rate=settings.HIVE_RATE_EMAIL_VERIFICATION
    ):
        return throttling.too_many_requests(request, "confirmation e-mails for this address")
    else:
        verification.email_verification_send(user=user, link_base=links.public_url(request, "/account/email/"))
        messages.success(request, f"We sent a confirmation link to {user.email}.")
    return HttpResponseRedirect(_next(request, "/account/"))


@require_http_methods(["GET"])
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = verification.email_verify(token=token)
    except verification.VerificationError as exc:
        return render(request, "tenants/account/email_invalid.html", {"reason": str(exc)}, status=410)
    return render(request, "tenants/account/email_verified.html", {"email": user.email})
