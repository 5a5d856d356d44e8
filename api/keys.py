"""Writes of the API keys: create (the clear key is returned once and never stored), revoke, and
resolve a presented key to its row, recording its last use.

Each is written to the audit log (``tenants.audit``) in its own transaction, and announced by the
signals of ``api.signals``. A key's use is audited when its last use is recorded — the first
request of each minute — not every request: a busy integration would otherwise write a row per
call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_api_key.crypto import KeyGenerator

from api.models import ApiKey, Scope
from api.signals import api_key_created, api_key_revoked
from tenants.audit import audit_record
from tenants.models import User

API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"
API_KEY_USED = "api_key.used"

# 8 random characters of prefix, 32 of secret (about 190 bits): hashed once with SHA-512, which is
# enough for a random secret and keeps verification to microseconds on every request.
GENERATOR = KeyGenerator(prefix_length=8, secret_key_length=32)
# A key's last use is written at most this often, so a busy key costs no write per request.
LAST_USE_RESOLUTION = timedelta(seconds=60)
MAX_NAME = 80


class ApiKeyError(Exception):
    """The key cannot be made or changed; the message is for the owner."""


def _schema() -> str:
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    return schema


@transaction.atomic
def api_key_create(*, name: str, scope: Scope, user: User, expires_at: datetime | None) -> tuple[ApiKey, str]:
    """A new key of this company; returns the row and the clear key (shown once, never kept)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ApiKeyError(f"Give the key a name of 1 to {MAX_NAME} characters.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyError("The expiry must be in the future.")
    key, prefix, hashed = GENERATOR.generate()
    row = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        hashed_key=hashed,
        scope=scope,
        created_by=user,
        created_by_email=user.email,
        expires_at=expires_at,
    )
    audit_record(
        action=API_KEY_CREATED,
        user=user,
        obj=row,
        detail={"prefix": prefix, "scope": scope.value, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    schema = _schema()
    transaction.on_commit(lambda: api_key_created.send(ApiKey, key=row, user=user, schema_name=schema))
    return row, key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, user: User) -> ApiKey:
    """Revoke the key for good; revoking twice keeps the first revocation."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.revoked_by_email = user.email
    key.save(update_fields=["revoked_at", "revoked_by_email"])
    audit_record(action=API_KEY_REVOKED, user=user, obj=key, detail={"prefix": key.prefix})
    schema = _schema()
    transaction.on_commit(lambda: api_key_revoked.send(ApiKey, key=key, user=user, schema_name=schema))
    return key


def api_key_resolve(presented: str) -> ApiKey | None:
    """The usable key (not revoked, not expired) of this schema that ``presented`` is, or None."""
    prefix, dot, secret = presented.partition(".")
    if not dot or not prefix or not secret or len(presented) > 200:
        return None
    # The maker (public schema, on the search path) comes along: authentication checks them next.
    key = ApiKey.objects.select_related("created_by").filter(prefix=prefix).first()
    if key is None or not key.is_active or not GENERATOR.verify(presented, key.hashed_key):
        return None
    return key


def api_key_touch(key: ApiKey, request: HttpRequest) -> bool:
    """Record that the key was used now, at most once per ``LAST_USE_RESOLUTION`` (and audit that
    use, by the key's maker through the key); True when recorded."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USE_RESOLUTION:
        return False
    with transaction.atomic():
        # Conditional, so concurrent first requests of a minute record one use, not one each.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USE_RESOLUTION)
        if not ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now):
            return False
        audit_record(
            action=API_KEY_USED,
            request=request,
            user=key.created_by,
            actor_label=f"{key.created_by_email} (API key {key.prefix})",
            obj=key,
            detail={"method": request.method or "", "path": request.path[:300]},
        )
    key.last_used_at = now
    return True
