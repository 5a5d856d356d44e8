"""What the project pages say in words: the status of a delivered project, counts that agree
with their number, radio buttons without an empty "---------" choice, and a question before the
controls that cannot be taken back (drop a story, cancel a task or the delivery)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Project, Quote, Service, Story, Task, Workflow
from tests.projects.portal import by_testid, new_project, submit_requirements, text_of, url
from tests.world import World

pytestmark = pytest.mark.django_db


def _started(name: str = "Wording") -> Project:
    with schema_context("alpha"):
        project = Project.objects.create(name=name, service=Service.MVP, status=Project.Status.IN_DELIVERY)
        Story.objects.create(project=project, title="List", as_a="user", i_want="list things")
        project_start(project=project)
        return project


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (Workflow.Status.RUNNING, "In delivery"),
        (Workflow.Status.PAUSED, "Paused"),
        (Workflow.Status.COMPLETED, "Delivered"),
        (Workflow.Status.CANCELLED, "Cancelled"),
    ],
)
def test_the_project_page_says_where_the_delivery_is(world: World, status: Workflow.Status, label: str) -> None:
    project = _started()
    with schema_context("alpha"):
        Workflow.objects.filter(project=project).update(status=status)
    page = world.client("alpha_member", on="alpha").get(url("project_detail", project.pk))
    assert by_testid(page, "status") == label


def test_the_quote_counts_in_words_that_agree_with_the_number(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    assert client.post(url("quote_create", project.pk)).status_code == 302
    with schema_context("alpha"):
        quote = Quote.objects.get(project=project, number=1)
        one_story = dict(quote.snapshot["stories"][0], points=1)
        quote.snapshot |= {
            "story_count": 1,
            "total_points": 1,
            "stories": [one_story],
            "size_class": "small",
            "code_loc": 1,
            "phases": [{"share_percent": 20, "modules": 1, "depends_on_phases": [], "rollback": "Rollback."}],
        }
        quote.save(update_fields=["snapshot"])

    text = text_of(client.get(url("quote_detail", project.pk, 1)))

    for right in ("1 story, 1 point.", "1 pt)", "(1 module)", "1 line of code"):
        assert right in text, right
    for wrong in ("1 stories", "1 points", "1 pts", "1 modules", "1 lines"):
        assert wrong not in text, wrong


def test_the_scope_counts_stories_and_points_in_words_that_agree(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    page = text_of(submit_requirements(client, project, "pawwalk_10_stories.md"))
    assert "10 stories in scope" in page and " points ·" in page
    with schema_context("alpha"):
        keep = Story.objects.filter(project=project).order_by("pk").first()
        assert keep is not None
        Story.objects.filter(project=project).exclude(pk=keep.pk).update(dropped=True)
        Story.objects.filter(pk=keep.pk).update(points=1)
    page = text_of(client.get(url("project_detail", project.pk)))
    assert "1 story in scope · 1 point ·" in page


def test_the_engagement_form_offers_only_real_kinds(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.AUGMENTATION)
    page = client.get(url("project_detail", project.pk)).content.decode()
    assert 'name="kind"' in page
    assert "---------" not in page and 'name="kind" value=""' not in page


def test_dropping_a_story_asks_first_and_restoring_does_not(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    with schema_context("alpha"):
        dropped, kept = Story.objects.filter(project=project).order_by("pk")[:2]
        Story.objects.filter(pk=dropped.pk).update(dropped=True, title='Say "hi" <b>now</b>')
        Story.objects.filter(pk=kept.pk).update(title='Say "hi" <b>now</b>')
    page = client.get(url("project_detail", project.pk)).content.decode()

    forms = page.split('<form method="post" action="')
    kept_form = next(f for f in forms if f.startswith(url("story_drop", project.pk, kept.pk)))
    dropped_form = next(f for f in forms if f.startswith(url("story_drop", project.pk, dropped.pk)))
    # The title is the customer's text: escaped in the attribute, shown as typed in the dialog.
    assert 'hx-confirm="Drop “Say &quot;hi&quot; &lt;b&gt;now&lt;/b&gt;” from the scope?' in kept_form
    assert "hx-confirm" not in dropped_form.split(">", 1)[0]


def test_cancelling_a_task_or_the_delivery_asks_first(world: World) -> None:
    project = _started("Ask first")
    with schema_context("alpha"):
        task = Task.objects.filter(project=project, kind=Task.Kind.AGENT).order_by("pk").first()
        assert task is not None
        Task.objects.filter(pk=task.pk).update(status=Task.Status.BLOCKED)
    page = world.client("staff", on="alpha").get(url("project_detail", project.pk)).content.decode()
    forms = {form.split('"', 1)[0]: form.split(">", 1)[0] for form in page.split('<form method="post" action="')[1:]}

    project_cancel = forms[f"/projects/{project.pk}/control/cancel/"]
    assert 'hx-boost="true"' in project_cancel and 'hx-confirm="Cancel the delivery of Ask first?' in project_cancel
    assert "hx-confirm" not in forms[f"/projects/{project.pk}/control/pause/"]
    # Cancelling a task drops scope: it asks first, and for the reason the customer reads.
    task_cancel = forms[f"/projects/{project.pk}/tasks/{task.pk}/drop/"]
    assert 'hx-boost="true"' in task_cancel and f'hx-confirm="Cancel the task “{task.title}”?' in task_cancel
    assert f'data-testid="task-{task.pk}-reason"' in page
