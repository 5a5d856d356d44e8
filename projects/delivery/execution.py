"""What happens on a worker: claim a task, run it through a provider, heartbeat, record the Run
and its events, retry with backoff or block. The job spec the provider gets is
``projects.delivery.job_spec``; the recovery sweeps (reaper, re-dispatch, escalation) that make the
database, not the broker, the truth are ``projects.delivery.sweeps``.

* **Claim**: a conditional update ``queued → running`` (only while the workflow runs and the task
  is not held). A duplicate or late message finds nothing to claim and does nothing.
* **Heartbeat**: a thread bumps ``Run.heartbeat_at`` (and the agent's) every
  ``HIVE_TASK_HEARTBEAT_SECONDS``. If the run is no longer ``running`` (reaped or cancelled) the
  heartbeat tells the provider to stop through ``JobContext.cancelled``.
* **Finish**: under the workflow row's lock, taken first (the lock order of
  ``projects.delivery.orchestration``), the task is marked done only while this run is still running,
  then the run ``running → succeeded/failed``; whoever loses that race (the reaper marked the run
  lost, a person cancelled it) discards its result, so a task never has two outcomes for one run.
  A finishing transaction the database rolls back (a deadlock with a lock taker outside that
  order, a serialization failure) is run again from the start and records nothing twice.
  Retries live in the database too: the task goes back to ``ready`` with a lease request that
  may not be served before the backoff has passed; after ``max_attempts`` the task is blocked
  with the reason. The same transaction advances the workflow, gives the agent back and leases
  agents to what became ready: the successors are queued in the finishing commit and sent to
  the broker right after it.
* **Cost**: the hot path is a fixed handful of statements whatever the workflow's size (one read
  for the claim, one for the open phases, one for their unfinished tasks, one upsert for all
  new lease requests); ``tests/projects/test_execution.py`` pins the count.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone
from django_tenants.utils import schema_context
from psycopg import errors

from agents import pools
from agents.models import Agent
from agents.providers import JobCancelled, JobContext, JobFailed, Outcome, Usage, provider_get
from projects.broker import roles_dispatch_send
from projects.delivery.dispatch import (
    current_schema,
    jobs_on_commit,
    roles_dispatch_now,
)
from projects.delivery.events import event_append
from projects.delivery.faults import FAULT_SENTENCE, customer_text, skipped_words
from projects.delivery.job_spec import Spent, job_spec, project_runs_sum
from projects.delivery.orchestration import advance, workflow_lock
from projects.models import Event, Run, Task, Workflow
from projects.storage import project_storage

log = logging.getLogger(__name__)


# --- one task on a worker -----------------------------------------------------------------------


class Heartbeat(threading.Thread):
    """Keeps the run (and its agent) alive in the database while the provider works."""

    def __init__(self, *, schema_name: str, run_id: int, agent_id: int | None, interval: float) -> None:
        super().__init__(name=f"heartbeat-{schema_name}-{run_id}", daemon=True)
        self.schema_name, self.run_id, self.agent_id, self.interval = schema_name, run_id, agent_id, interval
        self.done = threading.Event()
        self.stopped_elsewhere = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(self.interval):
                now = timezone.now()
                with schema_context(self.schema_name):
                    alive = Run.objects.filter(pk=self.run_id, status=Run.Status.RUNNING).update(heartbeat_at=now)
                if not alive:
                    self.stopped_elsewhere.set()
                    return
                if self.agent_id is not None:
                    pools.agent_heartbeat(agent_id=self.agent_id, now=now)
        finally:
            connection.close()

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=self.interval + 5)


@dataclass(frozen=True, slots=True)
class Claim:
    task: Task
    run: Run
    spent: Spent


def _claim(schema_name: str, task_id: int, worker: str) -> Claim | None:
    """Take the task (queued → running) and open its Run; None when it is not ours to run."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Task.objects.filter(
            pk=task_id,
            status=Task.Status.QUEUED,
            held=False,
            project__workflow__status=Workflow.Status.RUNNING,
        ).update(status=Task.Status.RUNNING, attempts=F("attempts") + 1, started_at=now)
        if not claimed:
            return None
        # One read for everything the run needs: the task, its project and workflow, the leased
        # agent's number (the agents table is public, on the tenant's search path) and what the
        # project's earlier runs spent.
        task = (
            Task.objects.select_related("project__workflow")
            .annotate(
                agent_number=Subquery(Agent.objects.filter(pk=OuterRef("agent_id")).values("number")),
                spent_tokens=project_runs_sum("usage_tokens"),
                spent_cost=project_runs_sum("usage_cost"),
            )
            .get(pk=task_id)
        )
        agent_name = Agent.name_of(task.role, task.agent_number) if task.agent_number is not None else ""
        run = Run.objects.create(
            task=task,
            attempt=task.attempts,
            agent_id=task.agent_id,
            agent_name=agent_name,
            # A story given to another provider (``projects.delivery.story_gaps.story_to_llm``) keeps it.
            provider=task.inputs.get("provider") or task.project.workflow.provider or settings.HIVE_AGENT_PROVIDER,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
        )
        event_append(
            project_id=task.project_id,
            kind=Event.Kind.TASK_STARTED,
            task=task,
            run=run,
            actor=run.agent_name or "system",
            message=f"{run.agent_name or 'an agent'} started “{task.title}” (attempt {run.attempt})",
        )
    return Claim(task, run, Spent(tokens=int(task.spent_tokens or 0), cost=task.spent_cost or Decimal(0)))


