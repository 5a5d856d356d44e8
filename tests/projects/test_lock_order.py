"""The lock order of the orchestration (``projects.delivery.orchestration``'s docstring): a worker finishing
a task and a person's control of the same delivery, interleaved deterministically at every lock.

Each case holds one side right after its k-th locking statement (its transaction open), runs the
other side until PostgreSQL makes it wait for a lock or it is done, then lets the first go on; k
walks every lock the first side takes, from the worker's finishing transaction (the claim is
before it) or from the start of the person's control, after-commit dispatch included. Whatever
the interleaving, neither side may fail (a deadlock aborts one of them) and the result must be
one the two would have made one after the other: an outcome recorded once or not at all, the
control applied to the rest, agents and lease requests consistent with the tasks.

The worker is ``execute_task`` run in a thread of its own with the ``lockstep`` provider, which
returns when the test says so; the success app's reactions are disconnected (they run after the
commits, in that app's transactions). The reaper, which also finishes a run, is walked the same
way against a person cancelling its task, and a dispatcher (which does not take the workflow row)
against a person pausing the project. Last, a lock taker outside the order deadlocks with a
finishing worker on purpose: the worker's transaction, aborted, runs again and counts once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.models import Agent, AgentPool, LeaseRequest
from agents.pools import pool_resize, pools_ensure
from agents.providers import JobContext, JobFailed, JobSpec, Outcome, Usage, provider_register
from agents.roles import Role
from projects.delivery.controls import project_cancel, project_pause, task_cancel, task_hold
from projects.delivery.dispatch import roles_dispatch
from projects.delivery.execution import _claim
from projects.delivery.job_spec import project_spent
from projects.delivery.orchestration import WorkflowError, workflow_lock
from projects.delivery.planning import project_start
from projects.delivery.sweeps import run_reap
from projects.delivery.workflow import PhaseTemplate, Step, WorkflowTemplate
from projects.models import Event, Project, Run, Service, Task, Workflow
from projects.tasks import execute_task
from tenants.models import User
from tests.workers import broker_flush, pools_reset, use_test_broker, workflows_stop

pytestmark = pytest.mark.django_db(transaction=True)

ROLE = Role.NOOP
WAIT = 20.0  # seconds before a side that never stops or waits fails the test
# Statements that take row (or advisory) locks; plain reads take none, so holding a side after
# one is the same as holding it after the locking statement before.
LOCKING = re.compile(
    r"^\s*(UPDATE|INSERT|DELETE)\b|\bFOR (NO KEY )?UPDATE\b|\bFOR (KEY )?SHARE\b|pg_advisory", re.IGNORECASE
)
# a runs and has a pending successor b; c, of the same phase, is queued for the other agent.
TEMPLATE = WorkflowTemplate(
    name="locks",
    phases=(
        PhaseTemplate("work", "Work", 1, (Step("a", "A", ROLE), Step("c", "C", ROLE), Step("b", "B", ROLE, ("a",)))),
    ),
)
USAGE = Usage(seconds=1.5, tokens=7, cost=Decimal("0.25"))


@dataclass
class Script:
    """What the ``lockstep`` provider does: it says it has started, waits for ``may_return``,
    arms the worker's gate (its finishing transaction follows) and succeeds or fails."""

    fail: bool
    gate: Gate
    started: threading.Event = field(default_factory=threading.Event)
    may_return: threading.Event = field(default_factory=threading.Event)


_script: Script | None = None


class LockstepProvider:
    name = "lockstep"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        assert _script is not None
        _script.started.set()
        assert _script.may_return.wait(WAIT)
        _script.gate.armed = True
        if _script.fail:
            raise JobFailed("failed on purpose")
        return Outcome(summary=f"did {spec.title}", artifacts=("a.txt",), usage=USAGE)


class Gate:
    """An execute wrapper that holds its thread right after its ``stop_after``-th locking
    statement (counted once ``armed``) until ``go`` is set."""

    def __init__(self, *, stop_after: int | None, armed: bool) -> None:
        self.stop_after, self.armed = stop_after, armed
        self.locking: list[str] = []
        self.held_at = ""
        self.stopped, self.go = threading.Event(), threading.Event()

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if self.armed and LOCKING.search(sql):
            self.locking.append(sql)
            if len(self.locking) == self.stop_after:
                self.held_at = " ".join(sql.split())[:120]
                self.stopped.set()
                if not self.go.wait(WAIT):
                    raise AssertionError("the test never let this side go on")
        return result


