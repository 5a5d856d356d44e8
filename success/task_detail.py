"""What one task did, for its page: its runs (agent, start, duration, outcome), the commits it
made with their diff statistics (read from the project's repository through the hardened host
git, ``agents.hostgit``), the test results its agents reported, and its log.

The log is the task's events and its runs' errors. Customers see it through the platform's one
sanitiser, ``projects.delivery.faults.customer_text``: a Python traceback (the platform's internals) becomes
a sentence saying the team was alerted, secrets become ``[redacted]``, host paths (which may name
other customers' storage) ``…/<last part>``, internal addresses ``[internal address]``. Staff
(account managers) see the log as written.

Commit ids come from agents' reports, which are untrusted: only hexadecimal ids are looked up,
each passed after ``--end-of-options``, at most ``MAX_COMMITS`` of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.hostgit import GitError, git_run
from agents.workspace import Workspace
from projects.delivery.faults import customer_text
from projects.models import Event, Run, Task

MAX_COMMITS = 20
MAX_LOG_EVENTS = 500
_HEX = re.compile(r"^[0-9a-f]{7,64}$")
_TEST_KEYS = ("tests_passed", "tests_failed", "tests_total", "coverage_percent")


@dataclass(frozen=True, slots=True)
class TaskRun:
    attempt: int
    agent: str
    provider: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


@dataclass(frozen=True, slots=True)
class Commit:
    id: str
    subject: str
    author: str
    stat: str  # git's --shortstat line, "" when git has none (an empty commit)
    found: bool


@dataclass(frozen=True, slots=True)
class TestResult:
    at: datetime
    message: str
    passed: int | None
    failed: int | None
    total: int | None
    coverage: float | None


@dataclass(frozen=True, slots=True)
class LogLine:
    at: datetime
    kind: str
    actor: str
    text: str


def _outcome(run: Run) -> str:
    if run.error:
        return run.error
    summary = run.outcome.get("summary") if isinstance(run.outcome, dict) else None
    return str(summary or "")


def runs_read(task: Task, *, staff: bool) -> list[TaskRun]:
    rows = Run.objects.filter(task=task).order_by("attempt", "pk")
    clean = (lambda text: text) if staff else customer_text
    return [
        TaskRun(
            run.attempt,
            run.agent_name or run.provider,
            run.provider,
            run.get_status_display(),
            run.started_at,
            run.finished_at,
            clean(_outcome(run)),
        )
        for run in rows
    ]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _commit_ids(reports: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for data in reports:
        for key in ("commit", "merge"):
            value = data.get(key)
            if isinstance(value, str) and _HEX.match(value) and value not in ids:
                ids.append(value)
    return ids[:MAX_COMMITS]


def commits_read(workspace: Workspace, ids: list[str]) -> list[Commit]:
    """Each commit's subject, author and diff statistics (a merge against its first parent)."""
    if not ids or not workspace.exists:
        return [Commit(commit, "", "", "", False) for commit in ids]
    commits = []
    for commit in ids:
        try:
            out = git_run(
                "log", "-1", "--shortstat", "--diff-merges=first-parent", "--format=%H%x1f%an%x1f%s",
                "--end-of-options", commit, git_dir=workspace.git_dir, timeout=20,
            )  # fmt: skip
        except GitError:
            commits.append(Commit(commit, "", "", "", False))
            continue
        head, _, stat = out.strip().partition("\n")
        full, author, subject = [*head.split("\x1f"), "", ""][:3]
        commits.append(Commit(full[:12], subject, author, stat.strip(), True))
    return commits


def task_reports(task: Task) -> list[tuple[datetime, str, dict[str, Any]]]:
    rows = Event.objects.filter(task=task, kind=Event.Kind.TASK_REPORT).order_by("created_at", "pk")
    reports = [(at, message, data) for at, message, data in rows.values_list("created_at", "message", "data")]
    return [(at, message, data if isinstance(data, dict) else {}) for at, message, data in reports]


def tests_read(reports: list[tuple[datetime, str, dict[str, Any]]]) -> list[TestResult]:
    results = []
    for at, message, data in reports:
        if any(key in data for key in _TEST_KEYS):
            coverage = data.get("coverage_percent")
            results.append(
                TestResult(
                    at,
                    message,
                    _int(data.get("tests_passed")),
                    _int(data.get("tests_failed")),
                    _int(data.get("tests_total")),
                    float(coverage) if isinstance(coverage, int | float) and not isinstance(coverage, bool) else None,
                )
            )
    return results


def log_read(task: Task, *, staff: bool) -> list[LogLine]:
    rows = Event.objects.filter(task=task).order_by("created_at", "pk")
    lines = [
        LogLine(at, str(Event.Kind(kind).label) if kind in Event.Kind.values else kind, actor, message)
        for at, kind, actor, message in rows.values_list("created_at", "kind", "actor", "message")[:MAX_LOG_EVENTS]
    ]
    for at, attempt, error in (
        Run.objects.filter(task=task).exclude(error="").values_list("finished_at", "attempt", "error")
    ):
        if at is not None:
            lines.append(LogLine(at, f"Run {attempt} error", "system", error))
    lines.sort(key=lambda line: line.at)
    if staff:
        return lines
    return [LogLine(line.at, line.kind, line.actor, customer_text(line.text)) for line in lines]


def task_detail_read(task: Task, workspace: Workspace, *, staff: bool) -> dict[str, Any]:
    reports = task_reports(task)
    output_data = task.output.get("data") if isinstance(task.output, dict) else None
    datas = [data for _, _, data in reports] + ([output_data] if isinstance(output_data, dict) else [])
    return {
        "runs": runs_read(task, staff=staff),
        "commits": commits_read(workspace, _commit_ids(datas)),
        "tests": tests_read(reports),
        "log": log_read(task, staff=staff),
        "staff_log": staff,
    }
