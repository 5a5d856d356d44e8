"""Celery tasks of the success app: the reports of the beat schedule and the watch sweep.

Each task walks the tenant schemas and does one schema's work inside ``schema_context``, so one
customer's failure is logged and the others still get theirs.

* ``success.daily_summaries`` (daily): yesterday's summary of every active project.
* ``success.weekly_briefings`` (Mondays): last week's executive briefing of every customer.
* ``success.notification_digests`` (daily): each person's digest of the notifications they
  chose to get that way (``success.notifications.digests_send``).
* ``success.watch`` (every ten minutes): evaluate gates left gating and move finished
  remediation on (``success.gates.gates_sweep``), assess guarantees whose window closed, escalate
  projects late past the threshold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from celery import shared_task
from django_tenants.utils import schema_context

from projects.delivery.sweeps import tenant_schemas
from success.escalations import timeline_watch
from success.gates import gates_sweep
from success.guarantee import guarantees_due_assess
from success.notifications import digests_send
from success.reports import daily_summaries_make, last_week_start, weekly_briefing_make

log = logging.getLogger(__name__)


def _each_schema(work: Callable[[], int]) -> int:
    done = 0
    for schema in tenant_schemas():
        with schema_context(schema):
            try:
                done += work()
            except Exception:
                log.exception("success work failed in schema %s", schema)
    return done


@shared_task(name="success.daily_summaries")
def daily_summaries(day: str | None = None) -> int:
    wanted = date.fromisoformat(day) if day else None
    return _each_schema(lambda: len(daily_summaries_make(day=wanted)))


@shared_task(name="success.weekly_briefings")
def weekly_briefings(week_start: str | None = None) -> int:
    start = date.fromisoformat(week_start) if week_start else last_week_start()

    def one_schema() -> int:
        weekly_briefing_make(week_start=start)
        return 1

    return _each_schema(one_schema)


@shared_task(name="success.watch")
def watch() -> int:
    def one_schema() -> int:
        return gates_sweep() + len(guarantees_due_assess()) + len(timeline_watch())

    return _each_schema(one_schema)


@shared_task(name="success.notification_digests")
def notification_digests() -> int:
    return _each_schema(digests_send)
