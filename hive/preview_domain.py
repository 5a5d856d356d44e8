"""Which domain customer previews may be served on, checked when the settings load.

A preview is customer-generated code. On a host under ``HIVE_DOMAIN`` its scripts could read the
portal's cookies (``Domain=.<HIVE_DOMAIN>``) or plant their own; with ``HIVE_DOMAIN`` under the
preview domain, a preview could set a cookie the portal receives. Both are refused outright, so a
configuration mistake stops the process instead of exposing every customer's session.
"""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

_HOST_RE = re.compile(r"^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")


def preview_domain_default(portal: str) -> str:
    """A sibling of the portal's domain for development (``hive.localhost`` → ``preview.localhost``)."""
    parent = portal.split(".", 1)[1] if "." in portal else "localhost"
    return f"preview.{parent}"


def preview_domain_check(domain: str, *, portal: str) -> str:
    """The preview domain, lower-cased, or ImproperlyConfigured saying what is wrong with it."""
    domain, portal = domain.strip().lower().rstrip("."), portal.strip().lower().rstrip(".")
    if not domain:
        raise ImproperlyConfigured(
            "HIVE_PREVIEW_DOMAIN must be set when DEBUG is off: a domain for customer previews that is "
            "not under HIVE_DOMAIN, preferably a registrable domain of its own"
        )
    if not _HOST_RE.match(domain):
        raise ImproperlyConfigured(f"HIVE_PREVIEW_DOMAIN {domain!r} is not a host name")
    if domain == portal or domain.endswith(f".{portal}"):
        raise ImproperlyConfigured(
            f"HIVE_PREVIEW_DOMAIN {domain!r} is under HIVE_DOMAIN {portal!r}: previews would share the "
            "portal's cookies. Use a sibling or a domain of its own."
        )
    if portal.endswith(f".{domain}"):
        raise ImproperlyConfigured(
            f"HIVE_DOMAIN {portal!r} is under HIVE_PREVIEW_DOMAIN {domain!r}: previews could set cookies the "
            "portal receives. Use a sibling or a domain of its own."
        )
    return domain
