"""Helpers of the customer-success tests: a real MVP workflow moved by hand the way workers move it,
a generated workspace measured for real (coverage.py over unittest), and a local SMTP server.

``finish`` does what ``projects.delivery.execution`` does when a run succeeds (task done with its outcome,
``task.succeeded`` event, advance); ``report`` appends an agent's ``task.report`` event. Each step
runs inside ``committed()``, which runs the step's on-commit callbacks as its block ends (the test
transaction never commits), so what happens after a commit in production — the gates,
remediation, surveys, the guarantee, emails — happens in the test, step by step.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from projects.delivery import orchestration
from projects.delivery.controls import task_approve
from projects.delivery.events import event_append
from projects.delivery.planning import project_start
from projects.models import Event, Phase, Project, Service, Story, Task
from tenants.models import User


def committed() -> Any:
    """Run the on-commit callbacks of the block (and the ones they add) when it ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def mvp_project(name: str, *, stories: int = 2) -> Project:
    project = Project.objects.create(name=name, service=Service.MVP)
    for number in range(1, stories + 1):
        Story.objects.create(
            project=project,
            position=number,
            title=f"Story {number}",
            as_a="buyer",
            i_want=f"to do thing {number}",
            acceptance_criteria=[f"thing {number} works", f"thing {number} is fast"],
        )
    return project


def report(task: Task, message: str = "measured", **data: Any) -> Event:
    """An agent's report, as ``projects.delivery.execution`` records it."""
    return event_append(
        project_id=task.project_id,
        kind=Event.Kind.TASK_REPORT,
        task=task,
        actor="qa-engineer-1",
        message=message,
        data={"report": "measurement", **data},
    )


def finish(task: Task, data: Mapping[str, Any] | None = None) -> None:
    """A worker's successful finish of ``task``, with its outcome ``data``."""
    with committed(), transaction.atomic():
        output = {"summary": f"done: {task.title}", "artifacts": [], "data": dict(data or {})}
        Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE, finished_at=timezone.now(), output=output)
        event_append(
            project_id=task.project_id, kind=Event.Kind.TASK_SUCCEEDED, task=task, actor="agent", message=task.title
        )
        orchestration.advance(task.project_id)


def open_tasks(project: Project) -> list[Task]:
    return list(
        Task.objects.filter(project=project, status__in=[Task.Status.READY, Task.Status.AWAITING_APPROVAL]).order_by(
            "phase__position", "position"
        )
    )


def run_until(project: Project, phase_key: str, owner: User) -> Phase:
    """Finish every task (approve every approval) until ``phase_key`` is the phase at work."""
    for _ in range(200):
        phase = orchestration.open_phase(project)
        assert phase is not None, "the project finished before reaching the phase"
        if phase.key == phase_key:
            return phase
        for task in open_tasks(project):
            if task.kind == Task.Kind.APPROVAL:
                with committed():
                    task_approve(task=task, user=owner)
            else:
                finish(task)
    raise AssertionError(f"never reached {phase_key}")


def started_mvp(name: str, owner: User, *, stories: int = 2) -> Project:
    project = mvp_project(name, stories=stories)
    with committed():
        project_start(project=project, user=owner)
    return project


# --- a generated workspace, measured ------------------------------------------------------------

APP = """
def total(prices):
    return sum(prices)


def discount(price, percent):
    if percent < 0 or percent > 100:
        raise ValueError("percent out of range")
    return round(price * (100 - percent) / 100, 2)


def label(name):
    return name.strip().title()
"""

FIRST_TESTS = """
import unittest

from app.shop import total


class TotalTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(total([1, 2, 3]), 6)
"""

MORE_TESTS = """
import unittest

from app.shop import discount, label


class MoreTest(unittest.TestCase):
    def test_discount(self):
        self.assertEqual(discount(200, 25), 150)

    def test_discount_range(self):
        with self.assertRaises(ValueError):
            discount(1, 101)

    def test_label(self):
        self.assertEqual(label("  red shoe "), "Red Shoe")
"""


def workspace_generate(root: Path) -> Path:
    """A small application with tests that cover only part of it."""
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "shop.py").write_text(APP)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_total.py").write_text(FIRST_TESTS)
    return root


def workspace_add_tests(root: Path) -> None:
    """The remediation: tests for the code the first suite left uncovered."""
    (root / "tests" / "test_more.py").write_text(MORE_TESTS)


@dataclass(frozen=True)
class Measured:
    coverage_percent: float
    tests_passed: int
    tests_failed: int

    def data(self) -> dict[str, Any]:
        return {
            "coverage_percent": self.coverage_percent,
            "tests_passed": self.tests_passed,
            "tests_failed": self.tests_failed,
        }


def workspace_measure(root: Path) -> Measured:
    """Run the suite under coverage.py and read the numbers it reports."""
    data_file, report = root / ".coverage", root / "coverage.json"
    run = subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--data-file={data_file}", "--source=app", "-m", "unittest", "-v"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", f"--data-file={data_file}", "-o", str(report)],
        cwd=root,
        capture_output=True,
        timeout=120,
        check=True,
    )
    totals = json.loads(report.read_text())["totals"]
    lines = run.stderr.splitlines()
    passed = sum(1 for line in lines if line.endswith("... ok"))
    failed = sum(1 for line in lines if line.endswith(("... FAIL", "... ERROR")))
    return Measured(round(float(totals["percent_covered"]), 2), passed, failed)


# --- a local SMTP server ------------------------------------------------------------------------


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return " ".join(str(self.message["Subject"]).split())

    @property
    def text(self) -> str:
        assert isinstance(self.message, EmailMessage)
        body = self.message.get_body(preferencelist=("plain",))
        return str(body.get_content()) if body is not None else ""

    @property
    def html(self) -> str:
        assert isinstance(self.message, EmailMessage)
        body = self.message.get_body(preferencelist=("html",))
        return str(body.get_content()) if body is not None else ""


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.messages.append(
                Received(
                    str(envelope.mail_from),
                    [str(r) for r in envelope.rcpt_tos],
                    message_from_bytes(content, policy=policy.default),
                )
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if address in m.recipients]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
