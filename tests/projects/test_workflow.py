"""Workflow templates and the phase/task state machine (projects.delivery.workflow, projects.delivery.orchestration),
without workers: what a started project looks like, how it advances, and the human controls."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.models import Agent, LeaseRequest
from agents.pools import leases_match, pools_ensure
from agents.roles import ROLES, Role
from projects.delivery import orchestration
from projects.delivery.controls import (
    project_cancel,
    project_pause,
    project_resume,
    task_approve,
    task_hold,
    task_release,
)
from projects.delivery.orchestration import WorkflowError
from projects.delivery.planning import duration_of, project_start
from projects.delivery.progress import project_progress, project_timeline
from projects.models import Assessment, Engagement, Event, Phase, Project, Quote, Run, Service, Story, Task, Workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(world):
    pools_ensure()
    with schema_context("alpha"):
        yield world


def mvp(stories: int = 3) -> Project:
    project = Project.objects.create(name="Shop", service=Service.MVP)
    for number in range(1, stories + 1):
        Story.objects.create(
            project=project, position=number, title=f"Story {number}", as_a="buyer", i_want=f"do thing {number}"
        )
    return project


def test_it_lays_out_the_mvp_workflow_from_the_seed(alpha):
    project = mvp(stories=4)
    project_start(project=project, user=alpha.users["staff"])
    phases = list(Phase.objects.filter(project=project).values_list("key", flat=True))
    assert phases == [
        "requirements",
        "architecture",
        "review",
        "sprint_planning",
        "development",
        "quality",
        "preview",
        "deployment",
        "acceptance",
    ]
    development = Task.objects.filter(project=project, phase__key="development")
    assert development.filter(key="story").count() == 4  # one task per story
    assert set(development.values_list("role", flat=True)) == {Role.FULLSTACK_DEVELOPER, Role.DEVOPS}
    approvals = Task.objects.filter(project=project, kind=Task.Kind.APPROVAL).values_list("phase__key", flat=True)
    assert sorted(approvals) == ["acceptance", "review"]
    assert Phase.objects.get(project=project, key="quality").gated


def test_every_role_of_a_template_is_in_the_catalogue(alpha):
    project = mvp(stories=1)
    project_start(project=project)
    assert {Role(t.role) for t in Task.objects.filter(project=project, kind=Task.Kind.AGENT)} <= set(ROLES)


def test_starting_opens_only_the_first_phase_and_asks_for_an_agent(alpha):
    project = mvp()
    project_start(project=project)
    first = Task.objects.get(project=project, key="requirements")
    assert first.status == Task.Status.READY
    assert LeaseRequest.objects.filter(schema_name="alpha", task_id=first.pk, role=Role.REQUIREMENTS_ANALYST).exists()
    assert not Task.objects.filter(project=project, status=Task.Status.READY).exclude(pk=first.pk).exists()
    assert Phase.objects.get(project=project, position=1).status == Phase.Status.RUNNING
    kinds = list(Event.objects.filter(project=project).values_list("kind", flat=True))
    assert kinds[:3] == [Event.Kind.PROJECT_STARTED, Event.Kind.PHASE_STARTED, Event.Kind.TASK_READY]


def test_starting_twice_starts_once(alpha):
    project = mvp()
    first = project_start(project=project)
    assert project_start(project=project) == first
    assert Phase.objects.filter(project=project).count() == 9


def finish(task: Task) -> None:
    """Mark an agent task done the way a worker does, then advance the project."""
    Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE, finished_at=timezone.now())
    orchestration.advance(task.project_id)


def test_a_task_waits_for_its_dependencies_within_the_phase(alpha):
    project = mvp()
    project_start(project=project)
    finish(Task.objects.get(project=project, key="requirements"))
    design = Task.objects.get(project=project, key="architecture")
    validation = Task.objects.get(project=project, key="validation")
    assert (design.status, validation.status) == (Task.Status.READY, Task.Status.PENDING)
    assert list(validation.depends_on.all()) == [design]
    finish(design)
    validation.refresh_from_db()
    assert validation.status == Task.Status.READY


def test_development_waits_for_the_customer_to_approve_the_plan(alpha):
    project = mvp(stories=2)
    project_start(project=project)
    for key in ("requirements", "architecture", "validation"):
        finish(Task.objects.get(project=project, key=key))
    approval = Task.objects.get(project=project, key="approve_plan")
    assert approval.status == Task.Status.AWAITING_APPROVAL
    assert Task.objects.get(project=project, key="sprint_plan").status == Task.Status.PENDING
    owner = alpha.users["alpha_owner"]
    task_approve(task=approval, user=owner)
    event = Event.objects.get(project=project, kind=Event.Kind.APPROVAL_GRANTED)
    assert event.actor == owner.email and event.task_id == approval.pk
    assert Task.objects.get(project=project, key="sprint_plan").status == Task.Status.READY
    with pytest.raises(WorkflowError):
        task_approve(task=approval, user=owner)


@pytest.fixture
def without_gate_policy():
    """The success app's receivers (gates, escalations) disconnected, as if it were not installed."""
    from success.receivers import connect_receivers, disconnect_receivers

    disconnect_receivers()
    yield
    connect_receivers()


