"""The portal's ASGI application (HTTP and websockets) served by uvicorn in a background thread.

pytest-django's ``live_server`` speaks WSGI only; websockets need the ASGI stack. The server runs
in this process, so it uses the test database; it can be stopped and started again on the same
port, which is how a browser test drops every websocket and watches the page reconnect.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AsgiServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> AsgiServer:
        from hive.asgi import application

        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            # uvicorn's own logging config would detach handlers from its loggers; without it they
            # propagate to the root logger, where tests.asgi_errors sees "Exception in ASGI application".
            log_config=None,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def origin(self, slug: str | None = None) -> str:
        from django.conf import settings

        host = f"{slug}.{settings.HIVE_DOMAIN}" if slug else settings.HIVE_DOMAIN
        return f"http://{host}:{self.port}"
