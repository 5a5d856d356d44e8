"""A company's API keys (tenant schema): hashed, scoped, expiring, revocable, with their last use.

The key material — generation of a random prefix and secret and the SHA-512 hash that is stored —
comes from djangorestframework-api-key's ``KeyGenerator`` (maintained, constant-time verification).
Its model is not used: it knows no scope, no last use and no creator, and as a concrete model of a
shared app it would live in the public schema, where one company's keys would sit beside another's.
This small model keeps the keys in the company's own schema, so a key can only ever be found on its
own company's host.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiKey(models.Model):
    name = models.CharField(max_length=80)
    # The first part of the key as given to the client (``<prefix>.<secret>``); shown in the portal.
    prefix = models.CharField(max_length=16, unique=True)
    hashed_key = models.CharField(max_length=200)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    # The owner who made the key. Writes through the key are recorded as theirs, and stop when
    # they are no longer an owner (or member) of the company. Users live in the public schema.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_by_email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_email = models.EmailField(blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def can_write(self) -> bool:
        return self.scope == Scope.WRITE
