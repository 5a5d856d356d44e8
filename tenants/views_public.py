"""Pages of the public site: landing, signup (asked for, then confirmed from the mailed link),
login and password reset, invitation acceptance."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from tenants import links, services, throttling
from tenants.forms import JoinForm, SignupForm
from tenants.models import Membership, User
from tenants.verification import email_mark_verified


def next_is_safe(request: HttpRequest, target: str) -> bool:
    """Allow relative targets and absolute ones on the apex or any customer subdomain.

    Every target passes Django's own check (backslashes, control characters, schemes), with
    https required when the request came over https; a target on another host of the domain
    must name no user or password.
    """
    secure = request.is_secure()
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=secure):
        return True
    try:
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    if parts.username is not None or parts.password is not None:
        return False
    if not (host == settings.HIVE_DOMAIN or host.endswith("." + settings.HIVE_DOMAIN)):
        return False
    return url_has_allowed_host_and_scheme(target, allowed_hosts={parts.netloc}, require_https=secure)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Ask for a portal. Whatever the address, the answer is "check your inbox": the new portal
    is made from the link we mail, and an address with an account gets a note instead."""
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if throttling.ip_rate_exceeded(request, group="signup", rate=settings.HIVE_RATE_SIGNUP_IP):
            return throttling.too_many_requests(request, "signups from your network")
        if form.is_valid():
            data = form.cleaned_data
            # Past the per-address limit nothing is mailed, and the answer stays the same.
            if not throttling.rate_exceeded(
                request, group="signup", value=data["email"], rate=settings.HIVE_RATE_SIGNUP
            ):
                services.signup_request(
                    company_name=data["company_name"],
                    subdomain=data["subdomain"],
                    email=data["email"],
                    password=data["password"],
                    link_base=links.public_url(request, "/signup/confirm/"),
                    login_url=links.public_url(request, reverse("login")),
                )
            return render(request, "tenants/signup_sent.html", {"email": data["email"]})
    return render(request, "tenants/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The mailed signup link: a button makes the portal (a GET alone never does, so mail
    scanners that open links create nothing), then the owner lands logged in on it."""
    try:
        pending = services.signup_from_token(token)
    except services.SignupError as exc:
        return render(request, "tenants/signup_invalid.html", {"reason": str(exc)}, status=410)
    if request.method == "POST":
        try:
            customer, user = services.signup_complete(signup=pending)
        except (services.SignupError, services.ProvisioningError) as exc:
            return render(request, "tenants/signup_invalid.html", {"reason": str(exc)}, status=409)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(links.portal_url(request, customer))
    return render(request, "tenants/signup_confirm.html", {"signup": pending})


class LoginView(auth_views.LoginView):
    template_name = "tenants/login.html"
    redirect_authenticated_user = False

    def get_redirect_url(self, request: HttpRequest | None = None) -> str:
        target = self.request.POST.get("next", self.request.GET.get("next", ""))
        return target if target and next_is_safe(self.request, target) else ""

    def get_success_url(self) -> str:
        target = self.get_redirect_url()
        if target:
            return target
        if getattr(self.request, "customer", None) is not None:
            return "/"
        user = self.request.user
        memberships = list(Membership.objects.filter(user=user).select_related("customer")[:2])  # type: ignore[misc]
        if len(memberships) == 1:
            return links.portal_url(self.request, memberships[0].customer)
        if user.is_staff and not memberships:
            return reverse("admin:index")
        return "/"


@require_http_methods(["POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(links.public_url(request))


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "tenants/password_reset.html"
    email_template_name = "emails/password_reset_body.txt"
    html_email_template_name = "emails/password_reset_body.html"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = "/password-reset/sent/"

    def form_valid(self, form: Any) -> HttpResponse:
        if throttling.ip_rate_exceeded(self.request, group="password-reset", rate=settings.HIVE_RATE_PASSWORD_RESET_IP):
            return throttling.too_many_requests(self.request, "password reset requests from your network")
        email = form.cleaned_data["email"]
        if throttling.rate_exceeded(
            self.request, group="password-reset", value=email, rate=settings.HIVE_RATE_PASSWORD_RESET
        ):
            # The same answer as when a mail goes out, so the limit tells nothing about the address.
            return HttpResponseRedirect(self.get_success_url())
        # The link goes to the apex domain whatever host the reset was asked on: Django would use
        # the request's host, and a portal host is chosen by its company, not by this user's.
        self.extra_email_context = {"domain": links.public_host(self.request), "site_name": "Agent Hive"}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from the mailed link also proves the address and lifts a login
    lockout of the account: its owner is back in at once, whoever was guessing."""

    template_name = "tenants/password_reset_confirm.html"
    success_url = "/reset/done/"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user: User = form.user
        throttling.login_unlock(email=user.email)
        email_mark_verified(user)
        return response


USED = "This invitation has already been used. Log in to reach the portal."


def _invitation_gone(request: HttpRequest, reason: services.InvitationError) -> HttpResponse:
    """410: the link was good once (used, withdrawn, expired) or never; the page says which."""
    return render(request, "tenants/invitation_invalid.html", {"reason": str(reason)}, status=410)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationError as exc:
        return _invitation_gone(request, exc)
    customer = invitation.customer
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            return render(request, "tenants/invitation_wrong_user.html", {"invitation": invitation}, status=403)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=user)
            except services.InvitationError as exc:
                return _invitation_gone(request, exc)
            return HttpResponseRedirect(links.portal_url(request, customer))
        return render(request, "tenants/invitation_accept.html", {"invitation": invitation})
    if User.objects.filter(email__iexact=invitation.email).exists():
        # The account may have just been made by a simultaneous accept of this very link: then the
        # link is used, and the answer says so (410) rather than sending this person to log in.
        invitation.refresh_from_db(fields=["accepted_at"])
        if invitation.accepted_at is not None:
            return _invitation_gone(request, services.InvitationError(USED))
        messages.info(request, f"Log in as {invitation.email} to join {customer.name}.")
        return redirect(f"{reverse('login')}?next={request.path}")
    form = JoinForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            new_user, _ = services.invitation_join(
                invitation=invitation, password=form.cleaned_data["password"], full_name=form.cleaned_data["full_name"]
            )
        except services.InvitationError as exc:
            return _invitation_gone(request, exc)
        login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(links.portal_url(request, customer))
    return render(request, "tenants/invitation_join.html", {"invitation": invitation, "form": form})
