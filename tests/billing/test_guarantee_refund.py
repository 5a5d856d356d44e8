"""The 30-day guarantee (success.guarantee) on constructed, paid and delivered projects: it opens at
delivery, is met at the end of its window, or — claimed by the customer — is not met, and the
account manager's confirmation refunds everything paid, in Stripe (localstripe, as the billing
tests run it). It lives beside the billing tests to share their one localstripe and Celery worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from billing import gateway, services
from billing.milestones import mvp_milestones
from billing.models import Charge, Refund
from projects.delivery.events import event_append
from projects.models import Event, Phase, Project, Story, Task, Workflow
from success.guarantee import conditions_check, guarantees_due_assess
from success.models import (
    Escalation,
    GateRun,
    Guarantee,
    GuaranteeAssessment,
    StoryDecision,
    SuccessMetric,
    Survey,
)
from success.outcomes import outcome_read
from tests.billing.billing_world import accepted_project, card_add
from tests.world import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stripe_emulator")]

PRICE = 7_500_000


def paid_project(world: World) -> tuple[Project, list[Charge]]:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"], price_cents=PRICE)
    charges = [
        services.milestone_charge(
            customer=world.customers["alpha"],
            project_id=project.pk,
            project_name=project.name,
            service="mvp",
            milestone=m,
        )
        for m in mvp_milestones(PRICE)
    ]
    assert [c.status for c in charges] == [Charge.Status.SUCCEEDED] * 2
    return project, charges


def deliver(project: Project, *, days_late: int, decisions: list[str]) -> None:
    """Lay out a finished delivery: two phases (the gated one passed), stories built and every
    criterion verified by QA, stories decided, a page-load measurement, then the
    ``project.completed`` event that opens the survey and the guarantee."""
    now = timezone.now()
    start, planned_end = now - timedelta(days=20), now - timedelta(days=days_late)
    with schema_context("alpha"), transaction.atomic():
        Workflow.objects.create(
            project=project,
            template="mvp",
            status=Workflow.Status.COMPLETED,
            started_at=start,
            planned_end=planned_end,
            finished_at=now,
        )
        quality = Phase.objects.create(
            project=project,
            position=1,
            key="quality",
            name="Quality gates",
            gated=True,
            status=Phase.Status.DONE,
            planned_end=start + timedelta(days=10),
            started_at=start,
            finished_at=start + timedelta(days=9),
        )
        Phase.objects.create(
            project=project,
            position=2,
            key="acceptance",
            name="Customer acceptance",
            status=Phase.Status.DONE,
            planned_end=planned_end,
            started_at=start + timedelta(days=9),
            finished_at=now,
        )
        GateRun.objects.create(project=project, phase=quality, number=1, service="mvp", verdict=GateRun.Verdict.PASSED)
        stories = [
            Story.objects.create(
                project=project,
                position=number,
                title=f"S{number}",
                as_a="u",
                i_want="x",
                acceptance_criteria=[f"S{number} is saved", f"S{number} is listed"],
            )
            for number in range(1, len(decisions) + 1)
        ]
        build_and_verify(project, quality, stories, finished=start + timedelta(days=8))
        for story, decision in zip(stories, decisions, strict=True):
            StoryDecision.objects.create(
                project=project, story=story, decision=decision, decided_by_email="alpha-owner@example.test"
            )
        event_append(
            project_id=project.pk, kind=Event.Kind.TASK_REPORT, message="probe", data={"page_load_p95_ms": 840}
        )
        event_append(project_id=project.pk, kind=Event.Kind.PROJECT_COMPLETED, message="every phase is done")


def build_and_verify(project: Project, phase: Phase, stories: list[Story], *, finished: datetime) -> None:
    """Each story built by its developer task, then every criterion verified by the QA step: its
    outcome reports a passing test per criterion, read as the worker's success hook reads it."""
    for number, story in enumerate(stories, 1):
        Task.objects.create(
            project=project,
            phase=phase,
            position=number,
            key="story",
            title=f"Build {story.title}",
            role="fullstack_developer",
            inputs={"item": {"number": number, "story_id": story.pk, "title": story.title}},
            status=Task.Status.DONE,
            finished_at=finished,
        )
    checks = [
        {
            "story_id": story.pk,
            "index": index,  # the generator's 1-based criterion number (success.criteria)
            "criterion": criterion,
            "status": "pass",
            "test": f"tests.test_story_{story.pk}.Acceptance.test_criterion_{index}",
            "output": "ok",
            "commit": "0" * 40,
        }
        for story in stories
        for index, criterion in enumerate(story.acceptance_criteria, start=1)
    ]
    qa = Task.objects.create(
        project=project,
        phase=phase,
        position=len(stories) + 1,
        key="quality",
        title="Quality assurance",
        role="qa_engineer",
        status=Task.Status.DONE,
        finished_at=finished,
        output={"data": {"acceptance_checks": checks}},
    )
    outcome_read(task=qa)


