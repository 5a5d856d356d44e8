"""Upload size caps that act before an upload is read: per view, at the ASGI door and in Django.

This module owns how large a request body and each uploaded file may be for the portal's upload
views (requirements documents, legacy archives), and the two places that enforce it:

- `RequestBodyLimit`, ASGI middleware in front of Django. Django's ASGI handler reads the whole
  body into a temporary file (on disk past `FILE_UPLOAD_MAX_MEMORY_SIZE`) before any view, upload
  handler or `DATA_UPLOAD_MAX_MEMORY_SIZE` check runs; so a body whose `Content-Length` is over
  the cap of the view it is addressed to is answered 413 without reading it, and a body without
  a length (chunked) is cut off once it passes the cap.
- `UploadLimitHandler`, the first of Django's upload handlers (WSGI, the test client, and any
  body that got past the door): it notes a `Content-Length` over the cap before parsing starts
  and stops the upload (`StopUpload(connection_reset=True)`: nothing more is read) at the
  first file part of such a request, or once one file passes the cap; no later handler (memory
  or temporary file) sees a byte of it. The form fields before the file are parsed as usual, so
  the view can show the refusal on the form with the customer's text kept (`upload_refusal`).

A view declares its cap with `@upload_limit("SETTING_NAME", "what it is")`; the cap is read from
settings at request time. Views without one get `DATA_UPLOAD_MAX_MEMORY_SIZE`, Django's own limit
for form data. Hand-written because Django has no per-view upload cap and no body limit under
ASGI; these are the documented extension points (upload handlers, ASGI middleware).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.urls import Resolver404, resolve

_MIB = 1024 * 1024
# Room for the form's other fields (pasted text, CSRF token) and the multipart framing: a body
# may be this much larger than the file cap before its Content-Length alone refuses it.
FORM_ALLOWANCE_BYTES = 2 * _MIB

_View = TypeVar("_View", bound=Callable[..., Any])

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class UploadCap:
    """The cap of one view: bytes per file, and what the upload is (for messages)."""

    file_bytes: int
    what: str

    @property
    def body_bytes(self) -> int:
        return self.file_bytes + FORM_ALLOWANCE_BYTES

    def message(self, size: int | None = None) -> str:
        actual = f" ({_size(size)})" if size is not None else ""
        return (
            f"The upload is too large{actual}: the limit for {self.what} is {_size(self.file_bytes)}. "
            "Nothing was saved. Choose a smaller file."
        )


def upload_limit(setting: str, what: str) -> Callable[[_View], _View]:
    """Mark a view as accepting uploads of up to ``settings.<setting>`` bytes per file."""

    def mark(view: _View) -> _View:
        view.upload_limit = (setting, what)  # type: ignore[attr-defined]
        return view

    return mark


def cap_of_view(view: Callable[..., Any] | None) -> UploadCap:
    marked: tuple[str, str] | None = getattr(view, "upload_limit", None)
    if marked is None:
        return UploadCap(file_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, what="this form")
    setting, what = marked
    return UploadCap(file_bytes=int(getattr(settings, setting)), what=what)


def cap_of_path(path: str) -> UploadCap:
    """The cap of the view ``path`` reaches. The door runs before the tenant middleware has
    chosen the URL configuration, so both are tried and the larger cap wins."""
    caps = []
    for urlconf in (settings.ROOT_URLCONF, getattr(settings, "PUBLIC_SCHEMA_URLCONF", settings.ROOT_URLCONF)):
        try:
            caps.append(cap_of_view(resolve(path, urlconf=urlconf).func))
        except Resolver404:
            continue
    return max(caps, key=lambda cap: cap.file_bytes, default=cap_of_view(None))


def _size(count: int) -> str:
    if count >= _MIB:
        return f"{count / _MIB:.1f} MB".replace(".0 MB", " MB")
    return f"{count:,} bytes"


class UploadLimitHandler(FileUploadHandler):
    """Stops an upload over its view's cap before any later handler stores a byte of it."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        match = getattr(request, "resolver_match", None)
        self.cap = cap_of_view(match.func if match is not None else None)
        self.refusal: str | None = None
        self.bytes_seen = 0  # of file content, over all files of the request

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        if content_length > self.cap.body_bytes:
            self.refusal = self.cap.message(content_length)
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self.refusal is not None:
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.bytes_seen += len(raw_data)
        if start + len(raw_data) > self.cap.file_bytes:
            self.refusal = self.cap.message()
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the memory or temporary-file handler after this one makes the file


def upload_refusal(request: HttpRequest) -> str | None:
    """Why the upload of this request was stopped, if it was."""
    request.POST  # noqa: B018  (parses the body, if nothing did yet, so the handlers have run)
    for handler in request.upload_handlers:
        if isinstance(handler, UploadLimitHandler) and handler.refusal is not None:
            return handler.refusal
    return None


class RequestBodyLimit:
    """ASGI middleware: a body over its view's cap is answered 413 and never read or stored."""

    def __init__(self, app: AsgiApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = cap_of_path(str(scope.get("path", "/")))
        declared = _content_length(scope)
        if declared is not None and declared > cap.body_bytes:
            await _too_large(send, cap, declared)
            return
        received = 0
        cut_off = False

        async def limited() -> Message:
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap.body_bytes:
                    # Django's handler treats a disconnect while reading the body as the end of
                    # the request and answers nothing; the 413 is sent below.
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited, send)
        if cut_off:
            await _too_large(send, cap, None)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, cap: UploadCap, size: int | None) -> None:
    text = html.escape(cap.message(size))
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Upload too large · Agent Hive</title>'
        '<link rel="stylesheet" href="/static/css/hive.css"></head><body><main class="card">'
        f'<h1>Upload too large</h1><p data-testid="upload-too-large">{text}</p>'
        "<p>Go back to the form to choose a smaller file.</p></main></body></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
