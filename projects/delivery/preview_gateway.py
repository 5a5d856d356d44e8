"""The preview gateway: the ASGI application that serves every host under ``HIVE_PREVIEW_DOMAIN``
by proxying HTTP to the project's preview over its private Unix socket (agents/previews.py).

hive/asgi.py puts it in front of everything else, so preview hosts never reach Django's tenant
middleware (which would look them up as customers) and portal hosts never reach this. Per request:

* the host names a preview (``projects.delivery.previews.preview_host_parse``), else 404;
* ``/__hive__/enter?token=…`` redeems the portal's one-time token for the preview's cookie and
  redirects to ``/``; every other path needs that cookie, checked against the current membership
  (``projects.delivery.previews``). Whoever is not admitted gets the same 404, whether or not the preview
  exists or runs;
* the request body is read up to ``HIVE_PREVIEW_MAX_BODY_BYTES`` (413 beyond), then sent to the
  preview with the hop-by-hop headers removed, and with the admission cookie and any cookie named
  like the portal's session or CSRF cookie taken out of ``Cookie`` (the browser does not send the
  portal's cookies to this origin; this makes sure nothing that looks like them is passed on);
* the answer streams back as it comes, hop-by-hop headers removed, each read bounded by
  ``HIVE_PREVIEW_TIMEOUT_SECONDS`` and the whole body by ``HIVE_PREVIEW_MAX_RESPONSE_BYTES``
  (beyond which the connection is cut). Websockets to previews are refused.

HTTP/1.1 framing towards the preview is h11's (the maintained sans-IO parser uvicorn uses); what is
hand-written is the policy around it: admission, header filtering and limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import h11
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django_tenants.utils import schema_context

from agents.previews import Preview, preview_get, preview_socket_open, preview_touch
from projects.delivery import previews

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Set here, never taken from the client.
_OURS = frozenset({b"content-length", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"})
CHUNK = 65536
CONNECT_SECONDS = 5.0
ACTIVITY_EVERY_SECONDS = 30.0
_NOT_FOUND = b"Not found\n"
_NOT_RUNNING = (
    b"<!doctype html><title>Preview stopped</title><p>This preview is not running. Start it again from the"
    b" project's page in your portal.</p>\n"
)


def _hostname(scope: Scope) -> str:
    """The request's host name, lower-case and without the port."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = str(value.decode("latin-1")).strip().lower()
            return host if host.endswith("]") else host.rsplit(":", 1)[0]
    return ""


def _hop_by_hop(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The standard hop-by-hop headers and those a ``Connection`` header names."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
        if token.strip()
    }
    return HOP_BY_HOP | named


