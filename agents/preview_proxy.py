"""A small byte pipe for previews (agents/previews.py): accept connections on one socket and pipe
each to a new connection to another, both ways, until either side closes.

A sandboxed preview has no network but a loopback of its own, so it cannot be reached on the
host's 127.0.0.1; but a Unix socket in a directory both sides see works across network
namespaces. Two of these bridge the gap:

* on the host (trusted, in the preview's process group): ``--listen tcp:127.0.0.1:<port>
  --connect unix:<dir>/app.sock``;
* inside the sandbox, next to the application: ``--listen unix:<dir>/app.sock --connect
  tcp:127.0.0.1:<port>`` (the application's own port on the sandbox's private loopback).

Standard library only, run as a script (``python agents/preview_proxy.py``): it imports nothing of
the platform. With ``--leader PID`` it exits once that process (the preview's process group leader)
is gone, so a forwarder never outlives the application it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

CHUNK = 65536


async def _open(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    kind, _, rest = address.partition(":")
    if kind == "unix":
        return await asyncio.open_unix_connection(rest)
    host, _, port = rest.rpartition(":")
    return await asyncio.open_connection(host, int(port))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


def _handler(target: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await _open(target)
        except OSError:  # the other side is not listening (yet): the client sees the connection close
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


def _leader_alive(leader: int) -> bool:
    try:
        with open(f"/proc/{leader}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != b"Z" and int(fields[2]) == os.getpgrp()


async def serve(listen: str, connect: str, leader: int | None = None) -> None:
    kind, _, rest = listen.partition(":")
    handle = _handler(connect)
    if kind == "unix":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(rest)
        server = await asyncio.start_unix_server(handle, rest)
    else:
        host, _, port = rest.rpartition(":")
        server = await asyncio.start_server(handle, host, int(port))
    async with server:
        if leader is None:
            await server.serve_forever()
            return
        while _leader_alive(leader):
            await asyncio.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="pipe connections from one socket to another")
    parser.add_argument("--listen", required=True, help="tcp:HOST:PORT or unix:PATH")
    parser.add_argument("--connect", required=True, help="tcp:HOST:PORT or unix:PATH")
    parser.add_argument("--leader", type=int, default=None, help="exit when this process is gone")
    options = parser.parse_args(argv)
    try:
        asyncio.run(serve(options.listen, options.connect, options.leader))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
