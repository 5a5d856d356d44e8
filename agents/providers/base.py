"""The provider interface: how a job is handed to whatever does the work, and what comes back.

A provider receives a ``JobSpec`` (the role, what to do, the inputs) and a ``JobContext`` (the
workspace directory it may write in, a ``report`` callback for events as they happen, and a
``cancelled`` probe it should check between steps). It returns an ``Outcome`` with the usage it
measured. A provider that cannot do the job raises ``JobFailed``; whether to retry is the
caller's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class JobSpec:
    role: str
    key: str  # what kind of step this is, e.g. "story" or "architecture"
    title: str
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Usage:
    seconds: float = 0.0
    tokens: int = 0
    cost: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class Outcome:
    summary: str
    artifacts: tuple[str, ...] = ()  # paths relative to the workspace
    data: Mapping[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)


class Report(Protocol):
    def __call__(self, kind: str, message: str, data: Mapping[str, Any] | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class JobContext:
    workspace: Path
    report: Report
    cancelled: Callable[[], bool]


class JobFailed(Exception):
    """The job could not be done; the message says why, for the person reading the event."""


class JobCancelled(Exception):
    """The provider stopped because ``context.cancelled()`` said so."""


class Provider(Protocol):
    name: str

    def run(self, spec: JobSpec, context: JobContext) -> Outcome: ...