def task_execute(*, schema_name: str, task_id: int, worker: str = "") -> str:
    """Run one task of the current tenant schema; returns what happened (for logs and tests)."""
    claim = _claim(schema_name, task_id, worker)
    if claim is None:
        return "skipped"
    task, run = claim.task, claim.run
    heartbeat = Heartbeat(
        schema_name=schema_name,
        run_id=run.pk,
        agent_id=task.agent_id,
        interval=settings.HIVE_TASK_HEARTBEAT_SECONDS,
    )

    def report(kind: str, message: str, data: Mapping[str, Any] | None = None) -> None:
        event_append(
            project_id=task.project_id,
            kind=Event.Kind.TASK_REPORT,
            task=task,
            run=run,
            actor=run.agent_name or run.provider,
            message=message,
            data={"report": kind, **(data or {})},
        )

    context = JobContext(
        workspace=project_storage(task.project) / "workspace",
        report=report,
        cancelled=heartbeat.stopped_elsewhere.is_set,
    )
    heartbeat.start()
    try:
        outcome = provider_get(run.provider).run(job_spec(task, agent=run.agent_name, spent=claim.spent), context)
    except JobCancelled:
        return "cancelled"
    except JobFailed as failure:
        return _finish_failed(task, run, str(failure), usage=getattr(failure, "usage", None))
    except Exception:
        log.exception("task %s:%s failed", schema_name, task_id)
        # The platform's own fault: the run keeps the traceback for staff, the stream says one
        # sentence and is escalated at once (``projects.delivery.faults``).
        return _finish_failed(task, run, traceback.format_exc(), shown=FAULT_SENTENCE)
    finally:
        heartbeat.stop()
    return _finish_succeeded(task, run, outcome)


# A deadlock or a serialization failure rolls a finishing transaction back as a whole (run, task,
# events, leases, its after-commit messages); run again from the start it decides afresh. The
# lock order keeps the orchestration's own transactions out of such cycles: this keeps a worker's
# result from being lost to one with a lock taker outside it.
FINISH_ATTEMPTS = 3
_ROLLED_BACK = (errors.DeadlockDetected, errors.SerializationFailure)


def _finishing(finish: Callable[[], str], *, run: Run) -> str:
    """``finish`` (a transaction of its own), run again when the database rolled it back."""
    attempt = 1
    while True:
        try:
            return finish()
        except OperationalError as error:
            again = isinstance(error.__cause__, _ROLLED_BACK) and not connection.in_atomic_block
            if not again or attempt == FINISH_ATTEMPTS:
                raise
            attempt += 1
            log.warning("finishing run %s was rolled back (%s); attempt %s", run.pk, error.__cause__, attempt)


def _finish_succeeded(task: Task, run: Run, outcome: Outcome) -> str:
    now = timezone.now()
    return _finishing(partial(_succeeded_record, task, run, outcome, now), run=run)


