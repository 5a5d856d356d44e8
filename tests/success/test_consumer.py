"""The dashboard websocket through the full ASGI stack (hive.asgi.application): Host → tenant,
Origin check, session cookie → user, membership, project in this schema; live fragments."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.test import Client
from django_tenants.utils import schema_context

from hive.asgi import application
from projects.delivery.events import event_append
from projects.models import Event, Project, Service, Task
from tenants.audit import Action
from tenants.models import AuditEntry, StaffEntry
from tests.success.delivery import Delivery, delivery_make
from tests.world import World, host_of

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 5


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


def session_cookie(world: World, user: str) -> str:
    # The world's client: a staff login there has confirmed its second factor, as it must.
    client = world.client(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def socket(
    world: World, project_id: int, *, user: str | None, on: str = "alpha", origin: str | None = None, query: str = ""
) -> WebsocketCommunicator:
    host = host_of(on)
    headers = [(b"host", host.encode()), (b"origin", (origin or f"http://{host}").encode())]
    if user is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_cookie(world, user)}".encode()))
    return WebsocketCommunicator(application, f"/ws/projects/{project_id}/{query}", headers=headers)


def delivery(on: str = "alpha", name: str = "Live project") -> Delivery:
    with schema_context(on):
        return delivery_make(name, tasks=8)


@sync_to_async
def append(schema: str, delivery: Delivery, kind: Event.Kind, message: str, task: Task | None = None) -> int:
    with schema_context(schema):
        return event_append(project_id=delivery.project.pk, kind=kind, message=message, task=task).pk


@sync_to_async
def move(schema: str, task: Task, status: Task.Status, kind: Event.Kind) -> int:
    """A task changes status and says so, in one transaction (as orchestration does)."""
    from django.db import transaction

    with schema_context(schema), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(status=status)
        return event_append(project_id=task.project_id, kind=kind, task=task, message=f"{task.title} {status}").pk


async def receive_until(communicator: WebsocketCommunicator, needle: str) -> str:
    """Frames until one contains ``needle`` (events of other tests' projects never arrive here)."""
    seen = []
    for _ in range(20):
        frame: str = await communicator.receive_from(timeout=TIMEOUT)
        seen.append(frame)
        if needle in frame:
            return frame
    raise AssertionError(f"{needle!r} not in {len(seen)} frames")


async def refused(communicator: WebsocketCommunicator) -> bool:
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    # As a server does after a refused handshake too: tell the application the socket is gone, so
    # it ends on its own. Left running, it was cancelled when the test's event loop closed, and a
    # cancellation landing inside channels_redis's blocking read could hang that close forever.
    await communicator.disconnect()
    return not connected


def test_a_member_gets_the_state_first_then_the_projects_events(world: World) -> None:
    live = delivery()
    task = next(t for t in live.tasks if t.status == Task.Status.READY)

    communicator = socket(world, live.project.pk, user="alpha_viewer")

    async def scenario() -> None:
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        state = await communicator.receive_from(timeout=TIMEOUT)
        for fragment in ("dash-summary", "dash-board", "event-feed", "dash-agents", "dash-timeline"):
            assert f'id="{fragment}"' in state
        assert "Live project started" in state

        event_id = await append("alpha", live, Event.Kind.TASK_REPORT, "wrote docs/requirements.md", task)
        frame = await receive_until(communicator, f'id="event-{event_id}"')
        assert 'hx-swap-oob="afterbegin:#event-feed"' in frame and "wrote docs/requirements.md" in frame
        assert f'id="phase-{task.phase_id}"' in frame and 'id="dash-summary"' in frame

        moved = await move("alpha", task, Task.Status.RUNNING, Event.Kind.TASK_STARTED)
        frame = await receive_until(communicator, f'id="event-{moved}"')
        running = frame.split('data-column="running"', 1)[1].split('data-column="waiting"', 1)[0]
        assert f'data-testid="task-{task.pk}"' in running
        await communicator.disconnect()

    run(scenario)


def test_a_reconnecting_member_gets_the_events_it_missed(world: World) -> None:
    live = delivery()

    communicator = socket(world, live.project.pk, user="alpha_member")
    again = socket(world, live.project.pk, user="alpha_member")

    async def scenario() -> None:
        assert (await communicator.connect(timeout=TIMEOUT))[0]
        await communicator.receive_from(timeout=TIMEOUT)
        await communicator.disconnect()
        missed = [await append("alpha", live, Event.Kind.TASK_REPORT, f"missed report {n}") for n in range(3)]

        assert (await again.connect(timeout=TIMEOUT))[0]
        state = await again.receive_from(timeout=TIMEOUT)
        for event_id in missed:
            assert f'id="event-{event_id}"' in state
        await again.disconnect()

    run(scenario)


def test_the_feed_filter_holds_for_live_rows_too(world: World) -> None:
    live = delivery()

    communicator = socket(world, live.project.pk, user="alpha_member", query="?feed=problems")

    async def scenario() -> None:
        assert (await communicator.connect(timeout=TIMEOUT))[0]
        state = await communicator.receive_from(timeout=TIMEOUT)
        assert "Live project started" not in state
        quiet = await append("alpha", live, Event.Kind.TASK_REPORT, "routine report")
        frame = await receive_until(communicator, 'id="dash-summary"')
        assert f"event-{quiet}" not in frame
        loud = await append("alpha", live, Event.Kind.TASK_BLOCKED, "blocked after 3 attempts")
        await receive_until(communicator, f'id="event-{loud}"')
        await communicator.disconnect()

    run(scenario)


@pytest.mark.parametrize("user", ["beta_owner", "outsider", None])
def test_users_of_other_tenants_and_anonymous_users_are_refused(world: World, user: str | None) -> None:
    live = delivery()
    communicator = socket(world, live.project.pk, user=user)
    async_to_sync(_assert_refused)(communicator)


@pytest.mark.parametrize(
    "origin",
    [
        "http://beta.hive.localhost",  # a sibling portal carries the same parent-domain cookie
        "http://alpha.hive.localhost:8443",  # another port is another origin
        "https://evil.test",
        "null",
    ],
)
def test_a_foreign_origin_is_refused(world: World, origin: str) -> None:
    live = delivery()
    communicator = socket(world, live.project.pk, user="alpha_owner", origin=origin)
    async_to_sync(_assert_refused)(communicator)


def test_a_handshake_without_origin_is_refused(world: World) -> None:
    live = delivery()
    cookie = session_cookie(world, "alpha_owner")
    headers = [(b"host", host_of("alpha").encode()), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    async_to_sync(_assert_refused)(
        WebsocketCommunicator(application, f"/ws/projects/{live.project.pk}/", headers=headers)
    )


def test_a_member_of_a_cannot_subscribe_to_a_project_that_exists_only_in_b(world: World) -> None:
    tops = []
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            tops.append(Project.objects.aggregate(top=Max("pk"))["top"] or 0)
    free_id = max(tops) + 1000
    with schema_context("beta"):
        Project.objects.create(pk=free_id, name="Beta secret", service=Service.MVP)
        with connection.cursor() as cursor:  # beta's own ids continue after it
            cursor.execute("SELECT setval(pg_get_serial_sequence('projects_project', 'id'), %s)", [free_id])

    intruder = socket(world, free_id, user="alpha_owner", on="alpha")
    communicator = socket(world, free_id, user="beta_member", on="beta")

    async def scenario() -> None:
        assert await refused(intruder)
        # The same id on its own tenant's host works for that tenant's member.
        assert (await communicator.connect(timeout=TIMEOUT))[0]
        assert 'id="dash-board"' in await communicator.receive_from(timeout=TIMEOUT)
        await communicator.disconnect()

    run(scenario)


def test_unknown_and_public_hosts_are_refused(world: World) -> None:
    live = delivery()

    async def scenario() -> None:
        for host in ("nosuch.hive.localhost", settings.HIVE_DOMAIN):
            headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
            assert await refused(
                WebsocketCommunicator(application, f"/ws/projects/{live.project.pk}/", headers=headers)
            )

    run(scenario)


def test_staff_are_admitted_to_any_tenant_and_audited(world: World) -> None:
    live = delivery(on="beta", name="Beta live")

    communicator = socket(world, live.project.pk, user="staff", on="beta")
    communicator.scope["client"] = ("198.51.100.3", 50123)

    async def scenario() -> None:
        assert (await communicator.connect(timeout=TIMEOUT))[0]
        await communicator.receive_from(timeout=TIMEOUT)
        await communicator.disconnect()

    run(scenario)
    entries = list(StaffEntry.objects.filter(customer=world.customers["beta"]).values_list("user__email", "path"))
    assert entries == [("staff@hive.test", f"/ws/projects/{live.project.pk}/")]
    (audited,) = AuditEntry.objects.filter(action=Action.STAFF_ENTERED)
    assert (audited.actor, audited.tenant, audited.ip) == (
        world.users["staff"],
        world.customers["beta"],
        "198.51.100.3",
    )


def test_a_staff_login_without_its_second_factor_opens_no_socket_and_records_nothing(world: World) -> None:
    live = delivery(on="beta", name="Beta live")
    password_only = Client()
    password_only.force_login(world.users["staff"])
    cookie = password_only.cookies[settings.SESSION_COOKIE_NAME].value
    host = host_of("beta")
    headers = [
        (b"host", host.encode()),
        (b"origin", f"http://{host}".encode()),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]

    async_to_sync(_assert_refused)(
        WebsocketCommunicator(application, f"/ws/projects/{live.project.pk}/", headers=headers)
    )
    assert not StaffEntry.objects.exists()


async def _assert_refused(communicator: WebsocketCommunicator) -> None:
    assert await refused(communicator)


def cursor_of(frame: str) -> tuple[int, int]:
    found = re.search(r'id="dash-cursor" hidden data-last="(\d+)" data-seen="(\d+)"', frame)
    assert found, "the frame carries no cursor"
    return int(found.group(1)), int(found.group(2))


def test_every_frame_carries_the_cursor_of_the_events_it_covers(world: World) -> None:
    live = delivery()
    communicator = socket(world, live.project.pk, user="alpha_member")

    async def scenario() -> None:
        assert (await communicator.connect(timeout=TIMEOUT))[0]
        last, seen = cursor_of(await communicator.receive_from(timeout=TIMEOUT))
        assert seen == await sync_to_async(_event_count)(live)
        event_id = await append("alpha", live, Event.Kind.TASK_REPORT, "one more")
        assert event_id > last
        assert cursor_of(await receive_until(communicator, f'id="event-{event_id}"')) == (event_id, seen + 1)
        await communicator.disconnect()

    run(scenario)


def test_a_reconnecting_page_gets_only_what_it_missed(world: World) -> None:
    live = delivery()
    task = next(t for t in live.tasks if t.status == Task.Status.READY)
    first = socket(world, live.project.pk, user="alpha_member")

    async def scenario() -> None:
        assert (await first.connect(timeout=TIMEOUT))[0]
        state = await first.receive_from(timeout=TIMEOUT)
        last, seen = cursor_of(state)
        await first.disconnect()
        missed = [
            await append("alpha", live, Event.Kind.TASK_REPORT, "missed while away", task),
            await move("alpha", task, Task.Status.RUNNING, Event.Kind.TASK_STARTED),
        ]

        again = await sync_to_async(socket)(
            world, live.project.pk, user="alpha_member", query=f"?feed=all&last={last}&seen={seen}"
        )
        assert (await again.connect(timeout=TIMEOUT))[0]
        frame = await again.receive_from(timeout=TIMEOUT)
        for event_id in missed:
            assert f'id="event-{event_id}"' in frame
        assert 'hx-swap-oob="afterbegin:#event-feed"' in frame  # rows added on top, the feed is kept
        assert 'id="event-feed"' not in frame and 'id="dash-board"' not in frame  # no whole state
        running = frame.split(f'id="phase-{task.phase_id}"', 1)[1].split('data-column="waiting"', 1)[0]
        assert f'data-testid="task-{task.pk}"' in running.split('data-column="running"', 1)[1]
        assert cursor_of(frame) == (max(missed), seen + 2)
        assert len(frame) < len(state)
        await again.disconnect()

    run(scenario)


def test_a_reconnect_that_missed_nothing_gets_only_its_cursor_back(world: World) -> None:
    live = delivery()
    first = socket(world, live.project.pk, user="alpha_member")

    async def scenario() -> None:
        assert (await first.connect(timeout=TIMEOUT))[0]
        last, seen = cursor_of(await first.receive_from(timeout=TIMEOUT))
        await first.disconnect()
        query = f"?last={last}&seen={seen}"
        again = await sync_to_async(socket)(world, live.project.pk, user="alpha_member", query=query)
        assert (await again.connect(timeout=TIMEOUT))[0]
        frame = await again.receive_from(timeout=TIMEOUT)
        assert cursor_of(frame) == (last, seen) and "<section" not in frame
        # ...and it is live like any other socket.
        event_id = await append("alpha", live, Event.Kind.TASK_REPORT, "after the reconnect")
        await receive_until(again, f'id="event-{event_id}"')
        await again.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "cursor",
    [
        "wrong-count",  # an event at or below `last` the page never saw (a late commit): not provable
        "last=abc&seen=1",
        "last=-5&seen=0",
        "last=1&seen=99999999999999999999999",
        "last=%EF%BC%91&seen=1",  # a full-width digit
        "last=1",
    ],
)
def test_a_cursor_that_proves_nothing_gets_the_whole_state(world: World, cursor: str) -> None:
    live = delivery()
    first = socket(world, live.project.pk, user="alpha_member")

    async def scenario() -> None:
        assert (await first.connect(timeout=TIMEOUT))[0]
        last, seen = cursor_of(await first.receive_from(timeout=TIMEOUT))
        await first.disconnect()
        query = f"?last={last}&seen={seen - 1}" if cursor == "wrong-count" else f"?{cursor}"
        again = await sync_to_async(socket)(world, live.project.pk, user="alpha_member", query=query)
        assert (await again.connect(timeout=TIMEOUT))[0]
        frame = await again.receive_from(timeout=TIMEOUT)
        assert 'id="dash-board"' in frame and 'id="event-feed"' in frame
        assert cursor_of(frame) == (last, seen)
        await again.disconnect()

    run(scenario)


def _event_count(live: Delivery) -> int:
    with schema_context("alpha"):
        return Event.objects.filter(project=live.project).count()
