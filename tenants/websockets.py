"""Websockets into a customer's portal: host → customer, same-origin check, and who may connect.

django-tenants only knows HTTP, so ``TenantWebsocketMiddleware`` does for a websocket handshake
what ``tenants.middleware`` does for a request: the ``Host`` header names the customer (through the
same cached Domain lookup), the apex and unknown hosts are refused, and the customer and its
schema go into the scope (``scope["customer"]``, ``scope["schema_name"]``). It also refuses any
handshake whose ``Origin`` is not exactly the portal's own origin: a page on a sibling portal
(``beta.hive.localhost``) carries the same parent-domain session cookie, so only an exact host and
port match keeps another customer's page — or a generated app — from riding a user's session.
A handshake without ``Origin`` (no browser sends one) is refused too.

Place it outside ``AuthMiddlewareStack``; consumers then call ``websocket_role`` (synchronously,
through ``database_sync_to_async``) to admit members and staff — staff entries are audited exactly
like HTTP visits — and refuse everyone else.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django_tenants.utils import remove_www, schema_context

from tenants import access, host_cache, two_factor
from tenants.models import Customer, Domain, Membership, Role, User

ASGIApp = Any  # channels' applications are untyped callables (scope, receive, send)
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin1")
    return None


def origin_matches_host(origin: str | None, host: str | None) -> bool:
    """True when ``origin`` (``scheme://host[:port]``) names exactly the host and port of ``host``."""
    if not origin or not host:
        return False
    parsed = urlsplit(origin)
    if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname:
        return False
    try:
        origin_port = parsed.port or DEFAULT_PORTS[parsed.scheme]
        requested = urlsplit(f"{parsed.scheme}://{host}")
        host_port = requested.port or DEFAULT_PORTS[parsed.scheme]
    except ValueError:  # a malformed port
        return False
    return parsed.hostname == (requested.hostname or "").lower() and origin_port == host_port


def _customer_for_host(hostname: str) -> Customer | None:
    customer: Customer | None = host_cache.get(hostname)
    if customer is None:
        with schema_context("public"):
            domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        if domain is None:
            return None
        customer = domain.tenant
        host_cache.put(hostname, customer)
    return customer


class TenantWebsocketMiddleware:
    """ASGI middleware for websockets: same-origin check, then the customer named by the host."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceiveCallable, send: ASGISendCallable) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("TenantWebsocketMiddleware serves websockets only")
        host = _header(scope, b"host")
        if not origin_matches_host(_header(scope, b"origin"), host):
            return await WebsocketDenier()(scope, receive, send)
        hostname = remove_www((host or "").split(":")[0]).lower()
        customer = None
        if hostname not in settings.HIVE_PUBLIC_HOSTS:
            customer = await database_sync_to_async(_customer_for_host)(hostname)
        if customer is None:
            return await WebsocketDenier()(scope, receive, send)
        scope = dict(scope, customer=customer, schema_name=customer.schema_name)
        return await self.inner(scope, receive, send)


def websocket_role(scope: dict[str, Any], *, fresh: bool = False) -> Role | None:
    """The portal role of the scope's user (owner rights for staff), or None to refuse.

    Members of a suspended customer are refused (their HTTP pages say why), so is a login that
    must still confirm its second factor (``tenants.two_factor``); a staff entry is recorded once
    per session, as for HTTP. ``fresh`` reads the membership from the database, not the shared
    cache (``tenants.sockets`` re-checking an open socket). Call from a sync context.
    """
    customer: Customer | None = scope.get("customer")
    user = scope.get("user")
    if customer is None or not isinstance(user, User) or not user.is_active:
        return None
    session: SessionBase = scope["session"]
    # A login that still owes its second factor opens no socket, as it opens no page.
    if two_factor.required_by(user, customer) and not two_factor.session_is_verified(user, session):
        return None
    if fresh:
        membership = Membership.objects.filter(user=user, customer=customer).first()
    else:
        membership = access.membership_for(user, customer)
    if membership is not None:
        return None if customer.is_suspended else Role(membership.role)
    if not user.is_staff:
        return None
    client = scope.get("client") or ("", 0)
    path = scope.get("path", "")
    if access.staff_entry_record(user=user, customer=customer, session=session, path=path, ip=str(client[0])):
        session.save()  # a websocket has no response to carry the session save, as HTTP does
    return Role.OWNER