def test_a_gated_phase_passes_when_no_gate_policy_is_installed(alpha, without_gate_policy):
    project = mvp(stories=1)
    project_start(project=project)
    for phase in Phase.objects.filter(project=project, position__lte=5).order_by("position"):
        for task in Task.objects.filter(phase=phase):
            if task.kind == Task.Kind.APPROVAL:
                task_approve(task=task, user=alpha.users["alpha_owner"])
            else:
                finish(task)
    finish(Task.objects.get(project=project, key="quality"))
    quality = Phase.objects.get(project=project, key="quality")
    assert quality.status == Phase.Status.DONE and quality.gate_note.startswith("passed")
    assert Event.objects.filter(project=project, kind=Event.Kind.PHASE_PASSED, phase=quality).exists()


def test_progress_is_derived_from_finished_tasks_weighted_by_phase(alpha):
    project = mvp(stories=2)
    project_start(project=project)
    assert project_progress(project) == 0.0
    finish(Task.objects.get(project=project, key="requirements"))
    weights = sum(Phase.objects.filter(project=project).values_list("weight", flat=True))
    assert project_progress(project) == pytest.approx(1 / weights)
    finish(Task.objects.get(project=project, key="architecture"))
    assert project_progress(project) == pytest.approx((1 + 2 * 0.5) / weights)


def test_modernization_fans_out_one_task_per_segment_in_dependency_order(alpha):
    project = Project.objects.create(name="Legacy", service=Service.MODERNIZATION)
    plan = {
        "phases": [
            {"number": 1, "share": 0.4, "modules": ["a"], "depends_on_phases": [], "rollback": "flag"},
            {"number": 2, "share": 0.3, "modules": ["b"], "depends_on_phases": [1], "rollback": "flag"},
            {"number": 3, "share": 0.3, "modules": ["c"], "depends_on_phases": [1, 2], "rollback": "flag"},
        ]
    }
    Assessment.objects.create(project=project, source="x.zip", result={"plan": plan})
    project_start(project=project)
    segments = {t.inputs["item"]["number"]: t for t in Task.objects.filter(project=project, key="segment")}
    assert sorted(segments) == [1, 2, 3]
    assert {d.pk for d in segments[3].depends_on.all()} == {segments[1].pk, segments[2].pk}
    assert [d.pk for d in segments[2].depends_on.all()] == [segments[1].pk]
    assert Phase.objects.get(project=project, key="testing").gated


def test_augmentation_fans_out_one_task_per_backlog_item(alpha):
    project = Project.objects.create(name="Team", service=Service.AUGMENTATION)
    Engagement.objects.create(
        project=project, kind=Engagement.Kind.SPRINT, notes="- Fix login bug\n- Add CSV export\n\n3) Speed up search"
    )
    project_start(project=project)
    titles = list(Task.objects.filter(project=project, key="backlog_item").values_list("title", flat=True))
    assert len(titles) == 3 and titles[1].endswith("Add CSV export")
    assert Task.objects.get(project=project, key="team_assessment").role == Role.TEAM_INTEGRATION


