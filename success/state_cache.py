"""The rendered dashboard of a project, cached until the project's next event.

Everything the dashboard shows changes only with an event: the workflow appends one with every
change of a phase, task or run (``projects.delivery.events``). So the rendered state is kept in the cache
(Redis) under the project's *event version*, a counter bumped after every committed event, and a
page view or poll with nothing new costs two cache reads instead of fifteen queries and the
rendering. What moves with the clock alone (the "now" line, a phase running past its planned
end) is at most ``TTL_SECONDS`` old.

Keys go through django-tenants' key function, so they carry the schema name, and they name the
database too, so checkouts and test runs that share one Redis never see each other's pages. The
bump happens in the schema of the event, after its commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils.safestring import SafeString
from django_tenants.utils import schema_context

from projects.models import Event

TTL_SECONDS = 60


def _key(*parts: object) -> str:
    return ":".join(["success", "dashboard", str(connection.settings_dict["NAME"]), *map(str, parts)])


def _version_key(project_id: int) -> str:
    return _key("version", project_id)


def version_bump(project_id: int) -> None:
    key = _version_key(project_id)
    try:
        cache.incr(key)
    except ValueError:  # no counter yet (or evicted): any new value invalidates
        cache.add(key, 1, timeout=None)


def cached_html(project_id: int, name: str, render: Callable[[], str]) -> SafeString:
    """``render()``'s HTML for the project's current event version, from the cache when there."""
    version_key, state_key = _version_key(project_id), _key(name, project_id)
    found = cache.get_many([version_key, state_key])
    version = found.get(version_key, 0)
    state = found.get(state_key)
    if state is not None and state[0] == version:
        return SafeString(state[1])
    html = render()
    cache.set(state_key, (version, str(html)), timeout=TTL_SECONDS)
    return SafeString(html)


def version_bump_on_commit(project_id: int) -> None:
    """Invalidate the project's rendered dashboard once the current transaction commits (for
    changes the dashboard shows that are not events: acceptance decisions, survey answers)."""
    schema: str = connection.schema_name  # type: ignore[attr-defined]

    def bump() -> None:
        with schema_context(schema):
            version_bump(project_id)

    transaction.on_commit(bump)


def _event_saved(sender: type[Event], instance: Event, created: bool, **_: Any) -> None:
    if created:
        version_bump_on_commit(instance.project_id)


def connect_invalidation() -> None:
    from django.db.models.signals import post_save

    post_save.connect(_event_saved, sender=Event, dispatch_uid="success_dashboard_version")