def _cookies(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in headers:
        if name.lower() == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, item = part.strip().partition("=")
                if key:
                    pairs.append((key, item))
    return pairs


def _forwarded_cookie(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The ``Cookie`` header for the preview: its own cookies only."""
    withheld = {previews.COOKIE_NAME, settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
    kept = [f"{key}={value}" for key, value in _cookies(headers) if key not in withheld]
    return "; ".join(kept).encode("latin-1")


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    base = [
        (b"content-type", b"text/html; charset=utf-8" if body.startswith(b"<") else b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


def _public(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``function`` on Django's thread, in the public schema (users, customers, memberships), with
    the connection handling Django does around a request: these requests never pass its handler."""

    def run(*args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            with schema_context("public"):
                return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run)


async def _read_body(receive: Receive, limit: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("the client went away")
        body += message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return bytes(body)


class PreviewGateway:
    """Preview hosts to the preview proxy, everything else to ``portal``."""

    def __init__(self, portal: ASGIApp) -> None:
        self.portal = portal
        self._touched: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not previews.is_preview_host(_hostname(scope)):
            await self.portal(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.serve(scope, receive, send)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        parsed = previews.preview_host_parse(_hostname(scope))
        if parsed is None:
            await _respond(send, 404, _NOT_FOUND)
            return
        schema, project_id = parsed
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
        if scope["path"] == previews.ENTER_PATH:
            await self.enter(scope, send, schema, project_id)
            return
        values = [value for key, value in _cookies(headers) if key == previews.COOKIE_NAME]
        admits = _public(previews.preview_cookie_admits)
        if not values or await admits(values, schema=schema, project_id=project_id) is None:
            await _respond(send, 404, _NOT_FOUND)
            return
        home = previews.preview_home(schema, project_id)
        preview = preview_get(home)
        if preview is None:
            await _respond(send, 503, _NOT_RUNNING)
            return
        try:
            body = await _read_body(receive, settings.HIVE_PREVIEW_MAX_BODY_BYTES)
        except BodyTooLarge:
            await _respond(send, 413, b"The request is too large for a preview.\n")
            return
        except ConnectionResetError:  # the client left before its request was complete
            return
        self._touch(home)
        await self.proxy(scope, send, preview, headers, body)

    async def enter(self, scope: Scope, send: Send, schema: str, project_id: int) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        redeem = _public(previews.preview_token_redeem)
        user = await redeem(token, schema=schema, project_id=project_id) if scope["method"] == "GET" else None
        if user is None:
            await _respond(send, 404, _NOT_FOUND)
            return
        value = previews.preview_cookie_value(schema=schema, project_id=project_id, user=user)
        cookie = (
            f"{previews.COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax;"
            f" Max-Age={settings.HIVE_PREVIEW_SESSION_SECONDS}"
        )
        if settings.SESSION_COOKIE_SECURE:
            cookie += "; Secure"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", b"/"),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _touch(self, home: Path) -> None:
        """Record activity for the idle stop, at most every ACTIVITY_EVERY_SECONDS per preview."""
        now = time.monotonic()
        key = str(home)
        if now - self._touched.get(key, -ACTIVITY_EVERY_SECONDS) >= ACTIVITY_EVERY_SECONDS:
            self._touched[key] = now
            with contextlib.suppress(OSError):
                preview_touch(home)

    async def proxy(
        self, scope: Scope, send: Send, preview: Preview, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        dropped = _hop_by_hop(headers) | _OURS | {b"cookie"}
        upstream = [(name, value) for name, value in headers if name.lower() not in dropped]
        cookie = _forwarded_cookie(headers)
        if cookie:
            upstream.append((b"cookie", cookie))
        client = scope.get("client") or ("", 0)
        upstream += [
            (b"x-forwarded-for", str(client[0]).encode()),
            (b"x-forwarded-proto", str(scope.get("scheme", "http")).encode()),
            (b"connection", b"close"),
        ]
        if body or scope["method"] in ("POST", "PUT", "PATCH"):
            upstream.append((b"content-length", str(len(body)).encode()))
        target = scope.get("raw_path") or scope["path"].encode("utf-8")
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        timeout = settings.HIVE_PREVIEW_TIMEOUT_SECONDS
        try:
            reader, writer = await asyncio.wait_for(preview_socket_open(Path(preview.socket_dir)), CONNECT_SECONDS)
        except (OSError, TimeoutError):
            await _respond(send, 502, b"The preview did not answer.\n")
            return
        connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
        started = False
        try:
            request = h11.Request(method=scope["method"], target=target, headers=upstream)
            writer.write(connection.send(request) or b"")
            if body:
                writer.write(connection.send(h11.Data(data=body)) or b"")
            writer.write(connection.send(h11.EndOfMessage()) or b"")
            await writer.drain()
            event = await _next(connection, reader, timeout)
            while isinstance(event, h11.InformationalResponse):
                event = await _next(connection, reader, timeout)
            if not isinstance(event, h11.Response):
                raise h11.RemoteProtocolError("no response")
            returned = list(event.headers)
            skip = _hop_by_hop(returned)
            kept = [
                (name, _host_only(value) if name == b"set-cookie" else value)
                for name, value in returned
                if name not in skip
                and not (name == b"set-cookie" and value.split(b"=", 1)[0].strip() == previews.COOKIE_NAME.encode())
            ]
            await send({"type": "http.response.start", "status": event.status_code, "headers": kept})
            started = True
            sent = 0
            while True:
                event = await _next(connection, reader, timeout)
                if isinstance(event, h11.Data):
                    sent += len(event.data)
                    if sent > settings.HIVE_PREVIEW_MAX_RESPONSE_BYTES:
                        raise ResponseTooLarge
                    await send({"type": "http.response.body", "body": bytes(event.data), "more_body": True})
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    await send({"type": "http.response.body", "body": b""})
                    return
        except (OSError, TimeoutError, h11.ProtocolError, ResponseTooLarge):
            if not started:
                await _respond(send, 502, b"The preview did not answer.\n")
            # Under way, the response is left unfinished: the server cuts the connection, and the
            # browser sees a broken transfer rather than a complete-looking truncated page.
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class ResponseTooLarge(Exception):
    pass


async def _next(connection: h11.Connection, reader: asyncio.StreamReader, timeout: float) -> Any:
    """h11's next event, reading from the preview as needed, each read within ``timeout``."""
    while True:
        event = connection.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await asyncio.wait_for(reader.read(CHUNK), timeout)
        connection.receive_data(data)


def _host_only(cookie: bytes) -> bytes:
    """A preview's cookie without its ``Domain`` attribute: host-only, so code on a preview host
    can never set a cookie for a parent domain the portal (or another preview) would receive."""
    parts = [part for part in cookie.split(b";") if not part.strip().lower().startswith(b"domain=")]
    return b";".join(parts)
