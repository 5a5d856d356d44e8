"""The latest recorded measurements of a project, by key, with where each came from.

Agents record numbers by putting measurement keys into the data of a ``task.report`` event or of
their outcome (``Task.output["data"]``); account managers and the success app record them as
``Measurement`` rows of a ``SuccessMetric`` whose code is the key (a UAT result, a baseline
benchmark). ``reading_latest`` merges both and keeps the newest value of each key.

The keys the quality gates and the guarantee read (declared once in ``tenants.quality.Measure``):

==============================  =====================================================  ========
key                             meaning                                                unit
==============================  =====================================================  ========
``coverage_percent``            line coverage of the automated tests                   %
``tests_passed``                automated tests that passed (same record as failed)    count
``tests_failed``                automated tests that failed or errored                 count
``security_high_findings``      HIGH findings of the static security scan              count
``page_load_p95_ms``            95th percentile page load over the preview's pages     ms
``parity_percent``              legacy tests passing against the new implementation    %
``performance_percent``         legacy time / new time on the same benchmark × 100     %
``uat_satisfaction_percent``    users satisfied in user acceptance testing             %
==============================  =====================================================  ========

A key nobody recorded has no reading: callers show it as unknown, never as a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from projects.models import Event, Project, Task
from success.models import Measurement

# How many recent records of each source are scanned for the keys.
SCAN = 200


@dataclass(frozen=True, slots=True)
class Record:
    """One record carrying measurements: its numbers, when, and a sentence saying where from."""

    values: Mapping[str, Decimal]
    at: datetime
    source: str


def number(value: object) -> Decimal | None:
    """A recorded value as a Decimal; None for anything that is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _numbers(data: Mapping[str, Any], keys: set[str]) -> dict[str, Decimal]:
    found = {key: number(data.get(key)) for key in keys if key in data}
    return {key: value for key, value in found.items() if value is not None}


def records_read(project: Project, keys: Iterable[str]) -> list[Record]:
    """Every recent record of the project that carries one of ``keys``, newest first (three queries)."""
    wanted = set(keys)
    if not wanted:
        return []
    records: list[Record] = []
    events = (
        Event.objects.filter(project=project, kind=Event.Kind.TASK_REPORT, data__has_any_keys=sorted(wanted))
        .order_by("-created_at", "-pk")
        .values_list("pk", "created_at", "data", "actor", "task__title")[:SCAN]
    )
    for pk, created_at, data, actor, title in events:
        values = _numbers(data, wanted)
        if values:
            records.append(Record(values, created_at, f"report of {actor} on “{title or 'the project'}” (event #{pk})"))
    outputs = (
        Task.objects.filter(
            project=project,
            status=Task.Status.DONE,
            finished_at__isnull=False,
            output__data__has_any_keys=sorted(wanted),
        )
        .order_by("-finished_at", "-pk")
        .values_list("pk", "finished_at", "output", "title")[:SCAN]
    )
    for pk, finished_at, output, title in outputs:
        values = _numbers(output.get("data") or {}, wanted)
        if values and finished_at is not None:
            records.append(Record(values, finished_at, f"outcome of task #{pk} “{title}”"))
    measured = (
        Measurement.objects.filter(metric__project=project, metric__code__in=wanted)
        .order_by("-measured_at", "-pk")
        .values_list("metric__code", "value", "measured_at", "source", "recorded_by_email")[:SCAN]
    )
    for code, value, measured_at, source, who in measured:
        records.append(Record({code: value}, measured_at, f"{source} (recorded by {who})"))
    records.sort(key=lambda record: record.at, reverse=True)
    return records


@dataclass(frozen=True, slots=True)
class Reading:
    values: Mapping[str, Decimal]
    at: datetime
    source: str


def reading_latest(records: Iterable[Record], keys: tuple[str, ...]) -> Reading | None:
    """The newest record holding *all* of ``keys`` (numbers that belong together, such as passed
    and failed tests, must come from one record), or None."""
    for record in records:
        if all(key in record.values for key in keys):
            return Reading({key: record.values[key] for key in keys}, record.at, record.source)
    return None
