"""What may be a customer's subdomain: a lowercase DNS label, not reserved, not taken.

The subdomain is also the customer's PostgreSQL schema name, so the rules here keep both valid.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

MIN_LENGTH = 3
MAX_LENGTH = 40
LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
RESERVED = frozenset(
    {
        "www",
        "admin",
        "api",
        "public",
        "static",
        "media",
        "mail",
        "smtp",
        "ftp",
        "app",
        "apps",
        "hive",
        "help",
        "support",
        "status",
        "docs",
        "blog",
        "billing",
        "stripe",
        "webhooks",
        "auth",
        "login",
        "signup",
        "account",
        "accounts",
        "dashboard",
        "portal",
        "assets",
        "cdn",
        "ws",
        "wss",
        "preview",
        "previews",
        "internal",
        "staff",
        "root",
        "test",
        "localhost",
    }
)


def validate_subdomain(value: str) -> str:
    """Return the subdomain if it may be used, else raise ValidationError with a clear message."""
    from tenants.models import Domain

    slug = value.strip()
    if not slug:
        raise ValidationError("Choose a subdomain for your portal.", code="required")
    if slug != slug.lower():
        raise ValidationError("Use lowercase letters only, e.g. “acme”.", code="case")
    if len(slug) < MIN_LENGTH or len(slug) > MAX_LENGTH:
        raise ValidationError(
            f"A subdomain has {MIN_LENGTH} to {MAX_LENGTH} characters; “{slug}” has {len(slug)}.", code="length"
        )
    if not LABEL_RE.match(slug):
        raise ValidationError(
            "Use only lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
            code="invalid",
        )
    if "--" in slug:
        raise ValidationError("Two hyphens in a row are not allowed in a subdomain.", code="invalid")
    if slug in RESERVED:
        raise ValidationError(f"“{slug}” is reserved. Please choose another subdomain.", code="reserved")
    from django.conf import settings

    if Domain.objects.filter(domain=f"{slug}.{settings.HIVE_DOMAIN}").exists() or _schema_taken(slug):
        raise ValidationError(f"“{slug}” is already taken. Please choose another subdomain.", code="taken")
    return slug


def _schema_taken(slug: str) -> bool:
    from tenants.models import Customer

    return bool(Customer.objects.filter(schema_name__iexact=slug).exists())
