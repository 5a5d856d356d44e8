"""Access changes reach open sockets (tenants/sockets.py): removing a member, changing a role,
suspending the customer, logging out and a new password each reach the dashboard sockets already
open, through uvicorn, the Redis channel layer and a websockets client, within 2 s; everyone
else's sockets stay open and live."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import schema_context
from websockets.asyncio.client import ClientConnection

from projects.delivery.events import event_append
from projects.models import Event
from tenants import services
from tenants.models import Membership
from tenants.sockets import ACCESS_ENDED
from tests.asgi_errors import asgi_errors  # noqa: F401  (autouse: fails a test whose ASGI server logged an error)
from tests.browser.asgi_server import AsgiServer
from tests.live_sockets import closed_code, dashboard_socket, frame, frame_with, logged_in
from tests.success.delivery import Delivery, delivery_make
from tests.success.memory_cache import MEMORY_CACHES
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)
WITHIN = 2.0


@pytest.fixture
def server(settings: Any) -> Iterator[AsgiServer]:
    settings.CACHES = MEMORY_CACHES
    server = AsgiServer().start()
    yield server
    server.stop()


def project(on: str = "alpha") -> Delivery:
    with schema_context(on):
        return delivery_make("Watched", tasks=4)


@sync_to_async
def report(delivery: Delivery, message: str, on: str = "alpha") -> int:
    with schema_context(on):
        return event_append(project_id=delivery.project.pk, kind=Event.Kind.TASK_REPORT, message=message).pk


async def still_live(socket: ClientConnection, delivery: Delivery, on: str = "alpha") -> None:
    event_id = await report(delivery, "still watching", on)
    await frame_with(socket, f'id="event-{event_id}"')


async def ends_within(socket: ClientConnection, started: float) -> None:
    code = await closed_code(socket, WITHIN - (time.monotonic() - started))
    assert code == ACCESS_ENDED, f"the socket was not closed for lost access within {WITHIN} s (close code {code})"


def membership(world: World, user: str, on: str = "alpha") -> Membership:
    return Membership.objects.get(user=world.users[user], customer=world.customers[on])


def test_removing_a_member_closes_their_open_socket_and_no_one_elses(world: World, server: AsgiServer) -> None:
    live = project()
    member, viewer = logged_in(world, "alpha_member"), logged_in(world, "alpha_viewer")
    owner = logged_in(world, "alpha_owner")
    removed = membership(world, "alpha_member")

    async def scenario() -> None:
        async with (
            dashboard_socket(server, live.project.pk, member) as theirs,
            dashboard_socket(server, live.project.pk, viewer) as others,
        ):
            await frame(theirs), await frame(others)
            started = time.monotonic()
            response = await sync_to_async(owner.post)(f"/members/{removed.pk}/remove/")
            assert response.status_code == 302
            await ends_within(theirs, started)
            await still_live(others, live)

    asyncio.run(scenario())
    assert not Membership.objects.filter(pk=removed.pk).exists()


def test_a_role_change_is_re_evaluated_on_the_open_socket(world: World, server: AsgiServer) -> None:
    live = project()
    member, owner = logged_in(world, "alpha_member"), logged_in(world, "alpha_owner")
    changed = membership(world, "alpha_member")

    async def scenario() -> None:
        async with dashboard_socket(server, live.project.pk, member) as socket:
            await frame(socket)
            started = time.monotonic()
            response = await sync_to_async(owner.post)(f"/members/{changed.pk}/role/", {"role": "viewer"})
            assert response.status_code == 302
            # Every role may watch the dashboard, so the socket stays, and shows what the new role sees.
            state = await frame_with(socket, 'id="dash-board"', timeout=WITHIN - (time.monotonic() - started))
            assert 'id="event-feed"' in state
            await still_live(socket, live)

    asyncio.run(scenario())
    assert membership(world, "alpha_member").role == "viewer"


def test_suspending_a_customer_closes_its_members_sockets_only(world: World, server: AsgiServer) -> None:
    alpha, beta = project("alpha"), project("beta")
    alpha_owner, beta_member = logged_in(world, "alpha_owner"), logged_in(world, "beta_member", on="beta")

    async def scenario() -> None:
        async with (
            dashboard_socket(server, alpha.project.pk, alpha_owner) as suspended,
            dashboard_socket(server, beta.project.pk, beta_member, on="beta") as others,
        ):
            await frame(suspended), await frame(others)
            started = time.monotonic()
            await sync_to_async(services.customer_suspend)(customer=world.customers["alpha"], reason="unpaid")
            await ends_within(suspended, started)
            await still_live(others, beta, on="beta")

    asyncio.run(scenario())


def test_logging_out_closes_the_sockets_of_that_session_only(world: World, server: AsgiServer) -> None:
    live = project()
    laptop, phone = logged_in(world, "alpha_member"), logged_in(world, "alpha_member")

    async def scenario() -> None:
        async with (
            dashboard_socket(server, live.project.pk, laptop) as leaving,
            dashboard_socket(server, live.project.pk, phone) as staying,
        ):
            await frame(leaving), await frame(staying)
            started = time.monotonic()
            assert (await sync_to_async(laptop.post)("/logout/")).status_code == 302
            await ends_within(leaving, started)
            await still_live(staying, live)

    asyncio.run(scenario())


def test_a_new_password_closes_the_users_open_sockets(world: World, server: AsgiServer) -> None:
    live = project()
    member, viewer = logged_in(world, "alpha_member"), logged_in(world, "alpha_viewer")
    user = world.users["alpha_member"]
    link = f"/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"

    def reset_password() -> None:
        client = Client(HTTP_HOST="hive.localhost")
        form = client.get(link, follow=True)
        assert b"Choose a new password" in form.content
        new = "a-brand-new-secret-9"
        done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
        assert done.status_code == 302 and re.search(r"/reset/done/$", done["Location"])

    async def scenario() -> None:
        async with (
            dashboard_socket(server, live.project.pk, member) as theirs,
            dashboard_socket(server, live.project.pk, viewer) as others,
        ):
            await frame(theirs), await frame(others)
            started = time.monotonic()
            await sync_to_async(reset_password)()
            await ends_within(theirs, started)
            await still_live(others, live)

    asyncio.run(scenario())
