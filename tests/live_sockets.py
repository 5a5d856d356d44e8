"""Dashboard websockets against the real stack: the in-process uvicorn server
(``tests/browser/asgi_server.py``) serving ``hive.asgi``, the Redis channel layer, and a
``websockets`` client that sends what a browser sends (portal Host and Origin, session cookie).

This machine's libc does not resolve ``*.localhost``: the client connects to 127.0.0.1 and names
the portal in the URL, so Host and Origin are the portal's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from django.conf import settings
from django.test import Client
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.browser.asgi_server import AsgiServer
from tests.world import World, host_of

FRAME_TIMEOUT = 10.0


def logged_in(world: World, user: str, on: str = "alpha") -> Client:
    """A test client on the portal with its own session (the cookie a socket presents)."""
    return world.client(user, on=on)


def cookie_of(client: Client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@asynccontextmanager
async def dashboard_socket(
    server: AsgiServer, project_id: int, client: Client, *, on: str = "alpha", query: str = ""
) -> AsyncIterator[ClientConnection]:
    host = f"{host_of(on)}:{server.port}"
    async with connect(
        f"ws://{host}/ws/projects/{project_id}/{query}",
        host="127.0.0.1",
        port=server.port,
        origin=f"http://{host}",  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie_of(client)},
        proxy=None,
        ping_interval=None,  # the client stays silent: only the server may keep the socket alive
        open_timeout=FRAME_TIMEOUT,
    ) as socket:
        yield socket


async def frame(socket: ClientConnection, timeout: float = FRAME_TIMEOUT) -> str:
    data = await asyncio.wait_for(socket.recv(), timeout)
    return data if isinstance(data, str) else data.decode()


async def frame_with(socket: ClientConnection, needle: str, timeout: float = FRAME_TIMEOUT) -> str:
    """The first frame containing ``needle`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        text = await frame(socket, max(0.01, deadline - time.monotonic()))
        if needle in text:
            return text


async def closed_code(socket: ClientConnection, timeout: float) -> int | None:
    """The close code the server sends within ``timeout`` seconds (frames before it are skipped);
    None if the socket is still open then."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            await frame(socket, max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return None  # still open
