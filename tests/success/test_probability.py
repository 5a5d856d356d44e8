"""Success probability (success.probability) on constructed histories: the score follows the
documented weights, says why, and shows on the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from projects.models import Phase, Story, Task
from success.models import GateRun, StoryDecision, Survey
from success.probability import success_probability
from tests.success.delivery import Delivery, delivery_make
from tests.world import World

pytestmark = pytest.mark.django_db


def history(
    delivery: Delivery, *, gates: list[str], decisions: list[str], scores: list[int], blocked: bool = False
) -> None:
    project = delivery.project
    phase = delivery.phases[1]
    now = timezone.now()
    for number, verdict in enumerate(gates, 1):
        GateRun.objects.create(project=project, phase=phase, number=number, service="mvp", verdict=verdict)
    if blocked:
        Phase.objects.filter(pk=phase.pk).update(status=Phase.Status.BLOCKED)
    for number, decision in enumerate(decisions, 1):
        story = Story.objects.create(project=project, position=number, title=f"S{number}", as_a="u", i_want="x")
        StoryDecision.objects.create(
            project=project,
            story=story,
            decision=decision,
            decided_by_email="m@x.test",
            decided_at=now - timedelta(hours=len(decisions) - number),
        )
    for number, score in enumerate(scores, 1):  # one survey per phase
        Survey.objects.create(
            project=project,
            occasion=Survey.Occasion.PHASE,
            phase=delivery.phases[number - 1],
            score=score,
            answered_by_email="m@x.test",
            answered_at=now - timedelta(hours=len(scores) - number),
        )


A, R = StoryDecision.Decision.ACCEPTED, StoryDecision.Decision.REJECTED
PASSED, BLOCKED = GateRun.Verdict.PASSED, GateRun.Verdict.BLOCKED


def test_a_project_on_plan_with_passing_gates_and_happy_customers_is_likely(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Healthy", tasks=6)
        Task.objects.filter(project=delivery.project, status=Task.Status.BLOCKED).update(status=Task.Status.READY)
        history(delivery, gates=[PASSED], decisions=[A, A, A, A], scores=[9, 9])
        result = success_probability(delivery.project)
    assert result.percent == 100 and result.band == "likely"
    assert [f.key for f in result.factors] == ["timeline", "gates", "acceptance", "satisfaction", "delivery"]
    assert result.reasons == [
        "Timeline: not behind the planned dates.",
        "Quality gates: 1 of 1 gate run passed.",
        "Acceptance: 100% of the decided stories accepted (target 90%).",
        "Satisfaction: mean 9.0/10 over 2 answers.",
        "Delivery: nothing blocked, nothing dropped or unverified.",
    ]


def test_a_blocked_task_keeps_the_probability_below_100_and_says_for_how_long(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Stuck", tasks=6)
        since = timezone.now() - timedelta(hours=4)
        Task.objects.filter(project=delivery.project, status=Task.Status.BLOCKED).update(blocked_since=since)
        history(delivery, gates=[PASSED], decisions=[A, A, A, A], scores=[9, 9])
        result = success_probability(delivery.project)
    by_key = {f.key: f for f in result.factors}
    # 4 of 8 hours: 0.2 + 0.3 * 0.5 = 0.35 off.
    assert by_key["delivery"].score == pytest.approx(0.65)
    assert "1 task blocked for 4 hours" in by_key["delivery"].reason
    assert result.percent == round((100 + 30 * 0.65) / 130 * 100) and result.percent < 100


def test_a_late_project_with_blocked_gates_rejections_and_falling_satisfaction_is_unlikely(world: World) -> None:
    with schema_context("alpha"):
        # Started 12 days ago on a 12-day plan; its second phase was due 8 days ago and is still open.
        delivery = delivery_make("Troubled", tasks=6, now=timezone.now() - timedelta(days=10))
        history(delivery, gates=[BLOCKED, BLOCKED], decisions=[A, A, R, R], scores=[9, 4], blocked=True)
        result = success_probability(delivery.project)
    by_key = {f.key: f for f in result.factors}
    # 8 days late of 12 planned: 67 % > 20 %: the timeline factor is 0.
    assert (
        by_key["timeline"].score == 0
        and "behind plan by 8 days (67% of the planned duration)" in by_key["timeline"].reason
    )
    assert by_key["gates"].score == 0 and "blocked now: Development" in by_key["gates"].reason
    # 2 of 4 accepted = 50 % → 0.5/0.9 = 0.556, minus 0.1 for the fall from 100 % to 0 %.
    assert by_key["acceptance"].score == pytest.approx(50 / 90 - 0.1)
    assert "falling: 100% of the earlier decisions were acceptances, 0% of the later" in by_key["acceptance"].reason
    # mean 6.5 → (6.5 − 4) / 4 = 0.625, minus 0.1: the latest (4) is 5 below the earlier mean.
    assert by_key["satisfaction"].score == pytest.approx(0.525)
    # One blocked task (no time recorded): 0.2 off the delivery factor.
    assert by_key["delivery"].score == pytest.approx(0.8)
    expected = (25 * (50 / 90 - 0.1) + 20 * 0.525 + 30 * 0.8) / 130
    assert result.percent == round(expected * 100) and result.band == "unlikely"


def test_without_data_there_is_no_score_and_missing_factors_are_left_out(world: World) -> None:
    with schema_context("alpha"):
        bare = delivery_make("Bare", tasks=3, planned=False)
        Task.objects.filter(project=bare.project, status=Task.Status.BLOCKED).update(status=Task.Status.READY)
        assert success_probability(bare.project).percent is None
        partial = delivery_make("Partial", tasks=3, planned=False)
        Task.objects.filter(project=partial.project, status=Task.Status.BLOCKED).update(status=Task.Status.READY)
        history(partial, gates=[PASSED, BLOCKED], decisions=[], scores=[])
        result = success_probability(partial.project)
    assert result.percent == 50 and result.band == "at risk"
    assert "Timeline: no planned delivery date yet." in result.reasons
    assert "Acceptance: no story decided yet." in result.reasons


def test_the_dashboard_shows_the_probability_and_its_reasons(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Shown", tasks=6)
        history(delivery, gates=[PASSED], decisions=[A, R], scores=[8])
    page = world.client("alpha_viewer", on="alpha").get(f"/projects/{delivery.project.pk}/dashboard/").content.decode()
    assert 'data-testid="probability"' in page
    assert "Acceptance: 50% of the decided stories accepted" in page
