"""The live dashboard's websocket: ``ws/projects/<id>/`` on a customer's portal host.

``tenants.websockets.TenantWebsocketMiddleware`` has already checked the origin and put the
customer into the scope, and channels' auth stack the user. The consumer admits members of that
customer and staff (audited), only for a project that exists in that customer's schema; anyone
else is refused at the handshake. As a ``tenants.sockets.PortalConsumer`` it is closed as soon as
its user's access ends (removed, role changed, customer suspended, logged out, new password), and
sends a keep-alive frame while idle.

Order matters for "nothing is missed": the consumer joins the project's group
(``<schema>.project.<id>``) *before* it reads and sends the current state, so an event committed
in between is both in the state and in the queue; events the state already counted are skipped.
A reconnecting page sends its cursor (``?last=&seen=``, see ``success.fragments``) and gets only
what it missed when the cursor proves that is enough, else the whole state.

Events are handled in batches: the message handler only queues, and one flush task at a time
renders everything queued so far (the rows from the messages, the touched phases' boards and the
project-wide numbers from the database) and sends it as one frame. A burst of events costs one
render, not one per event. Consumers of the same project in one process share that render.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from projects.delivery.events import project_group
from projects.models import Project
from success.dashboard import FeedCursor, FeedEvent, feed_event_from_message, feed_group
from success.fragments import catch_up_html, cursor_html, rows_html, state_html, update_html
from tenants.models import Role
from tenants.sockets import PortalConsumer
from tenants.websockets import websocket_role

_CURSOR_NUMBER = re.compile(r"[0-9]{1,18}")
_COUNTED_KEPT = 500
# One render per (schema, project, boards, last event) in flight per process, shared by consumers.
_renders: dict[tuple[str, int, tuple[int, ...] | None, int], asyncio.Future[str]] = {}


class ProjectDashboardConsumer(PortalConsumer):
    group_name = ""

    async def connect(self) -> None:
        self.schema_name: str = self.scope.get("schema_name", "")
        self.project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        query = parse_qs(bytes(self.scope.get("query_string", b"")).decode("latin1"))
        self.feed = feed_group((query.get("feed") or [""])[0])
        since = cursor_from_query(query)
        admitted = await database_sync_to_async(self._admit)()
        if admitted is None:
            await self.close()
            return
        self.project: Project | None = admitted[0]
        self.pending: list[dict[str, Any]] = []
        self.flushing: asyncio.Task[None] | None = None
        self.group_name = project_group(self.schema_name, self.project_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.portal_accept(admitted[1])
        await self._send_state(since)

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
        flushing = getattr(self, "flushing", None)
        if flushing is not None:
            flushing.cancel()
        await super().disconnect(code)

    async def access_changed(self, role: Role) -> None:
        """What a role may see or do can differ: the whole state again."""
        await self._send_state(None)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The dashboard only listens; whatever a client sends is ignored."""

    async def project_event(self, message: dict[str, Any]) -> None:
        self.pending.append(message)
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.ensure_future(self._flush())

    # --- rendering -----------------------------------------------------------------------------

    def _admit(self) -> tuple[Project, Role] | None:
        role = websocket_role(self.scope) if self.schema_name else None
        if role is None:
            return None
        with schema_context(self.schema_name):
            project = Project.objects.filter(pk=self.project_id).first()
        return None if project is None else (project, role)

    async def _send_state(self, since: FeedCursor | None) -> None:
        """Only what was missed when the client's cursor allows, else everything."""
        sent = await database_sync_to_async(self._catch_up)(since) if since is not None else None
        if sent is None:
            sent = await database_sync_to_async(self._state)()
        html, cursor = sent
        self.last, self.seen, self.counted = cursor.last, cursor.seen, set(cursor.recent)
        await self.send(text_data=html)

    def _state(self) -> tuple[str, FeedCursor]:
        assert self.project is not None
        with schema_context(self.schema_name):
            return state_html(self.project, self.feed)

    def _catch_up(self, since: FeedCursor) -> tuple[str, FeedCursor] | None:
        assert self.project is not None
        with schema_context(self.schema_name):
            return catch_up_html(self.project, self.feed, since)

    def _update(self, phase_ids: tuple[int, ...] | None) -> str:
        assert self.project is not None
        with schema_context(self.schema_name):
            return str(update_html(self.project, phase_ids))

    async def _flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            rows: list[FeedEvent] = []
            for message in batch:
                event = feed_event_from_message(message)
                if event.id in self.counted:  # already in the state this client got
                    continue
                self.counted.add(event.id)
                self.seen += 1
                self.last = max(self.last, event.id)
                if self.feed.kinds is None or event.kind in self.feed.kinds:
                    rows.append(event)
            # Events without a phase (project started, paused, ...) may touch every phase.
            phases = {message.get("phase_id") for message in batch}
            phase_ids = None if None in phases else tuple(sorted(int(p) for p in phases if p is not None))
            last = max(int(message["event_id"]) for message in batch)
            if len(self.counted) > 2 * _COUNTED_KEPT:
                # Only the ids around the state's read can arrive twice; the set need not grow forever.
                self.counted = set(sorted(self.counted)[-_COUNTED_KEPT:])
            numbers = await self._shared_update(phase_ids, last)
            await self.send(text_data=numbers + rows_html(rows) + cursor_html(FeedCursor(self.last, self.seen)))

    async def _shared_update(self, phase_ids: tuple[int, ...] | None, last_event_id: int) -> str:
        key = (self.schema_name, self.project_id, phase_ids, last_event_id)
        future = _renders.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            _renders[key] = future
            try:
                future.set_result(await database_sync_to_async(self._update)(phase_ids))
            except Exception as error:
                _renders.pop(key, None)
                future.set_exception(error)
                future.exception()  # whoever shares it gets the error; no "never retrieved" warning
                raise
            # Consumers a little behind in the same batch still find it for a moment; then it is gone.
            asyncio.get_running_loop().call_later(1.0, _renders.pop, key, None)
        # Shielded: a consumer that disconnects while waiting must not cancel the others' render.
        return await asyncio.shield(future)


def cursor_from_query(query: dict[str, list[str]]) -> FeedCursor | None:
    """The cursor a reconnecting page sends (``?last=<id>&seen=<count>``), or None if absent or
    not two plain numbers (whatever it says, it only decides how much of its own project to send)."""
    last, seen = (query.get("last") or [""])[0], (query.get("seen") or [""])[0]
    if not (_CURSOR_NUMBER.fullmatch(last) and _CURSOR_NUMBER.fullmatch(seen)):
        return None
    return FeedCursor(int(last), int(seen))
