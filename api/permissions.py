"""What a key may do: every key reads; a write key of a member writes; the owner's decisions
(approvals, quote acceptance) need a write key whose maker is an owner now."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from api.authentication import KeyClient
from tenants.models import ROLE_RANK, Role


def key_client(request: Request) -> KeyClient | None:
    user = request.user
    return user if isinstance(user, KeyClient) else None


class KeyCanRead(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return key_client(request) is not None


class KeyCanWrite(KeyCanRead):
    message = "This needs a write key of a member of the company."

    def has_permission(self, request: Request, view: Any) -> bool:
        client = key_client(request)
        if client is None:
            return False
        if request.method in SAFE_METHODS:
            return True
        return client.key.can_write and ROLE_RANK[client.role] >= ROLE_RANK[Role.MEMBER]


class OwnerKeyOnly(KeyCanRead):
    """Even to read: the quote's consent step shows the card, and only an owner decides on it."""

    message = "This needs a write key made by an owner of the company."

    def has_permission(self, request: Request, view: Any) -> bool:
        client = key_client(request)
        return client is not None and client.key.can_write and client.role == Role.OWNER


class OwnerKey(KeyCanRead):
    message = "This needs a write key made by an owner of the company."

    def has_permission(self, request: Request, view: Any) -> bool:
        client = key_client(request)
        if client is None:
            return False
        if request.method in SAFE_METHODS:
            return True
        return client.key.can_write and client.role == Role.OWNER