class Side(threading.Thread):
    """One side in a thread with its own database connection (and backend pid)."""

    def __init__(self, name: str, action: Callable[[], Any], gate: Gate) -> None:
        super().__init__(name=name, daemon=True)
        self.action, self.gate = action, gate
        self.pid = 0
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            connection.ensure_connection()
            self.pid = connection.connection.info.backend_pid
            with connection.execute_wrapper(self.gate):
                self.result = self.action()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connection.close()


def _stops_or_ends(side: Side) -> bool:
    """Wait until the side is held at its gate (True) or has ended (False)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if side.gate.stopped.is_set():
            return True
        if not side.is_alive():
            return False
        time.sleep(0.002)
    raise AssertionError(f"{side.name} neither stopped nor ended")


def _waits_or_ends(side: Side) -> None:
    """Wait until PostgreSQL makes the side wait for a lock, or it has ended."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if not side.is_alive():
            return
        if side.pid:
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [side.pid])
                row = cursor.fetchone()
            if row is not None and row[0] == "Lock":
                return
        time.sleep(0.002)
    raise AssertionError(f"{side.name} neither waited for a lock nor ended")


@dataclass
class Delivery:
    project: Project
    a: Task  # running on the worker
    b: Task  # waits for a
    c: Task  # queued


@dataclass
class Seen:
    """Both sides' results and the rows they left."""

    delivery: Delivery
    worker: Side
    person: Side
    run: Run
    tasks: dict[str, Task]
    workflow: Workflow
    succeeded_events: int
    cancelled_events: int
    spent_tokens: int
    requests: set[int]  # tasks with a lease request
    leases: dict[int | None, int]  # task → agent leased to it


def _delivery(number: int) -> Delivery:
    with schema_context("alpha"):
        project = Project.objects.create(name=f"Locks {number}", service=Service.MVP)
        project_start(project=project, template=TEMPLATE, provider="lockstep")  # a and c get the two agents
        tasks = {task.key: task for task in Task.objects.filter(project=project)}
    assert [tasks[key].status for key in "acb"] == [Task.Status.QUEUED, Task.Status.QUEUED, Task.Status.PENDING]
    return Delivery(project, tasks["a"], tasks["b"], tasks["c"])


def _in_alpha(action: Callable[..., Any], **kwargs: Any) -> Callable[[], Any]:
    def run() -> Any:
        with schema_context("alpha"):
            return action(**kwargs)

    return run


def _in_turn(first: Side, second: Side) -> bool:
    """Start ``first`` and hold it at its gate, let ``second`` run until it waits for a lock or
    ends, release the first and wait for both; whether the first was held (False: it took fewer
    locks and ran alone)."""
    first.start()
    held = _stops_or_ends(first)
    second.start()
    _waits_or_ends(second)
    first.gate.go.set()
    for side in (first, second):
        side.join(WAIT)
    return held


def _interleave(
    delivery: Delivery, control: Callable[[], Any], *, worker_first: bool, k: int, fail: bool
) -> tuple[Seen, bool]:
    """Run the worker's finish and the control, holding the first after its k-th lock; returns
    what they left and whether the first was held (False: it took fewer locks and ran alone)."""
    global _script
    worker_gate = Gate(stop_after=k if worker_first else None, armed=False)
    person_gate = Gate(stop_after=None if worker_first else k, armed=True)
    _script = Script(fail=fail, gate=worker_gate)
    worker = Side("worker", lambda: execute_task.apply(args=["alpha", delivery.a.pk]).get(), worker_gate)
    person = Side("person", control, person_gate)
    if worker_first:
        _script.may_return.set()
        held = _in_turn(worker, person)
    else:
        worker.start()
        assert _script.started.wait(WAIT), "the worker did not claim the task"
        person.start()
        held = _stops_or_ends(person)
        _script.may_return.set()
        _waits_or_ends(worker)
        person_gate.go.set()
    for side in (worker, person):
        side.join(WAIT)
        assert not side.is_alive(), f"{side.name} did not end"
    return _seen(delivery, worker, person), held


