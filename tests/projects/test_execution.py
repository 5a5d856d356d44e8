"""Durable execution with real Celery workers (projects.delivery.execution, projects.tasks): a real Redis
broker, a transactional database, thread workers in this process and a subprocess worker that is
SIGKILLed. Test roles use the ``sleepy`` and ``flaky`` providers of ``tests.workers``."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.models import Agent, AgentPool
from agents.pools import pool_resize, pools_ensure
from agents.roles import Role
from projects.delivery.controls import project_cancel, project_pause, project_resume, task_approve, task_rerun
from projects.delivery.dispatch import roles_dispatch
from projects.delivery.orchestration import WorkflowError
from projects.delivery.planning import project_start
from projects.delivery.progress import project_progress
from projects.delivery.sweeps import runs_reap, tasks_escalate, tasks_redispatch
from projects.delivery.workflow import PhaseTemplate, Step, WorkflowTemplate
from projects.models import Event, Phase, Project, Run, Service, Story, Task, Workflow
from projects.tasks import execute_task
from tests.workers import (
    broker_flush,
    subprocess_worker,
    thread_worker,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

DEV = Role.FULLSTACK_DEVELOPER


def fan_out(count: int, *, seconds: float = 0.05, failures: int = 0, role: Role = DEV) -> WorkflowTemplate:
    items = tuple({"number": n, "title": f"job {n}", "seconds": seconds, "failures": failures} for n in range(count))
    phase = PhaseTemplate("work", "Work", 1, (Step("job", "Job", role, fan_out="items"),))
    return WorkflowTemplate(name="test", phases=(phase,), items=items)


def start(schema: str, template: WorkflowTemplate, *, provider: str = "sleepy", name: str = "Test") -> int:
    with schema_context(schema):
        project = Project.objects.create(name=name, service=Service.MVP)
        project_start(project=project, template=template, provider=provider)
        return project.pk


def status(schema: str, project_id: int) -> str:
    with schema_context(schema):
        return Workflow.objects.get(project_id=project_id).status


def completed(schema: str, project_id: int) -> bool:
    return status(schema, project_id) == Workflow.Status.COMPLETED


def succeeded_runs_per_task(project_id: int) -> Counter[int]:
    return Counter(
        Run.objects.filter(task__project_id=project_id, status=Run.Status.SUCCEEDED).values_list("task_id", flat=True)
    )


def test_an_mvp_runs_from_first_to_last_phase_with_the_builtin_provider(hive, tmp_path):
    owner = hive.users["alpha_owner"]
    with schema_context("alpha"):
        project = Project.objects.create(name="Shop", service=Service.MVP)
        for n in range(1, 4):
            Story.objects.create(
                project=project,
                position=n,
                title=f"Story {n}",
                as_a="buyer",
                i_want=f"do thing {n}",
                acceptance_criteria=[f"thing {n} works"],
            )
    with thread_worker(), schema_context("alpha"):
        project_start(project=project, user=owner)

        def approve_until_done() -> bool:
            for task in Task.objects.filter(project=project, status=Task.Status.AWAITING_APPROVAL):
                task_approve(task=task, user=owner)
            return Workflow.objects.get(project=project).status == Workflow.Status.COMPLETED

        wait_for(approve_until_done, timeout=40, what="the MVP to complete")
        phases = list(Phase.objects.filter(project=project).order_by("position"))
        assert all(phase.status == Phase.Status.DONE for phase in phases)
        finishes = [phase.finished_at for phase in phases]
        assert None not in finishes
        assert finishes == sorted(finishes, key=lambda moment: moment or timezone.now())  # phase after phase
        agent_tasks = Task.objects.filter(project=project, kind=Task.Kind.AGENT)
        assert set(succeeded_runs_per_task(project.pk).values()) == {1}
        assert len(succeeded_runs_per_task(project.pk)) == agent_tasks.count()
        assert project_progress(project) == 1.0
        workspace = tmp_path / "alpha" / "projects" / str(project.pk) / "workspace"
        assert (workspace / "docs" / "requirements.md").read_text().count("## ") == 3
        assert len(list((workspace / "docs" / "stories").glob("*.md"))) == 3
        assert (workspace / "app" / "entities" / "thing.py").exists()  # the three stories build one entity
        quality = Task.objects.get(project=project, key="quality")
        assert quality.output["data"]["checked"] >= 6  # every earlier artifact was there
        kinds = list(Event.objects.filter(project=project).values_list("kind", flat=True))
        assert kinds[0] == Event.Kind.PROJECT_STARTED and kinds[-1] == Event.Kind.PROJECT_COMPLETED
        run = Run.objects.filter(task__project=project).first()
        assert run is not None and run.agent_name and run.usage_seconds > 0 and run.worker


def end(run: Run) -> datetime:
    assert run.finished_at is not None
    return run.finished_at


def test_dependencies_are_respected(hive):
    items = tuple(
        {"number": n, "title": f"s{n}", "seconds": 0.1, "depends_on": d}
        for n, d in ((1, []), (2, [1]), (3, [1]), (4, [2, 3]))
    )
    template = WorkflowTemplate(
        name="test",
        phases=(
            PhaseTemplate("first", "First", 1, (Step("job", "Segment", DEV, fan_out="items"),)),
            PhaseTemplate("second", "Second", 1, (Step("a", "A", DEV), Step("b", "B", DEV, ("a",)))),
        ),
        items=items,
    )
    with thread_worker():
        project_id = start("alpha", template)
        wait_for(lambda: completed("alpha", project_id), what="completion")
    with schema_context("alpha"):
        runs = {
            run.task_id: run
            for run in Run.objects.filter(task__project_id=project_id, status=Run.Status.SUCCEEDED).select_related(
                "task__phase"
            )
        }
        assert len(runs) == 6
        for task in Task.objects.filter(project_id=project_id).prefetch_related("depends_on"):
            for dependency in task.depends_on.all():
                assert runs[task.pk].started_at >= end(runs[dependency.pk])
        first_phase_end = max(end(r) for r in runs.values() if r.task.phase.key == "first")
        assert all(r.started_at >= first_phase_end for r in runs.values() if r.task.phase.key == "second")


def test_two_tenants_share_the_pool_fairly(hive):
    pools_ensure(sizes={DEV: 2})
    with thread_worker(concurrency=4):
        alpha = start("alpha", fan_out(8, seconds=0.15), name="flood")
        time.sleep(0.05)
        beta = start("beta", fan_out(3, seconds=0.15), name="small")
        wait_for(lambda: completed("alpha", alpha) and completed("beta", beta), timeout=30, what="both projects")
    leased: list[tuple[datetime, str]] = []
    for schema, project_id in (("alpha", alpha), ("beta", beta)):
        with schema_context(schema):
            for queued_at in Task.objects.filter(project_id=project_id).values_list("queued_at", flat=True):
                assert queued_at is not None
                leased.append((queued_at, schema))
    order = [schema for _, schema in sorted(leased)]
    # Beta asked after alpha's eight tasks were waiting. First come, first served would give beta
    # the last three agents (positions 8–10). Fair sharing gives the next free agent to the tenant
    # holding fewer (ties to the older request): beta gets the first agent freed after it asked and
    # at least every third from then on, whichever of the running tasks happens to finish first.
    positions = [i for i, schema in enumerate(order) if schema == "beta"]
    assert positions[0] <= 3 and positions[-1] <= 8 and all(b - a <= 3 for a, b in pairwise(positions)), order
    assert Agent.objects.filter(pool__role=DEV, lease_task__isnull=False).count() == 0


def test_a_blocked_task_rerun_by_an_account_manager_gets_fresh_attempts_and_completes(hive):
    template = WorkflowTemplate(
        name="test",
        phases=(PhaseTemplate("work", "Work", 1, (Step("job", "Job", DEV, fan_out="items"),)),),
        items=({"number": 1, "title": "needs a hand", "failures": 3},),
    )
    with thread_worker():
        project_id = start("alpha", template, provider="flaky")
        with schema_context("alpha"):
            task = Task.objects.get(project_id=project_id, title__endswith="needs a hand")
            wait_for(lambda: Task.objects.filter(pk=task.pk, status=Task.Status.BLOCKED).exists(), what="blocked")
            task_rerun(task=task, user=hive.users["staff"])
            wait_for(lambda: completed("alpha", project_id), what="completion after the re-run")
    with schema_context("alpha"):
        runs = list(Run.objects.filter(task=task).order_by("attempt").values_list("attempt", "status"))
        assert runs == [(1, "failed"), (2, "failed"), (3, "failed"), (4, "succeeded")]
        rerun = Event.objects.get(task=task, kind=Event.Kind.TASK_RERUN)
        assert rerun.actor == "staff@hive.test"
        # The delivery is over: re-running a task would not reopen it, so it is refused.
        with pytest.raises(WorkflowError, match="completed"):
            task_rerun(task=Task.objects.get(pk=task.pk), user=hive.users["staff"])


def test_a_failing_task_is_retried_with_backoff_then_blocked_and_escalated(hive):
    template = WorkflowTemplate(
        name="test",
        phases=(PhaseTemplate("work", "Work", 1, (Step("job", "Job", DEV, fan_out="items"),)),),
        items=({"number": 1, "title": "recovers", "failures": 1}, {"number": 2, "title": "hopeless", "failures": 9}),
    )
    with thread_worker():
        project_id = start("alpha", template, provider="flaky")
        with schema_context("alpha"):
            hopeless = Task.objects.get(project_id=project_id, title__endswith="hopeless")
            recovers = Task.objects.get(project_id=project_id, title__endswith="recovers")
            wait_for(
                lambda: (
                    Task.objects.filter(pk=hopeless.pk, status=Task.Status.BLOCKED).exists()
                    and Task.objects.filter(pk=recovers.pk, status=Task.Status.DONE).exists()
                ),
                what="one task done, one blocked",
            )
    with schema_context("alpha"):
        hopeless.refresh_from_db()
        assert hopeless.attempts == 3 and "failed on purpose" in hopeless.blocked_reason
        assert Run.objects.filter(task=hopeless, status=Run.Status.FAILED).count() == 3
        assert list(Run.objects.filter(task=recovers).values_list("status", flat=True)) == ["failed", "succeeded"]
        assert Event.objects.filter(task=hopeless, kind=Event.Kind.TASK_RETRY).count() == 2
        assert Workflow.objects.get(project_id=project_id).status == Workflow.Status.RUNNING
        assert tasks_escalate(blocked_for=timedelta(hours=4)) == 0
        Task.objects.filter(pk=hopeless.pk).update(blocked_since=timezone.now() - timedelta(hours=4, minutes=1))
        assert tasks_escalate() == 1
        assert tasks_escalate() == 0  # once
        assert Event.objects.filter(task=hopeless, kind=Event.Kind.TASK_ESCALATED).count() == 1


def test_a_killed_worker_loses_no_work_and_no_run_has_two_outcomes(hive, tmp_path):
    pools_ensure(sizes={DEV: 1})
    project_id = start("alpha", fan_out(3, seconds=1.0))
    with subprocess_worker(storage_root=tmp_path) as process, schema_context("alpha"):
        victim = wait_for(
            lambda: Run.objects.filter(task__project_id=project_id, status=Run.Status.RUNNING).first(),
            timeout=30,
            what="a run in the subprocess worker",
        )
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    with thread_worker(), schema_context("alpha"):
        # Tenant tables outlive tests: other stale runs may be reaped first, so wait for this one.
        wait_for(
            lambda: runs_reap() >= 0 and Run.objects.get(pk=victim.pk).status == Run.Status.LOST,
            timeout=10,
            what="the reaper to find the dead run",
        )
        wait_for(lambda: completed("alpha", project_id), timeout=30, what="completion after the crash")
        victim.refresh_from_db()
        assert victim.status == Run.Status.LOST and victim.finished_at is not None
        assert Event.objects.filter(run=victim, kind=Event.Kind.RUN_LOST).count() == 1
        per_task = succeeded_runs_per_task(project_id)
        assert len(per_task) == 3 and set(per_task.values()) == {1}
        assert Run.objects.filter(task_id=victim.task_id).count() == 2


def test_a_redis_flush_mid_project_loses_nothing(hive):
    pools_ensure(sizes={DEV: 3})
    with thread_worker(queues=["control", "celery"]):  # no agent worker yet: the jobs sit in Redis
        project_id = start("alpha", fan_out(6, seconds=0.05))
        with schema_context("alpha"):
            wait_for(
                lambda: Task.objects.filter(project_id=project_id, status=Task.Status.QUEUED).count() == 3,
                what="three queued tasks",
            )
            events_before = Event.objects.filter(project_id=project_id).count()
    broker_flush()  # the three execute_task messages are gone
    with thread_worker(), schema_context("alpha"):
        time.sleep(1.1)  # older than HIVE_TASK_REDISPATCH_SECONDS
        assert tasks_redispatch() == 3
        wait_for(lambda: completed("alpha", project_id), what="completion after the flush")
        assert Event.objects.filter(project_id=project_id).count() > events_before
        per_task = succeeded_runs_per_task(project_id)
        assert len(per_task) == 6 and set(per_task.values()) == {1}


def test_a_task_locked_elsewhere_is_skipped_by_the_dispatcher_and_asked_for_again_by_the_sweep(hive):
    """The dispatcher holds the task's lease request when it queues the task: waiting for a task
    row that a person's action (hold, pause, cancel) has locked, and that will withdraw that very
    request, could deadlock, and inside a finishing transaction cost the task's result."""
    pools_ensure(sizes={DEV: 0})
    project_id = start("alpha", fan_out(1))
    with schema_context("alpha"):
        task = Task.objects.get(project_id=project_id)
    assert task.status == Task.Status.READY  # no agent yet
    pool_resize(pool=AgentPool.objects.get(role=DEV), size=1)
    locked, dispatched = threading.Event(), threading.Event()
    released_after_dispatch: list[bool] = []

    def hold_the_row() -> None:
        try:
            with transaction.atomic(), schema_context("alpha"):
                Task.objects.select_for_update().get(pk=task.pk)
                locked.set()
                released_after_dispatch.append(dispatched.wait(timeout=10))
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(timeout=10)
    assert roles_dispatch(roles=[DEV]) == 0
    dispatched.set()
    holder.join(timeout=15)
    assert released_after_dispatch == [True]  # it did not wait for the lock
    assert not Agent.objects.filter(pool__role=DEV, lease_task__isnull=False).exists()  # the agent went back
    with schema_context("alpha"):
        assert Task.objects.get(pk=task.pk).status == Task.Status.READY
    tasks_redispatch()  # the sweep asks for an agent again and dispatches
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.QUEUED and task.agent_id is not None


