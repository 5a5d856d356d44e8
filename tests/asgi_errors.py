"""A fixture that fails a test whose ASGI server logged an application error.

An exception inside a consumer does not fail the test that caused it: uvicorn logs "Exception in
ASGI application", closes the socket, and the browser quietly reconnects — which is how idle
sockets died every 5 s without a single red test. ``asgi_errors`` collects such records from
every thread while the test runs (the in-process uvicorn of ``tests/browser/asgi_server.py``
logs through the standard ``logging`` tree) and fails the test at teardown, quoting them. Tasks a
consumer starts and nobody awaits report through asyncio's "exception was never retrieved".

It is autouse: importing it into a conftest (or a test module) applies it to every test there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

FATAL = ("Exception in ASGI application", "exception was never retrieved")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if any(fatal in message for fatal in FATAL):
            error = f": {record.exc_info[1]!r}" if record.exc_info and record.exc_info[1] else ""
            self.found.append(f"{record.name}: {message.strip()}{error}")


@pytest.fixture(autouse=True)
def asgi_errors() -> Iterator[list[str]]:
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield collector.found
    finally:
        root.removeHandler(collector)
    if collector.found:
        pytest.fail("the ASGI server logged errors:\n" + "\n".join(collector.found), pytrace=False)
