"""The relay beside a customer's preview inside its sandbox (agents/previews.py): accept HTTP
connections on a listening Unix socket it inherited and pipe each, both ways, to the application's
TCP port on the sandbox's own loopback.

The sandbox has a network namespace of its own, so the application's port cannot be reached from
the host; a Unix socket can, because a socket works across network namespaces. The socket is made
and bound on the host, in a private directory of the preview that no sandbox can see, and only its
file descriptor is handed in (``--listen fd:N``): the sandboxed code can accept on it, but neither
it nor any other project's sandbox can name, replace or connect to another preview's socket.

Standard library only and free of the platform's imports: it is passed to the sandbox's Python as
``-c`` source, since the checkout itself is not visible inside the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence

CHUNK = 65536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


def _handler(host: str, port: int) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError:  # the application is not listening (yet): the client sees the connection close
            writer.close()
            return
        try:
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        finally:
            for side in (writer, upstream_writer):
                side.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await side.wait_closed()

    return handle


async def serve(listen_fd: int, connect: str) -> None:
    host, _, port = connect.partition(":")[2].rpartition(":")
    listener = socket.socket(fileno=listen_fd)
    listener.setblocking(False)
    server = await asyncio.start_unix_server(_handler(host, int(port)), sock=listener)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="pipe connections from an inherited Unix socket to a TCP port")
    parser.add_argument("--listen", required=True, help="fd:N, a listening Unix socket this process inherited")
    parser.add_argument("--connect", required=True, help="tcp:HOST:PORT")
    options = parser.parse_args(argv)
    kind, _, number = options.listen.partition(":")
    if kind != "fd" or not number.isdigit() or not options.connect.startswith("tcp:"):
        parser.error("--listen fd:N --connect tcp:HOST:PORT")
    try:
        asyncio.run(serve(int(number), options.connect))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