def test_pause_resume_and_cancel(hive):
    staff = hive.users["staff"]
    pools_ensure(sizes={DEV: 1})
    with thread_worker():
        project_id = start("alpha", fan_out(4, seconds=0.3))
        with schema_context("alpha"):
            project = Project.objects.get(pk=project_id)
            wait_for(
                lambda: Run.objects.filter(task__project=project, status=Run.Status.RUNNING).exists(),
                what="a running task",
            )
            project_pause(project=project, user=staff)
            wait_for(
                lambda: not Task.objects.filter(project=project, status=Task.Status.RUNNING).exists(),
                what="the running task to finish",
            )
            time.sleep(0.4)
            paused_done = Task.objects.filter(project=project, status=Task.Status.DONE).count()
            assert paused_done == 1  # nothing new started while paused
            assert Agent.objects.filter(lease_schema="alpha").count() == 0
            project_resume(project=project, user=staff)
            wait_for(
                lambda: Task.objects.filter(project=project, status=Task.Status.DONE).count() >= 2,
                what="work to continue after resume",
            )
            project_cancel(project=project, user=staff)
            time.sleep(0.5)
            assert Workflow.objects.get(project=project).status == Workflow.Status.CANCELLED
            assert not Task.objects.filter(project=project, status__in=["ready", "queued", "running"]).exists()
            assert not Run.objects.filter(task__project=project, status=Run.Status.RUNNING).exists()
            assert Agent.objects.filter(lease_schema="alpha").count() == 0
            actors = dict(
                Event.objects.filter(
                    project=project,
                    kind__in=[Event.Kind.PROJECT_PAUSED, Event.Kind.PROJECT_RESUMED, Event.Kind.PROJECT_CANCELLED],
                ).values_list("kind", "actor")
            )
            assert actors == {
                Event.Kind.PROJECT_PAUSED: staff.email,
                Event.Kind.PROJECT_RESUMED: staff.email,
                Event.Kind.PROJECT_CANCELLED: staff.email,
            }


