"""The two middlewares every request passes: host → schema, then who may enter this portal.

``HostTenantMiddleware`` replaces django-tenants' main middleware: the apex domain (and local
aliases) serve the public schema; ``<slug>.<HIVE_DOMAIN>`` serves that customer; an unknown host
is a 404. It sets ``request.customer`` (None on the public site) for our code and keeps
``request.tenant`` as django-tenants expects it. ``TenantAccessMiddleware`` is the one access
path into a portal: members enter, staff enter and are audit-logged, everyone else gets a 404
(anonymous users are sent to log in). ``AuditRequestMiddleware`` lends the request to audit
entries written below the views.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from tenants import access, host_cache
from tenants.audit import audit_request
from tenants.models import Customer, Domain

# Paths of a portal that anyone may reach: the login flow, health, static files and the favicon, the
# account pages (two-factor, re-authentication, e-mail verification: they concern only the person),
# and the REST API (which admits API keys only, checked by its own authentication).
OPEN_PREFIXES = (
    "/login/",
    "/logout/",
    "/password-reset/",
    "/reset/",
    "/account/",
    "/healthz",
    "/static/",
    "/favicon.ico",
    "/api/",
)


class HostTenantMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        hostname = remove_www(request.get_host().split(":")[0]).lower()
        if hostname in settings.HIVE_PUBLIC_HOSTS:
            request.customer = None  # type: ignore[attr-defined]
            request.tenant = connection.tenant  # type: ignore[attr-defined]
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None
        if hostname == settings.HIVE_PREVIEW_DOMAIN or hostname.endswith(f".{settings.HIVE_PREVIEW_DOMAIN}"):
            # Previews are served by the ASGI preview gateway (hive.asgi), never as a portal.
            raise Http404("Previews are served by the preview gateway")
        customer = host_cache.get(hostname)
        if customer is None:
            domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
            if domain is None:
                raise Http404(f"No portal at {hostname}")
            customer = domain.tenant
            host_cache.put(hostname, customer)
        customer.domain_url = hostname
        request.customer = request.tenant = customer  # type: ignore[attr-defined]
        connection.set_tenant(customer)  # type: ignore[attr-defined]
        self.setup_url_routing(request)
        return None


class TenantAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        customer: Customer | None = getattr(request, "customer", None)
        request.membership = None  # type: ignore[attr-defined]
        if customer is None:
            return self.get_response(request)
        if request.path.startswith(OPEN_PREFIXES):
            # Open to anyone, but a member's own pages (their account) still know who they are:
            # the header shows their role, and nobody is taken for a visiting account manager.
            if request.user.is_authenticated:
                request.membership = access.membership_for(request.user, customer)  # type: ignore[attr-defined]
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = access.membership_for(request.user, customer)
        if membership is None and not request.user.is_staff:
            raise Http404("Not a member of this customer")
        request.membership = membership  # type: ignore[attr-defined]
        if membership is None:
            access.record_staff_entry(request, customer)
        elif customer.is_suspended:
            return render(request, "tenants/suspended.html", {"customer": customer}, status=403)
        return self.get_response(request)


class AuditRequestMiddleware:
    """Attribute audit entries written while serving a request to its user and address
    (``tenants.audit``): services below the views take no request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_request(request):
            return self.get_response(request)