def _seen(delivery: Delivery, worker: Side, person: Side) -> Seen:
    project = delivery.project
    with schema_context("alpha"):
        tasks = {task.key: task for task in Task.objects.filter(project=project)}
        ids = {task.pk for task in tasks.values()}
        run = Run.objects.get(task=delivery.a)
        seen = Seen(
            delivery=delivery,
            worker=worker,
            person=person,
            run=run,
            tasks=tasks,
            workflow=Workflow.objects.get(project=project),
            succeeded_events=Event.objects.filter(run=run, kind=Event.Kind.TASK_SUCCEEDED).count(),
            cancelled_events=Event.objects.filter(task=delivery.a, kind=Event.Kind.TASK_CANCELLED).count(),
            spent_tokens=project_spent(project.pk).tokens,
            requests=set(
                LeaseRequest.objects.filter(schema_name="alpha", task_id__in=ids).values_list("task_id", flat=True)
            ),
            leases=dict(Agent.objects.filter(lease_schema="alpha", lease_task__in=ids).values_list("lease_task", "pk")),
        )
    return seen


# --- what every interleaving must leave ------------------------------------------------------------


def _consistent(seen: Seen, *, fail: bool) -> None:
    assert seen.worker.error is None, f"the worker's finish failed: {seen.worker.error!r}"
    error = seen.person.error
    assert error is None or isinstance(error, WorkflowError), f"the person's control failed: {error!r}"
    run, a = seen.run, seen.tasks["a"]
    assert run.status != Run.Status.RUNNING
    if run.status == Run.Status.SUCCEEDED:  # the outcome is recorded, once
        assert seen.worker.result == "succeeded"
        assert a.status == Task.Status.DONE and a.output["summary"] == "did A"
        assert (run.outcome["summary"], run.usage_tokens) == ("did A", USAGE.tokens)
        assert seen.succeeded_events == 1 and seen.spent_tokens == USAGE.tokens
    elif run.status == Run.Status.FAILED:
        assert fail and seen.worker.result == "failed" and seen.succeeded_events == 0
        assert a.status in {Task.Status.READY, Task.Status.CANCELLED}
    else:  # the person's cancellation won: the worker's result counts nowhere
        assert run.status == Run.Status.CANCELLED and seen.worker.result == "discarded"
        assert a.status == Task.Status.CANCELLED and a.output == {}
        assert run.outcome == {} and run.usage_tokens == 0 and run.usage_seconds == 0
        assert seen.succeeded_events == 0 and seen.spent_tokens == 0
    _leases_consistent(seen)


def _leases_consistent(seen: Seen) -> None:
    """Agents and lease requests agree with the tasks: an agent per queued task, a request per
    ready task that may be dispatched (no other)."""
    for task in seen.tasks.values():
        leased = seen.leases.get(task.pk)
        if task.status == Task.Status.QUEUED:
            assert leased is not None and leased == task.agent_id, f"{task.key} is queued without its agent"
        else:
            assert leased is None, f"{task.key} ({task.status}) still holds an agent"
        if task.pk in seen.requests:
            assert task.status == Task.Status.READY and not task.held, f"{task.key} ({task.status}) asks for an agent"
            assert seen.workflow.status == Workflow.Status.RUNNING


def _after_task_cancel(seen: Seen) -> None:
    a = seen.tasks["a"]
    if isinstance(seen.person.error, WorkflowError):  # the finish came first: a is done
        assert a.status == Task.Status.DONE and seen.run.status == Run.Status.SUCCEEDED
        return
    assert a.status == Task.Status.CANCELLED and seen.cancelled_events == 1
    assert seen.run.status in {Run.Status.CANCELLED, Run.Status.FAILED}
    assert seen.workflow.status == Workflow.Status.RUNNING


def _after_project_cancel(seen: Seen) -> None:
    assert seen.person.error is None
    assert seen.workflow.status == Workflow.Status.CANCELLED
    assert all(task.status in Task.FINISHED for task in seen.tasks.values())
    assert not seen.requests and not seen.leases


def _after_project_pause(seen: Seen) -> None:
    assert seen.person.error is None
    assert seen.workflow.status == Workflow.Status.PAUSED
    assert seen.run.status == Run.Status.SUCCEEDED  # running work finishes
    assert not any(task.status == Task.Status.QUEUED for task in seen.tasks.values())
    assert not seen.requests and not seen.leases


def _after_task_hold(seen: Seen) -> None:
    assert seen.person.error is None
    b = seen.tasks["b"]
    assert b.held and b.status in {Task.Status.PENDING, Task.Status.READY}
    assert seen.run.status == Run.Status.SUCCEEDED