def test_a_task_of_one_tenant_never_touches_another_tenants_schema(hive, tmp_path):
    with thread_worker():
        alpha = start("alpha", fan_out(2), name="alpha work")
        beta = start("beta", fan_out(2), name="beta work")
        wait_for(lambda: completed("alpha", alpha) and completed("beta", beta), what="both projects")
    with schema_context("alpha"):
        alpha_tasks = set(Task.objects.filter(project_id=alpha).values_list("pk", flat=True))
        alpha_runs = Run.objects.count()
        alpha_events = Event.objects.count()
    with schema_context("beta"):
        beta_runs = list(Run.objects.filter(task__project_id=beta).values_list("task__project__name", flat=True))
        assert beta_runs == ["beta work", "beta work"]
        # The same ids exist in both schemas only by accident; a job names its schema and is
        # executed there only: an alpha task id sent with "beta" does nothing to alpha.
        Task.objects.filter(pk__in=alpha_tasks).update(status=Task.Status.DONE)
    for task_id in alpha_tasks:
        assert execute_task.apply(args=["beta", task_id]).get() == "skipped"
    with schema_context("alpha"):
        assert Run.objects.count() == alpha_runs and Event.objects.count() == alpha_events
    assert sorted(p.name for p in (tmp_path / "alpha" / "projects").iterdir()) == [str(alpha)]
    assert sorted(p.name for p in (tmp_path / "beta" / "projects").iterdir()) == [str(beta)]
    assert not any(Path(tmp_path / "beta").rglob("*alpha*"))


