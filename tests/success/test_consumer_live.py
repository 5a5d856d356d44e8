"""The dashboard socket through the real stack (uvicorn, hive.asgi, the Redis channel layer, a
websockets client): it stays up while idle, kept alive by the server, and still delivers events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django_tenants.utils import schema_context

from projects.delivery.events import event_append
from projects.models import Event
from tenants.sockets import KEEPALIVE_FRAME
from tests.browser.asgi_server import AsgiServer
from tests.live_sockets import dashboard_socket, frame, frame_with, logged_in
from tests.success.delivery import Delivery, delivery_make
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)
IDLE_SECONDS = 60


@pytest.fixture
def server() -> Iterator[AsgiServer]:
    server = AsgiServer().start()
    yield server
    server.stop()


@sync_to_async
def report(delivery: Delivery, message: str) -> int:
    with schema_context("alpha"):
        return event_append(project_id=delivery.project.pk, kind=Event.Kind.TASK_REPORT, message=message).pk


def test_an_idle_dashboard_socket_stays_up_for_a_minute_and_then_gets_the_next_event(
    world: World, server: AsgiServer
) -> None:
    with schema_context("alpha"):
        live = delivery_make("Quiet project", tasks=4)
    member = logged_in(world, "alpha_member")

    async def scenario() -> None:
        async with dashboard_socket(server, live.project.pk, member) as socket:
            assert 'id="dash-board"' in await frame(socket)
            keepalives = 0
            deadline = time.monotonic() + IDLE_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                try:
                    text = await frame(socket, timeout=left)
                except TimeoutError:
                    break
                assert text == KEEPALIVE_FRAME, f"an idle socket got {text[:200]!r}"
                keepalives += 1
            # The server spoke while nobody else did: proxies never see the socket idle.
            assert keepalives >= int(IDLE_SECONDS // settings.HIVE_WEBSOCKET_KEEPALIVE_SECONDS)
            event_id = await report(live, "after a quiet minute")
            text = await frame_with(socket, f'id="event-{event_id}"')
            assert "after a quiet minute" in text

    asyncio.run(scenario())