def _succeeded_record(task: Task, run: Run, outcome: Outcome, now: datetime) -> str:
    result = {"summary": outcome.summary, "artifacts": list(outcome.artifacts), "data": dict(outcome.data)}
    with transaction.atomic():
        jobs = jobs_on_commit()  # the successors' messages go out first after the commit
        workflow = workflow_lock(task.project_id)
        # The task before its run (the lock order), and only while this run is still the running
        # one: a person's cancellation or the reaper, come first, leave this result discarded.
        running = Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING)
        won = (
            Task.objects.filter(pk=task.pk, status=Task.Status.RUNNING)
            .filter(Exists(running))
            .update(status=Task.Status.DONE, finished_at=now, output=result)
        )
        if not won:
            return "discarded"
        recorded = running.update(
            status=Run.Status.SUCCEEDED,
            finished_at=now,
            heartbeat_at=now,
            outcome=result,
            usage_seconds=outcome.usage.seconds or (now - run.started_at).total_seconds(),
            usage_tokens=outcome.usage.tokens,
            usage_cost=outcome.usage.cost,
        )
        if not recorded:  # the run changed without the workflow's lock: no outcome for the task either
            transaction.set_rollback(True)
            return "discarded"
        skipped = skipped_words(outcome.data)
        event_append(
            project_id=task.project_id,
            kind=Event.Kind.TASK_SUCCEEDED,
            task=task,
            run=run,
            actor=run.agent_name or run.provider,
            message=skipped or outcome.summary,
            data={"artifacts": list(outcome.artifacts), **({"skipped": True} if skipped else {})},
        )
        roles = {task.role} if _release(task) else set()
        roles_dispatch_now(roles | advance(task.project_id, now=now, workflow=workflow), jobs=jobs)
    return "succeeded"


def _release(task: Task) -> bool:
    if task.agent_id is None:
        return False
    return pools.agent_release(agent_id=task.agent_id, schema_name=current_schema(), task_id=task.pk)


def _finish_failed(task: Task, run: Run, reason: str, *, usage: Usage | None = None, shown: str = "") -> str:
    """``reason`` is kept on the run; ``shown`` (when given, a platform fault) is what the stream
    and the task say instead."""
    now = timezone.now()
    return _finishing(partial(_failed_record, task, run, reason, usage, now, shown), run=run)


def _failed_record(task: Task, run: Run, reason: str, usage: Usage | None, now: datetime, shown: str = "") -> str:
    with transaction.atomic():
        jobs = jobs_on_commit()
        workflow = workflow_lock(task.project_id)
        locked = Task.objects.select_for_update(no_key=True).get(pk=task.pk)  # the task before its run
        # Tokens and money spent before the failure (e.g. a budget stop) are still metered.
        won = Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
            status=Run.Status.FAILED,
            finished_at=now,
            heartbeat_at=now,
            error=reason,
            usage_seconds=(now - run.started_at).total_seconds(),
            usage_tokens=usage.tokens if usage else 0,
            usage_cost=usage.cost if usage else 0,
        )
        if not won:
            return "discarded"
        event_append(
            project_id=task.project_id,
            kind=Event.Kind.TASK_FAILED,
            task=task,
            run=run,
            actor=run.agent_name or run.provider,
            message=shown or reason,
            data={"platform_fault": True} if shown else None,
        )
        roles_dispatch_now(task_retry_or_block(locked, workflow, shown or reason, now), jobs=jobs)
    return "failed"


def task_retry_or_block(task: Task, workflow: Workflow, reason: str, now: datetime) -> set[str]:
    """Back to the queue after a backoff, or blocked when the attempts are used up; ``task`` and
    its ``workflow`` are locked by the caller."""
    if task.status != Task.Status.RUNNING:
        return set()
    roles = {task.role} if _release(task) else set()
    if task.attempts >= task.max_attempts:
        # The run keeps the full reason; the task says what a customer may read.
        blocked = Task.Status.BLOCKED
        task.status, task.blocked_since, task.blocked_reason, task.agent = blocked, now, customer_text(reason), None
        task.save(update_fields=["status", "blocked_since", "blocked_reason", "agent"])
        event_append(
            project_id=task.project_id,
            kind=Event.Kind.TASK_BLOCKED,
            task=task,
            message=f"blocked after {task.attempts} attempts: {reason}",
        )
        return roles
    backoff = timedelta(seconds=settings.HIVE_TASK_RETRY_BACKOFF_SECONDS * 2 ** (task.attempts - 1))
    task.status, task.agent, task.queued_at = Task.Status.READY, None, None
    task.save(update_fields=["status", "agent", "queued_at"])
    assert task.ready_at is not None
    if workflow.status == Workflow.Status.RUNNING and not task.held:
        pools.lease_request(
            role=task.role,
            schema_name=current_schema(),
            task_id=task.pk,
            ready_at=task.ready_at,
            not_before=now + backoff,
        )
        transaction.on_commit(lambda: _dispatch_after(task.role, backoff))
    event_append(
        project_id=task.project_id,
        kind=Event.Kind.TASK_RETRY,
        task=task,
        message=f"attempt {task.attempts + 1} of {task.max_attempts} in {backoff.total_seconds():g} s",
    )
    return roles


def _dispatch_after(role: str, delay: timedelta) -> None:
    roles_dispatch_send([role], delay=delay)
