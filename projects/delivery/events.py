"""The project event stream: appending events and publishing them to the channel layer.

Every event is a row first (the database is the truth; a reconnecting dashboard reads the rows),
and after the commit a small message goes to the channel-layer group ``<schema>.project.<id>``,
sent in commit order by one publisher thread per process. A failed publish is logged and lost
only for live listeners, never for the record.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.db import connection, transaction

from projects.delivery.faults import customer_text
from projects.models import Event, Phase, Run, Task

log = logging.getLogger(__name__)


def project_group(schema_name: str, project_id: int) -> str:
    return f"{schema_name}.project.{project_id}"


class _Publisher:
    """One event loop thread per process that sends to the channel layer in commit order.

    ``async_to_sync`` per event would start a fresh event loop, and with it a fresh Redis
    connection, for every event; this keeps one loop (and channels_redis's connection pool) alive.
    Started lazily, and again in a forked child (Celery's prefork pool), since threads do not
    survive a fork.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None

    def _start(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, dict[str, Any]]]]:
        with self._lock:
            if self._pid != os.getpid() or self._loop is None or self._queue is None:
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_until_complete(self._drain(queue))

                threading.Thread(target=serve, name="event-publisher", daemon=True).start()
                ready.wait(timeout=5)
                self._pid, self._loop, self._queue = os.getpid(), loop, queue
            return self._loop, self._queue

    @staticmethod
    async def _drain(queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        layer = get_channel_layer()
        while True:
            group, message = await queue.get()
            try:
                if layer is not None:
                    await layer.group_send(group, message)
            except Exception:  # the event row is committed; live listeners catch up from the database
                log.warning("could not publish %s to %s", message.get("kind"), group, exc_info=True)

    def publish(self, group: str, message: dict[str, Any]) -> None:
        loop, queue = self._start()
        loop.call_soon_threadsafe(queue.put_nowait, (group, message))


_publisher = _Publisher()


def event_append(
    *,
    project_id: int,
    kind: Event.Kind,
    message: str = "",
    actor: str = "system",
    phase: Phase | None = None,
    task: Task | None = None,
    run: Run | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an event to the project's stream and publish it once the transaction commits (its
    message as a customer may read it: ``projects.delivery.faults.customer_text``)."""
    message = customer_text(message)
    event = Event.objects.create(
        project_id=project_id,
        kind=kind,
        message=message,
        actor=actor,
        phase_id=phase.pk if phase is not None else (task.phase_id if task is not None else None),
        task_id=task.pk if task is not None else None,
        run_id=run.pk if run is not None else None,
        data=data or {},
    )
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    payload = {
        "type": "project.event",
        "event_id": event.pk,
        "kind": event.kind,
        "project_id": project_id,
        "phase_id": event.phase_id,
        "task_id": event.task_id,
        "message": message,
        "actor": actor,
        "created_at": event.created_at.isoformat(),
    }
    group = project_group(schema, project_id)
    transaction.on_commit(lambda: _publisher.publish(group, payload))
    return event