def test_timeline_is_planned_from_the_accepted_quote(alpha):
    assert duration_of("2–3 weeks") == timedelta(weeks=3)
    assert duration_of("6–12 months") == timedelta(days=360)
    project = mvp(stories=1)
    Quote.objects.create(
        project=project,
        number=1,
        snapshot={"service": "mvp", "tier": {"timeline": "2–3 weeks"}},
        price_cents=1,
        accepted_at=timezone.now(),
    )
    start = timezone.now()
    workflow = project_start(project=project, now=start)
    assert workflow.planned_end == start + timedelta(weeks=3)
    phases = list(Phase.objects.filter(project=project).order_by("position"))
    assert phases[0].planned_start == start and phases[-1].planned_end == workflow.planned_end
    assert all(a.planned_end == b.planned_start for a, b in pairwise(phases))
    on_time = project_timeline(project, now=start + timedelta(hours=1))
    assert on_time.on_track is True
    assert phases[0].planned_end is not None
    late = project_timeline(project, now=phases[0].planned_end + timedelta(days=1))
    assert late.on_track is False and late.delay == timedelta(days=1)


def test_a_project_without_an_accepted_quote_has_no_planned_dates(alpha):
    project = mvp(stories=1)
    project_start(project=project)
    assert project_timeline(project).on_track is None


def test_pause_gives_queued_agents_back_and_resume_asks_again(alpha):
    pools_ensure(sizes={Role.REQUIREMENTS_ANALYST: 1})
    project = mvp()
    project_start(project=project)
    leases = leases_match(role=Role.REQUIREMENTS_ANALYST)
    task = Task.objects.get(project=project, key="requirements")
    assert [lease.task_id for lease in leases if lease.schema_name == "alpha"] == [task.pk]
    Task.objects.filter(pk=task.pk).update(status=Task.Status.QUEUED, agent_id=leases[0].agent_id)
    staff = alpha.users["staff"]
    project_pause(project=project, user=staff)
    task.refresh_from_db()
    assert task.status == Task.Status.READY and task.agent_id is None
    assert not Agent.objects.filter(lease_schema="alpha", lease_task=task.pk).exists()
    assert not LeaseRequest.objects.filter(schema_name="alpha", task_id=task.pk).exists()
    with pytest.raises(WorkflowError):
        project_pause(project=project, user=staff)
    project_resume(project=project, user=staff)
    assert LeaseRequest.objects.filter(schema_name="alpha", task_id=task.pk).exists()
    actors = Event.objects.filter(
        project=project, kind__in=[Event.Kind.PROJECT_PAUSED, Event.Kind.PROJECT_RESUMED]
    ).values_list("actor", flat=True)
    assert list(actors) == [staff.email, staff.email]


def test_cancel_stops_every_unfinished_task_and_running_run(alpha):
    project = mvp()
    project_start(project=project)
    task = Task.objects.get(project=project, key="requirements")
    Task.objects.filter(pk=task.pk).update(status=Task.Status.RUNNING, attempts=1)
    run = Run.objects.create(task=task, attempt=1, provider="builtin")
    project_cancel(project=project, user=alpha.users["staff"])
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED
    assert not Task.objects.filter(project=project).exclude(status=Task.Status.CANCELLED).exists()
    assert Workflow.objects.get(project=project).status == Workflow.Status.CANCELLED
    assert not LeaseRequest.objects.filter(schema_name="alpha", task_id=task.pk).exists()
    with pytest.raises(WorkflowError):
        project_resume(project=project, user=alpha.users["staff"])


def test_a_held_task_is_not_dispatched_until_released(alpha):
    project = mvp()
    project_start(project=project)
    task = Task.objects.get(project=project, key="requirements")
    task_hold(task=task, user=alpha.users["staff"])
    assert not LeaseRequest.objects.filter(schema_name="alpha", task_id=task.pk).exists()
    task_release(task=task, user=alpha.users["staff"])
    assert LeaseRequest.objects.filter(schema_name="alpha", task_id=task.pk).exists()


def test_events_are_append_only(alpha):
    project = mvp(stories=1)
    project_start(project=project)
    event = Event.objects.filter(project=project).first()
    assert event is not None
    event.message = "rewritten"
    with pytest.raises(Exception, match="append-only"):
        event.save()
    with pytest.raises(Exception, match="append-only"):
        event.delete()
