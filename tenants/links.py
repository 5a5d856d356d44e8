"""Absolute links between the public site and customer portals.

Scheme and port come from the request being served, so the same code works on
``http://hive.localhost:8000`` in development and ``https://agenthive.example`` in production.
The host never does: it is the apex (``HIVE_DOMAIN``) or a customer's primary domain, so links
mailed to someone never carry a host another customer's request chose.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest

from tenants.models import Customer


def _origin(request: HttpRequest, host: str) -> str:
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    suffix = "" if port in (default, "") else f":{port}"
    return f"{request.scheme}://{host}{suffix}"


def public_url(request: HttpRequest, path: str = "/") -> str:
    return _origin(request, settings.HIVE_DOMAIN) + path


def public_host(request: HttpRequest) -> str:
    """The apex domain with the served port (``hive.localhost:8000``): where reset and
    invitation links point, whichever host the request that made them came in on."""
    return public_url(request, "").split("://", 1)[1]


def portal_url(request: HttpRequest, customer: Customer, path: str = "/") -> str:
    domain = customer.get_primary_domain()
    host = domain.domain if domain is not None else f"{customer.schema_name}.{settings.HIVE_DOMAIN}"
    return _origin(request, host) + path


def portal_link(schema_name: str, path: str) -> str:
    """An absolute link into a customer's portal for mail sent without a request (signal
    receivers, beat tasks), built from ``HIVE_SITE_URL`` with the company's slug before the host."""
    site = urlsplit(settings.HIVE_SITE_URL)
    return urlunsplit((site.scheme, f"{schema_name}.{site.netloc}", path, "", ""))