# The statements one no-op execute_task sends, from its claim to its successor being queued
# (BEGIN, COMMIT and SET search_path included), pinned so that they cannot silently grow again:
# measured 20 and 30, with one of margin; they were 29 and 52 before dispatch was cut down. The
# success app's reactions to the events are disconnected: those are that app's queries.
QUERIES_PER_SIBLING = 20 + 1  # a task whose phase goes on, with nothing new to dispatch
QUERIES_PER_CHAIN_STEP = 30 + 1  # a task that completes its phase, starts the next one and queues its task


@pytest.fixture
def projects_alone():
    from success.receivers import connect_receivers, disconnect_receivers

    disconnect_receivers()
    yield
    connect_receivers()


def _execute_counting(schema: str, project_id: int) -> list[str]:
    with schema_context(schema):
        task_id = Task.objects.filter(project_id=project_id, status=Task.Status.QUEUED).order_by("pk")[0].pk
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # as on a worker
    with CaptureQueriesContext(connection) as captured:
        assert execute_task.apply(args=[schema, task_id]).get() == "succeeded"
    return [query["sql"] for query in captured.captured_queries]


def test_a_no_op_task_costs_a_pinned_number_of_queries(hive, projects_alone):
    """Claim, Run, events, release, advance and the successor's lease: every one a statement of
    its own once, nothing per successor or per event beyond its row."""
    pools_ensure(sizes={Role.NOOP: 4})
    siblings = start("alpha", fan_out(3, role=Role.NOOP), provider="noop")
    chain = start(
        "alpha",
        WorkflowTemplate(
            name="chain",
            phases=tuple(PhaseTemplate(f"p{n}", f"Phase {n}", 1, (Step("step", "Step", Role.NOOP),)) for n in range(3)),
        ),
        provider="noop",
    )

    sibling = _execute_counting("alpha", siblings)
    step = _execute_counting("alpha", chain)

    with schema_context("alpha"):
        assert Task.objects.filter(project_id=siblings, status=Task.Status.DONE).count() == 1
        statuses = list(Task.objects.filter(project_id=chain).values_list("status", flat=True))
        assert statuses == [Task.Status.DONE, Task.Status.QUEUED, Task.Status.PENDING]  # the successor is queued
        assert Run.objects.filter(task__project_id=chain, status=Run.Status.SUCCEEDED).count() == 1
        assert list(Event.objects.filter(project_id=chain).values_list("kind", flat=True))[-5:] == [
            Event.Kind.TASK_STARTED,
            Event.Kind.TASK_SUCCEEDED,
            Event.Kind.PHASE_COMPLETED,
            Event.Kind.PHASE_STARTED,
            Event.Kind.TASK_READY,
        ]
    assert len(sibling) <= QUERIES_PER_SIBLING, "\n".join(sibling)
    assert len(step) <= QUERIES_PER_CHAIN_STEP, "\n".join(step)