@dataclass(frozen=True)
class Case:
    name: str
    control: Callable[[Delivery, User], Callable[[], Any]]
    after: Callable[[Seen], None]
    fail: bool = False


CASES = [
    Case("task_cancel", lambda d, user: _in_alpha(task_cancel, task=d.a, user=user), _after_task_cancel),
    Case("task_cancel_failed", lambda d, user: _in_alpha(task_cancel, task=d.a, user=user), _after_task_cancel, True),
    Case(
        "project_cancel", lambda d, user: _in_alpha(project_cancel, project=d.project, user=user), _after_project_cancel
    ),
    Case(
        "project_cancel_failed",
        lambda d, user: _in_alpha(project_cancel, project=d.project, user=user),
        _after_project_cancel,
        True,
    ),
    Case("project_pause", lambda d, user: _in_alpha(project_pause, project=d.project, user=user), _after_project_pause),
    Case("task_hold", lambda d, user: _in_alpha(task_hold, task=d.b, user=user), _after_task_hold),
]


@pytest.fixture
def lockstep(world, settings, tmp_path) -> Iterator[User]:
    from success.receivers import connect_receivers, disconnect_receivers

    settings.HIVE_STORAGE_ROOT = tmp_path
    settings.HIVE_TASK_HEARTBEAT_SECONDS = 60.0  # no heartbeat while a side is held
    provider_register("lockstep", LockstepProvider)
    disconnect_receivers()
    workflows_stop("alpha")
    use_test_broker()
    broker_flush()
    pools_reset()
    pools_ensure(sizes={ROLE: 2})
    yield world.users["staff"]
    connect_receivers()
    workflows_stop("alpha")
    broker_flush()


def _tidy(delivery: Delivery, user: User) -> None:
    """Give the delivery's agents back for the next interleaving."""
    with schema_context("alpha"):
        if Workflow.objects.get(project=delivery.project).is_active:
            project_cancel(project=delivery.project, user=user)
    assert not Agent.objects.filter(lease_task__isnull=False).exists()