def rate_delivery(project: Project, score: int) -> None:
    with schema_context("alpha"):
        Survey.objects.filter(project=project, occasion=Survey.Occasion.DELIVERY).update(
            score=score, answered_by_email="alpha-owner@example.test", answered_at=timezone.now()
        )


def test_a_kept_guarantee_is_met_at_the_end_of_its_window_and_nothing_is_refunded(
    world: World,
) -> None:
    project, _ = paid_project(world)
    deliver(project, days_late=-2, decisions=["accepted", "accepted", "accepted"])
    rate_delivery(project, 9)
    with schema_context("alpha"):
        guarantee = Guarantee.objects.get(project=project)
        assert guarantee.status == Guarantee.Status.OPEN
        assert guarantee.closes_at - guarantee.opened_at == timedelta(days=30)
        states = {check.code: check.state for check in conditions_check(project)}
        assert states == {
            "metrics_improved": "met",
            "quality_standards_kept": "met",
            "timeline_adherence": "met",
            "customer_satisfaction": "met",
            "delivered_in_timeline": "met",
            "acceptance_criteria_met": "met",
            "performance_benchmarks_met": "met",
            "user_acceptance": "met",
        }
        early = guarantees_due_assess(now=guarantee.closes_at - timedelta(seconds=1))
        assert guarantee.pk not in {a.guarantee_id for a in early}
        due = guarantees_due_assess(now=guarantee.closes_at + timedelta(seconds=1))
        [assessment] = [a for a in due if a.guarantee_id == guarantee.pk]
        assert (assessment.trigger, assessment.outcome) == ("window_end", "met")
        guarantee.refresh_from_db()
        assert guarantee.status == Guarantee.Status.PASSED
        satisfaction = SuccessMetric.objects.get(project=project, code="customer_satisfaction")
        assert satisfaction.measurements.get().value == Decimal(9)
    assert not Refund.objects.exists()
    page = world.client("alpha_viewer", on="alpha").get(f"/projects/{project.pk}/success/").content.decode()
    assert "Met" in page and 'data-testid="condition-performance_benchmarks_met"' in page


def test_a_claimed_and_failed_guarantee_is_refunded_in_stripe_once_the_account_manager_confirms(
    world: World,
) -> None:
    alpha = world.customers["alpha"]
    alpha.account_manager = world.users["staff"]
    alpha.save(update_fields=["account_manager"])
    project, charges = paid_project(world)
    deliver(project, days_late=3, decisions=["accepted", "rejected"])
    rate_delivery(project, 5)

    owner = world.client("alpha_owner", on="alpha")
    claim = owner.post(
        f"/projects/{project.pk}/success/guarantee/claim/", {"reason": "Delivered late; search too slow."}
    )
    assert claim.status_code == 302
    with schema_context("alpha"):
        guarantee = Guarantee.objects.get(project=project)
        assert guarantee.status == Guarantee.Status.FAILED and guarantee.claimed_by_email == "alpha-owner@example.test"
        assessment = GuaranteeAssessment.objects.get(guarantee=guarantee)
        assert (assessment.trigger, assessment.outcome) == ("claim", "not_met")
        failing = {c["code"]: c for c in assessment.checks if c["state"] == "not_met"}
        assert set(failing) == {
            "metrics_improved",
            "timeline_adherence",
            "customer_satisfaction",
            "delivered_in_timeline",
            "acceptance_criteria_met",
            "user_acceptance",
        }
        assert failing["customer_satisfaction"]["value"] == "5/10"
        assert failing["user_acceptance"]["evidence"] == "1 of 2 decided stories accepted"
        escalation = Escalation.objects.get(kind=Escalation.Kind.GUARANTEE_FAILED, project=project)
        assert escalation.assigned_to_email == "staff@hive.test"
    assert not Refund.objects.exists()  # nothing moves before the account manager confirms

    staff = world.client("staff")
    page = staff.get(f"/admin/success/projects/alpha/{project.pk}/").content.decode()
    assert "Confirm the full refund" in page
    assert (
        staff.post(f"/admin/success/projects/alpha/{project.pk}/", {"action": "refund", "note": ""}).status_code == 302
    )

    refunds = list(Refund.objects.order_by("pk"))
    assert [(r.kind, r.status) for r in refunds] == [(Refund.Kind.GUARANTEE, Refund.Status.SUCCEEDED)] * 2
    assert sum(r.amount_cents for r in refunds) == PRICE
    assert all(r.created_by == world.users["staff"] for r in refunds)
    for charge in charges:
        charge.refresh_from_db()
        remote = gateway.charge_retrieve(charge.stripe_charge_id)
        assert remote.refunded is True and remote.amount_refunded == charge.amount_cents
    with schema_context("alpha"):
        guarantee.refresh_from_db()
        assert guarantee.status == Guarantee.Status.REFUNDED and guarantee.refunded_cents == PRICE
        assert guarantee.decided_by_email == "staff@hive.test"
        escalation.refresh_from_db()
        assert escalation.status == Escalation.Status.RESOLVED
    customer_page = owner.get(f"/projects/{project.pk}/success/").content.decode()
    assert "Not met: refunded" in customer_page and "Full refund confirmed." in customer_page
