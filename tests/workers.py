"""Real Celery workers for the orchestration tests, and the test providers they run.

Workers use a Redis database of their own (``HIVE_TEST_BROKER_URL``, default db 12) so that test
workers of other checkouts on this machine never take these tasks. ``thread_worker`` runs inside
the test process (Celery's testing worker); ``subprocess_worker`` starts ``tests.worker_process``
so that it can be SIGKILLed.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from celery.contrib.testing.worker import TestWorkController, start_worker
from django.db import connection
from django_tenants.utils import schema_context

from agents.models import AgentPool, LeaseRequest
from agents.pools import pools_ensure
from agents.providers import JobCancelled, JobContext, JobFailed, JobSpec, Outcome, Usage, provider_register
from hive.celery import app
from projects.models import Task, Workflow

ROOT = Path(__file__).resolve().parent.parent
BROKER_URL = os.environ.get("HIVE_TEST_BROKER_URL", "redis://127.0.0.1:6379/12")
QUEUES = ["agents", "control", "celery"]
# Fast timings for every worker the tests start.
TIMINGS = {
    "HIVE_TASK_HEARTBEAT_SECONDS": "0.2",
    "HIVE_RUN_STALE_SECONDS": "1.5",
    "HIVE_TASK_RETRY_BACKOFF_SECONDS": "0.1",
    "HIVE_TASK_REDISPATCH_SECONDS": "1",
}


class SleepyProvider:
    """Works for ``seconds`` of its item (default 0.05 s), then writes a file into the workspace."""

    name = "sleepy"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        seconds = spec.inputs.get("item", {}).get("seconds", spec.inputs.get("seconds", 0.05))
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            if context.cancelled():
                raise JobCancelled(spec.title)
            time.sleep(0.01)
        context.workspace.mkdir(parents=True, exist_ok=True)
        marker = context.workspace / f"{spec.key}-{spec.title}.txt"
        marker.write_text(spec.title)
        return Outcome(summary=f"slept for {spec.title}", artifacts=(marker.name,), usage=Usage(seconds=0.05))


class FlakyProvider:
    """Fails the first ``failures`` attempts of each job's item (counted in the workspace)."""

    name = "flaky"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        context.workspace.mkdir(parents=True, exist_ok=True)
        counter = context.workspace / f"attempts-{spec.title}"
        attempts = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempts))
        if attempts <= int(spec.inputs.get("item", {}).get("failures", 0)):
            raise JobFailed(f"attempt {attempts} failed on purpose")
        return Outcome(summary=f"succeeded on attempt {attempts}")


def register_test_providers() -> None:
    provider_register("sleepy", SleepyProvider)
    provider_register("flaky", FlakyProvider)


def use_test_broker() -> None:
    # Celery prefers CELERY_BROKER_URL / CELERY_RESULT_BACKEND from the environment over its
    # configuration: a value exported for the test run would keep the test broker from taking over
    # (and the pool would be closed again before every test).
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("CELERY_RESULT_BACKEND", None)
    if app.conf.broker_url == BROKER_URL:
        return
    app.conf.update(broker_url=BROKER_URL, result_backend=BROKER_URL, task_ignore_result=True)
    # Pools made before the switch point at the old broker.
    # app.pool is kombu's registry pool for the old URL: forget it, never close it — the registry
    # keeps it for that URL, and a producer pool bound to a closed one fails every later send
    # ("Acquire on closed pool") once a test switches back to that URL.
    app._pool = None
    app.amqp._producer_pool = None


def broker_flush() -> None:
    redis.Redis.from_url(BROKER_URL).flushdb()


def _ensure_started_bounded(self: TestWorkController, timeout: float = 30.0) -> None:
    """Celery's test worker waits forever for its consumer's "ready" callback. In a full run a
    second worker started in this process (after billing's session worker) was once seen with its
    event loop running and that callback never set: the run hung for good. Wait a bounded time and
    go on; a worker that really does not consume then fails the test on its own assertions."""
    if not self._on_started.wait(timeout):
        logging.getLogger(__name__).warning("the test worker did not report ready in %s s; going on", timeout)


TestWorkController.ensure_started = _ensure_started_bounded  # type: ignore[method-assign]


@contextmanager
def thread_worker(concurrency: int = 4, queues: list[str] | None = None) -> Iterator[Any]:
    use_test_broker()
    register_test_providers()
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        # A job still running when a test leaves the block (a preview waiting up to 60 s for its
        # first answer) must end before the worker does, or the worker thread lives on and
        # takes the next test's jobs.
        shutdown_timeout=90,
        queues=queues or QUEUES,
    ) as worker:
        yield worker


@contextmanager
def subprocess_worker(*, storage_root: Path, queues: list[str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        **TIMINGS,
        "HIVE_TESTING": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": BROKER_URL,
        "HIVE_STORAGE_ROOT": str(storage_root),
        "HIVE_WORKER_QUEUES": ",".join(queues or ["agents"]),
    }
    process = subprocess.Popen([sys.executable, "-m", "tests.worker_process"], cwd=ROOT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(predicate: Callable[[], object], *, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.03)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def pools_reset() -> None:
    """Fresh pools of default sizes and an empty queue, whatever earlier tests left in public."""
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    LeaseRequest.objects.all().delete()
    AgentPool.objects.all().delete()
    pools_ensure()


def workflows_stop(*schemas: str) -> None:
    """Cancel what earlier tests left running: tenant tables outlive the public flush."""
    for schema in schemas:
        with schema_context(schema):
            active = Workflow.objects.filter(status__in=[Workflow.Status.RUNNING, Workflow.Status.PAUSED])
            Task.objects.filter(project__workflow__in=active).exclude(status__in=Task.FINISHED).update(
                status=Task.Status.CANCELLED
            )
            active.update(status=Workflow.Status.CANCELLED)
