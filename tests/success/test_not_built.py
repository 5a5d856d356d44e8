"""A story the built-in developers cannot build is never shown as done or implemented.

Its development task ends with ``data["built"] = False`` (``agents.work.mvp._not_built``): the
board shows it "Not built — needs the model provider or a developer" among the open work, the task
page and the project page say so, the acceptance matrix (success page, decision page) reads
"not yet", the scope facts do not count it implemented, and the timeline never reads plainly
"On plan" while it is open. The workflow is moved the way workers move it
(``tests.success.success_world``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context

from projects.models import Project, Story, Task
from projects.signals import phase_ready_for_gates
from success.acceptance import story_acceptance_rows
from success.delivery_status import project_scope_facts
from tests.success.success_world import finish, run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]

NOT_BUILT = "Not built — needs the model provider or a developer"


@pytest.fixture
def no_gates() -> Iterator[None]:
    """Quality gates are a matter of their own (coverage, findings, page load): off here."""
    phase_ready_for_gates.disconnect(dispatch_uid="success.gates")
    yield
    from success.gates import on_phase_ready_for_gates

    phase_ready_for_gates.connect(on_phase_ready_for_gates, dispatch_uid="success.gates")


def test_a_story_that_was_not_built_reads_not_built_everywhere(world: World) -> None:
    owner = world.users["alpha_owner"]
    with schema_context("alpha"):
        project = started_mvp("Unbuilt", owner, stories=2)
        Project.objects.filter(pk=project.pk).update(status=Project.Status.IN_DELIVERY)
        run_until(project, "development", owner)
        first, second = Story.objects.filter(project=project).order_by("position")
        built = Task.objects.get(project=project, key="story", inputs__item__story_id=first.pk)
        unbuilt = Task.objects.get(project=project, key="story", inputs__item__story_id=second.pk)
        finish(built)
        gap = {"story": 2, "capability": "payments", "reason": "Card payments need a payment integration."}
        finish(unbuilt, {"gap": gap, "story": 2, "built": False})
        unbuilt.refresh_from_db()
        assert unbuilt.status == Task.Status.DONE and unbuilt.not_built and unbuilt.shown_status == NOT_BUILT
        rows = {row["story"].pk: row["implemented"] for row in story_acceptance_rows(project)}
        assert rows == {first.pk: True, second.pk: False}
        facts = project_scope_facts(project)
        assert facts.implemented == 1 and facts.open_gaps == ["Story 2"]
    client = world.client("alpha_viewer", on="alpha")
    dashboard = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    card = dashboard[dashboard.index(f'data-testid="task-{unbuilt.pk}"') :]
    card = card[: card.index("</li>")]
    assert NOT_BUILT in card
    before = dashboard[: dashboard.index(f'data-testid="task-{unbuilt.pk}"')]
    assert before[before.rindex('data-column="') :].startswith('data-column="waiting"')  # still open work
    assert "On plan" not in dashboard
    task_page = client.get(f"/projects/{project.pk}/tasks/{unbuilt.pk}/").content.decode()
    assert f'data-testid="task-status">{NOT_BUILT}<' in task_page
    success = client.get(f"/projects/{project.pk}/success/").content.decode()
    assert "Story 2" in success and "On plan" not in success


@pytest.mark.usefixtures("no_gates")
def test_a_deployment_that_applied_nothing_reads_skipped_with_what_stays_open(world: World) -> None:
    owner = world.users["alpha_owner"]
    with schema_context("alpha"):
        project = started_mvp("Undeployed", owner, stories=1)
        Project.objects.filter(pk=project.pk).update(status=Project.Status.IN_DELIVERY)
        phase = run_until(project, "deployment", owner)
        deploy = Task.objects.get(project=project, key="deploy")
        skipped = {"reason": "no production cluster is configured", "leaves_open": "production hosting of the tier"}
        finish(deploy, {"release": "release-1", "skipped": skipped})
        deploy.refresh_from_db()
        assert deploy.shown_status == "Skipped — not applicable"
    page = world.client("alpha_viewer", on="alpha").get(f"/projects/{project.pk}/dashboard/").content.decode()
    block = page[page.index(f'data-testid="phase-{phase.pk}"') :]
    block = block[: block.index("</h3>")]
    assert "Skipped — not applicable; still open: production hosting of the tier" in block
    assert ">Done<" not in block
