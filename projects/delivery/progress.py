"""Progress and timeline adherence of a project, derived from its tasks and phases — never stored.

* Progress is the phases' weighted share of finished tasks (a phase that is done counts whole).
* Timeline adherence compares each phase's planned end (spread over the accepted quote's
  timeline when the workflow started) with when it actually ended, or with now while it is open
  past its planned end; the project's delay is that of its latest finished phase, or more when an
  open phase is already later than that.

The formulas take rows, so that one project's pages (``project_progress``, ``project_timeline``)
and the overview of all of a customer's projects (``success.dashboard``, a few queries for every
project at once) compute the very same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from projects.models import Phase, Project, Task, Workflow

# What ``phase_delays`` and ``project_timeline`` read of each phase.
PHASE_FIELDS = ("pk", "name", "planned_start", "planned_end", "started_at", "finished_at", "status")


def progress_rows(tasks: Any, *also: str) -> Any:
    """Task rows grouped by phase (and ``also``): the phase's weight and status, its tasks and
    finished tasks."""
    return tasks.values("phase_id", "phase__weight", "phase__status", *also).annotate(
        total=Count("pk"), finished=Count("pk", filter=Q(status__in=Task.FINISHED))
    )


def progress_from_rows(rows: Iterable[Mapping[str, Any]]) -> float:
    """Share of the work done, 0..1, over rows of ``progress_rows``."""
    weight = done = 0.0
    for row in rows:
        weight += row["phase__weight"]
        share = 1.0 if row["phase__status"] == Phase.Status.DONE else row["finished"] / row["total"]
        done += row["phase__weight"] * share
    return done / weight if weight else 0.0


def project_progress(project: Project) -> float:
    return progress_from_rows(progress_rows(Task.objects.filter(project=project)))


def phase_delays(
    planned: bool, phases: Iterable[Mapping[str, Any]], now: datetime
) -> tuple[list[timedelta | None], timedelta | None]:
    """Each phase's lateness (positive: late by that much) and the project's delay, over phase
    rows in position order; all None without a planned end."""
    if not planned:
        return [None for _ in phases], None
    delay = timedelta(0)
    lateness: list[timedelta | None] = []
    for phase in phases:
        late: timedelta | None = None
        if phase["planned_end"] is not None:
            if phase["finished_at"] is not None:
                late = delay = phase["finished_at"] - phase["planned_end"]
            elif phase["status"] != Phase.Status.CANCELLED and now > phase["planned_end"]:
                late = now - phase["planned_end"]
                delay = max(delay, late)
        lateness.append(late)
    return lateness, delay


@dataclass(frozen=True, slots=True)
class PhaseTimeline:
    phase_id: int
    name: str
    planned_start: datetime | None
    planned_end: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    # Positive: late by that much (finished late, or still open past its planned end).
    delay: timedelta | None


@dataclass(frozen=True, slots=True)
class Timeline:
    planned_end: datetime | None
    phases: tuple[PhaseTimeline, ...]
    delay: timedelta | None  # the current delay of the project; None without a plan

    @property
    def on_track(self) -> bool | None:
        return None if self.delay is None else self.delay <= timedelta(0)


def project_timeline(project: Project, *, now: datetime | None = None, workflow: Workflow | None = None) -> Timeline:
    """Planned phase dates (from the accepted quote's timeline) against the actual ones
    (``workflow`` when the caller read it already)."""
    workflow = workflow or Workflow.objects.filter(project=project).only("planned_end").first()
    planned_end = workflow.planned_end if workflow is not None else None
    phases = list(Phase.objects.filter(project=project).order_by("position").values(*PHASE_FIELDS))
    lateness, delay = phase_delays(planned_end is not None, phases, now or timezone.now())
    return Timeline(
        planned_end=planned_end,
        phases=tuple(
            PhaseTimeline(
                p["pk"], p["name"], p["planned_start"], p["planned_end"], p["started_at"], p["finished_at"], late
            )
            for p, late in zip(phases, lateness, strict=True)
        ),
        delay=delay,
    )
