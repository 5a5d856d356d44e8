"""Customer acceptance of stories in the portal (success.acceptance): accept, reject with a comment
(which adds a fix task), the acceptance rate; and the satisfaction surveys with their NPS summary."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from projects.delivery.events import event_append
from projects.models import Event, Phase, Story, Task
from success.acceptance import FIX_KEY, acceptance_summary
from success.models import Escalation, StoryDecision, Survey
from success.satisfaction import satisfaction_summary
from tests.success.success_world import committed, finish, run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]


def delivered_stories(world: World, name: str) -> tuple[int, list[Story]]:
    """A project whose stories are implemented (development done), now in its quality phase."""
    with schema_context("alpha"):
        project = started_mvp(name, world.users["alpha_owner"], stories=3)
        run_until(project, "quality", world.users["alpha_owner"])
        return project.pk, list(Story.objects.filter(project=project).order_by("position"))


def decide(world: World, user: str, project_id: int, story: Story, **data: object):  # type: ignore[no-untyped-def]
    with committed():
        return world.client(user, on="alpha").post(f"/projects/{project_id}/success/stories/{story.pk}/", data)


def test_a_member_accepts_and_rejects_stories_and_a_rejection_adds_a_fix_task(world: World) -> None:
    project_id, stories = delivered_stories(world, "Acceptance")
    first, second, third = stories

    assert decide(world, "alpha_member", project_id, first, decision="accepted").status_code == 302
    refused = decide(world, "alpha_member", project_id, second, decision="rejected", comment="  ")
    assert refused.status_code == 302
    criterion = "thing 2 is fast"
    response = decide(
        world, "alpha_member", project_id, second, decision="rejected", comment="Search takes 9 s", unmet=[criterion]
    )
    assert response.status_code == 302

    with schema_context("alpha"):
        decisions = list(StoryDecision.objects.filter(project_id=project_id).order_by("pk"))
        assert [(d.story_id, d.decision) for d in decisions] == [(first.pk, "accepted"), (second.pk, "rejected")]
        rejection = decisions[1]
        assert (rejection.comment, rejection.unmet_criteria) == ("Search takes 9 s", [criterion])
        assert rejection.decided_by_email == "alpha-member@example.test"
        fix = rejection.fix_task
        assert fix is not None and fix.key == FIX_KEY and fix.status == Task.Status.READY
        assert fix.phase.key == "quality" and fix.role == "fullstack_developer"
        assert fix.inputs["rejection"]["comment"] == "Search takes 9 s"
        assert fix.inputs["item"]["acceptance_criteria"] == ["thing 2 works", "thing 2 is fast"]
        summary = acceptance_summary(rejection.project)
        assert (summary.stories, summary.decided, summary.accepted, summary.rejected) == (3, 2, 1, 1)
        assert summary.rate == 50 and summary.first_pass_rate == 50 and not summary.on_target

    # While the fix runs the story cannot be decided again; once it is done, it can.
    assert decide(world, "alpha_member", project_id, second, decision="accepted").status_code == 302
    with schema_context("alpha"):
        assert StoryDecision.objects.filter(story=second).count() == 1
        finish(fix)
    decide(world, "alpha_member", project_id, second, decision="accepted")
    decide(world, "alpha_member", project_id, third, decision="accepted")
    with schema_context("alpha"):
        summary = acceptance_summary(rejection.project)
        assert (summary.accepted, summary.rate, summary.criteria_met) == (3, Decimal(100), Decimal(100))
        assert str(summary.first_pass_rate) == "66.7"
        assert summary.on_target

    page = world.client("alpha_viewer", on="alpha").get(f"/projects/{project_id}/success/").content.decode()
    assert "Acceptance rate: <strong>100.0 %</strong>" in page and "Search takes 9 s" in page
    assert f'data-testid="accept-{first.pk}"' not in page  # viewers see, members decide


def test_viewers_cannot_decide_and_unimplemented_stories_wait(world: World) -> None:
    with schema_context("alpha"):
        project = started_mvp("Early", world.users["alpha_owner"], stories=1)
        story = Story.objects.get(project=project)
    assert decide(world, "alpha_viewer", project.pk, story, decision="accepted").status_code == 403
    decide(world, "alpha_member", project.pk, story, decision="accepted")
    with schema_context("alpha"):
        assert not StoryDecision.objects.filter(story=story).exists()


def test_milestones_open_one_survey_each_a_low_score_escalates_and_nps_is_summarised(managed: World, mailbox) -> None:
    """Surveys open at the milestones the customer lives through (the plan, the preview), not at
    the internal phases before them; a score under 8 escalates."""
    world = managed
    with schema_context("alpha"):
        project = started_mvp("Surveyed", world.users["alpha_owner"], stories=1)
        run_until(project, "sprint_planning", world.users["alpha_owner"])
        done = list(Phase.objects.filter(project=project, status=Phase.Status.DONE).order_by("position"))
        assert [p.key for p in done] == ["requirements", "architecture", "review"]
        surveys = list(Survey.objects.filter(project=project).order_by("pk"))
        assert [(s.occasion, s.phase_id, s.subject) for s in surveys] == [("plan", done[-1].pk, "the plan")]
        run_until(project, "quality", world.users["alpha_owner"])  # sprint planning, development: no survey
        preview = Phase.objects.get(project=project, key="preview")
        with committed():  # the preview phase closes (its gates are tests/success/test_gates.py's)
            event_append(project_id=project.pk, kind=Event.Kind.PHASE_COMPLETED, phase=preview)
        surveys = list(Survey.objects.filter(project=project).order_by("pk"))
        assert [s.occasion for s in surveys] == ["plan", "preview"]
    url = f"/projects/{project.pk}/success/surveys/{surveys[0].pk}/"
    with committed():
        assert world.client("alpha_member", on="alpha").post(url, {"score": 6, "comment": "slow"}).status_code == 302
        world.client("alpha_owner", on="alpha").post(url, {"score": 10})  # answered already
        world.client("alpha_member", on="alpha").post(
            f"/projects/{project.pk}/success/surveys/{surveys[1].pk}/", {"score": 11}
        )
    with schema_context("alpha"):
        first, second = (Survey.objects.get(pk=s.pk) for s in surveys)
        assert (first.score, first.comment, first.answered_by_email) == (6, "slow", "alpha-member@example.test")
        assert second.score is None
        escalation = Escalation.objects.get(project=project)
        assert escalation.kind == Escalation.Kind.LOW_SATISFACTION and "6/10" in escalation.reason
    sent = mailbox.to("staff@hive.test")
    assert len(sent) == 1 and "Satisfaction below 8/10" in sent[0].subject and "slow" in sent[0].text

    summary = satisfaction_summary([10, 9, 8, 7, 6, 3])
    assert (summary.promoters, summary.passives, summary.detractors) == (2, 2, 2)
    assert summary.nps == 0 and str(summary.mean) == "7.2" and summary.below_floor == 3