@pytest.mark.parametrize("worker_first", [True, False], ids=["worker-first", "person-first"])
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_finishing_worker_and_a_persons_control_interleave_at_every_lock(lockstep, case, worker_first):
    user = lockstep
    failures: list[str] = []
    k = 0
    while True:
        k += 1
        delivery = _delivery(k)
        seen, held = _interleave(delivery, case.control(delivery, user), worker_first=worker_first, k=k, fail=case.fail)
        first = seen.worker if worker_first else seen.person
        try:
            _consistent(seen, fail=case.fail)
            case.after(seen)
        except AssertionError as error:
            failures.append(f"{first.name} held after lock {k} ({first.gate.held_at}): {error}")
        _tidy(delivery, user)
        if not held:
            break
    assert k > 3, "the first side took fewer locks than any finish or control does"
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("reaper_first", [True, False], ids=["reaper-first", "person-first"])
def test_the_reaper_and_a_persons_task_cancel_interleave_at_every_lock(lockstep, reaper_first):
    """The reaper marks a run whose worker died lost and puts its task back, as a worker's finish
    does; a person cancels that task meanwhile."""
    failures: list[str] = []
    k = 0
    while True:
        k += 1
        delivery = _delivery(k)
        with schema_context("alpha"):
            claim = _claim("alpha", delivery.a.pk, "a worker that died")
            assert claim is not None
            Run.objects.filter(pk=claim.run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
            run = Run.objects.select_related("task").get(pk=claim.run.pk)
        reap = _in_alpha(run_reap, run=run, cutoff=timezone.now() - timedelta(minutes=1))
        reaper = Side("reaper", reap, Gate(stop_after=k if reaper_first else None, armed=True))
        cancel = _in_alpha(task_cancel, task=delivery.a, user=lockstep)
        person = Side("person", cancel, Gate(stop_after=None if reaper_first else k, armed=True))
        first, second = (reaper, person) if reaper_first else (person, reaper)
        held = _in_turn(first, second)
        seen = _seen(delivery, reaper, person)
        try:
            assert reaper.error is None, f"the reaper failed: {reaper.error!r}"
            assert person.error is None, f"the person's control failed: {person.error!r}"
            assert seen.tasks["a"].status == Task.Status.CANCELLED and seen.cancelled_events == 1
            assert seen.run.status == (Run.Status.LOST if reaper.result else Run.Status.CANCELLED)
            with schema_context("alpha"):
                assert Event.objects.filter(run=run, kind=Event.Kind.RUN_LOST).count() == reaper.result
            _leases_consistent(seen)
        except AssertionError as error:
            failures.append(f"{first.name} held after lock {k} ({first.gate.held_at}): {error}")
        _tidy(delivery, lockstep)
        if not held:
            break
    assert k > 3
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("dispatcher_first", [True, False], ids=["dispatcher-first", "person-first"])
def test_a_dispatcher_and_a_persons_pause_interleave_at_every_lock(lockstep, dispatcher_first):
    """A dispatcher (another project's finish, the sweep) serves the project's ready tasks without
    the project's workflow row; a pause must still never leave a task queued on a paused project."""
    pool = AgentPool.objects.get(role=ROLE)
    failures: list[str] = []
    k = 0
    while True:
        k += 1
        pool_resize(pool=pool, size=0)
        with schema_context("alpha"):
            project = Project.objects.create(name=f"Paused {k}", service=Service.MVP)
            project_start(project=project, template=TEMPLATE, provider="lockstep")
        pool_resize(pool=pool, size=1)  # one free agent; a and c ask for it
        dispatch = Side("dispatcher", lambda: roles_dispatch(roles=[ROLE]), Gate(stop_after=None, armed=True))
        pause = _in_alpha(project_pause, project=project, user=lockstep)
        person = Side("person", pause, Gate(stop_after=None, armed=True))
        first, second = (dispatch, person) if dispatcher_first else (person, dispatch)
        first.gate.stop_after = k
        held = _in_turn(first, second)
        with schema_context("alpha"):
            tasks = list(Task.objects.filter(project=project))
            ids = [task.pk for task in tasks]
        try:
            assert dispatch.error is None and person.error is None, f"{dispatch.error!r} {person.error!r}"
            assert not [task.key for task in tasks if task.status == Task.Status.QUEUED], "queued while paused"
            assert not Agent.objects.filter(lease_schema="alpha", lease_task__in=ids).exists()
            assert not LeaseRequest.objects.filter(schema_name="alpha", task_id__in=ids).exists()
        except AssertionError as error:
            failures.append(f"{first.name} held after lock {k} ({first.gate.held_at}): {error}")
        with schema_context("alpha"):
            project_cancel(project=project, user=lockstep)
        if not held:
            break
    assert k > 3
    assert not failures, "\n\n".join(failures)


def test_a_finish_rolled_back_by_a_deadlock_runs_again_and_records_its_outcome_once(lockstep):
    """A lock taker outside the order (here one that holds the run, then wants the workflow) can
    still deadlock with a finishing worker: PostgreSQL aborts the worker's transaction, which is
    then run again from the start."""
    global _script
    delivery = _delivery(1)
    run_locked, go = threading.Event(), threading.Event()

    def out_of_order() -> None:
        with transaction.atomic(), schema_context("alpha"):
            with connection.cursor() as cursor:  # so that PostgreSQL aborts the worker, not this one
                cursor.execute("SET LOCAL deadlock_timeout = '30s'")
            Run.objects.filter(task=delivery.a).update(heartbeat_at=timezone.now())
            run_locked.set()
            assert go.wait(WAIT)
            workflow_lock(delivery.project.pk)

    worker_gate = Gate(stop_after=None, armed=False)
    _script = Script(fail=False, gate=worker_gate)
    worker = Side("worker", lambda: execute_task.apply(args=["alpha", delivery.a.pk]).get(), worker_gate)
    other = Side("other", out_of_order, Gate(stop_after=None, armed=False))
    worker.start()
    assert _script.started.wait(WAIT)
    other.start()
    assert run_locked.wait(WAIT)
    _script.may_return.set()
    _waits_or_ends(worker)  # for the run, holding the workflow and the task
    go.set()
    for side in (worker, other):
        side.join(WAIT)
    seen = _seen(delivery, worker, other)

    assert worker.error is None and other.error is None
    finishes = [sql for sql in worker_gate.locking if sql.startswith('SELECT "projects_workflow"')]
    assert len(finishes) == 2  # the finishing transaction ran twice
    _consistent(seen, fail=False)
    assert seen.run.status == Run.Status.SUCCEEDED and seen.succeeded_events == 1
    assert seen.tasks["b"].status == Task.Status.QUEUED  # its successor went out once too
    _tidy(delivery, lockstep)
