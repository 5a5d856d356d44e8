"""The new-project wizard and MVP scoping pages (projects/views.py): requirements in, stories out,
the tier, price and timeline on the page, and edits that recompute the scope."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from projects.models import Project, Service, Story
from projects.scoping.documents import MAX_DOCUMENT_BYTES
from tests.projects.portal import REQUIREMENTS, by_testid, new_project, stories_of, submit_requirements, text_of, url
from tests.world import World

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


def _scope(response: Response) -> tuple[str, str, str, int]:
    """(tier, price, timeline, story count) as the page shows them."""
    return (
        by_testid(response, "scope-tier"),
        by_testid(response, "scope-price"),
        by_testid(response, "scope-timeline"),
        int(by_testid(response, "story-count")),
    )


def _docx(markdown: str) -> bytes:
    """A Word document with real heading and list styles, as a customer would write it."""
    document = docx.Document()
    for line in markdown.splitlines():
        heading = re.match(r"(#+)\s+(.*)", line)
        bullet = re.match(r"(\s*)[-*]\s+(.*)", line)
        if heading:
            document.add_heading(heading.group(2), level=len(heading.group(1)) - 1)
        elif bullet:
            document.add_paragraph(bullet.group(2), style="List Bullet 2" if bullet.group(1) else "List Bullet")
        elif line.strip():
            document.add_paragraph(line.strip())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _story_data(story: Story, **changes: str) -> dict[str, str]:
    data = {
        "epic": story.epic,
        "title": story.title,
        "as_a": story.as_a,
        "i_want": story.i_want,
        "so_that": story.so_that,
        "priority": story.priority,
        "points": str(story.points),
        "acceptance_criteria": "\n".join(story.acceptance_criteria),
    }
    return data | changes


# --- Starting a project --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "section"),
    [
        (Service.MVP, "Analyse requirements"),
        (Service.MODERNIZATION, "Analyse the code"),
        (Service.AUGMENTATION, "Save engagement"),
    ],
)
def test_it_starts_a_project_of_each_service(world: World, service: Service, section: str) -> None:
    client = world.client("alpha_member", on="alpha")
    assert client.get(url("project_new")).status_code == 200

    project = new_project(client, service, name="  Our new thing  ")

    with schema_context("alpha"):
        project.refresh_from_db()
    assert (project.name, project.service, project.status) == ("Our new thing", service, Project.Status.SCOPING)
    assert project.created_by == world.users["alpha_member"]
    page = client.get(url("project_detail", project.pk))
    assert page.status_code == 200
    assert section in text_of(page)
    assert "Our new thing" in text_of(client.get(url("portal_home")))


def test_it_shows_every_service_with_its_prices_on_the_new_project_page(world: World) -> None:
    page = text_of(world.client("alpha_owner", on="alpha").get(url("project_new")))
    for expected in ("MVP development", "Legacy modernization", "Team augmentation", "$75,000", "$300,000"):
        assert expected in page


def test_it_refuses_a_project_without_a_name(world: World) -> None:
    client = world.client("alpha_owner", on="alpha")
    with schema_context("alpha"):
        before = Project.objects.count()
    response = client.post(url("project_new"), {"name": " ", "service": "mvp"})
    assert response.status_code == 400
    assert "This field is required." in text_of(response)
    with schema_context("alpha"):
        assert Project.objects.count() == before


def test_it_forbids_viewers_to_create_or_edit(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    project = new_project(owner, Service.MVP)
    submit_requirements(owner, project, "pawwalk_10_stories.md")
    story = stories_of(project)[0]
    viewer = world.client("alpha_viewer", on="alpha")

    assert viewer.get(url("project_new")).status_code == 403
    assert viewer.post(url("project_new"), {"name": "Mine", "service": "mvp"}).status_code == 403
    for name, args, data in [
        ("requirements_submit", [project.pk], {"text": "As a user, I want to log in."}),
        ("story_add", [project.pk], {"title": "X", "as_a": "user", "i_want": "x", "priority": "must"}),
        ("story_edit", [project.pk, story.pk], _story_data(story, title="Changed")),
        ("story_drop", [project.pk, story.pk], {"dropped": "1"}),
        ("legacy_submit", [project.pk], {"git_path": "repo"}),
        ("engagement_submit", [project.pk], {"kind": "sprint"}),
        ("quote_create", [project.pk], {}),
    ]:
        assert viewer.post(url(name, *args), data).status_code == 403, name
    assert viewer.get(url("story_edit", project.pk, story.pk)).status_code == 403

    with schema_context("alpha"):
        assert not Project.objects.filter(name="Mine").exists()
        assert project.quotes.count() == 0
    assert stories_of(project)[0].title == story.title and not any(s.dropped for s in stories_of(project))
    page = viewer.get(url("project_detail", project.pk))
    assert page.status_code == 200
    assert "Simple MVP" in text_of(page)
    assert 'data-testid="requirements-form"' not in page.content.decode()
    assert "Drop" not in text_of(page) and "Edit" not in text_of(page)


def test_a_step_of_another_service_does_not_exist_for_a_project(world: World) -> None:
    client = world.client("alpha_owner", on="alpha")
    mvp = new_project(client, Service.MVP)
    modernization = new_project(client, Service.MODERNIZATION)

    assert client.post(url("requirements_submit", modernization.pk), {"text": "- Users can log in"}).status_code == 404
    assert client.post(url("story_add", modernization.pk), {"title": "X"}).status_code == 404
    assert client.post(url("legacy_submit", mvp.pk), {"git_path": "repo"}).status_code == 404
    assert client.post(url("engagement_submit", mvp.pk), {"kind": "sprint"}).status_code == 404
    with schema_context("alpha"):
        assert not Story.objects.filter(project=modernization).exists()


# --- Requirements to scope -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "stories", "scope"),
    [
        ("pawwalk_10_stories.md", 10, ("Simple MVP", "$75,000", "2–3 weeks", 10)),
        ("fieldfix_25_stories.md", 25, ("Standard MVP", "$150,000", "4–6 weeks", 25)),
        ("clinicflow_45_stories.txt", 45, ("Complex MVP", "$300,000", "6–8 weeks", 45)),
    ],
)
def test_it_scopes_pasted_requirements(
    world: World, fixture: str, stories: int, scope: tuple[str, str, str, int]
) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)

    page = submit_requirements(client, project, fixture)

    assert f"We found {stories} user stories" in text_of(page)
    assert len(stories_of(project)) == stories
    assert _scope(page) == scope
    with schema_context("alpha"):
        project.refresh_from_db()
    assert project.requirements_source == "pasted"


def test_it_turns_60_stories_into_a_custom_engagement_on_the_page(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)

    page = submit_requirements(client, project, "harvest_60_stories.md")

    assert len(stories_of(project)) == 62
    assert by_testid(page, "scope-tier") == "Custom engagement"
    assert by_testid(page, "story-count") == "60"
    assert "60 stories exceed the Complex MVP limit of 50" in text_of(page)
    assert 'data-testid="scope-price"' not in page.content.decode()


def test_it_scopes_an_uploaded_markdown_document(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    upload = SimpleUploadedFile("PawWalk.md", (REQUIREMENTS / "pawwalk_10_stories.md").read_bytes())

    response = client.post(url("requirements_submit", project.pk), {"text": "", "document": upload})

    assert response.status_code == 302
    page = client.get(url("project_detail", project.pk))
    assert _scope(page) == ("Simple MVP", "$75,000", "2–3 weeks", 10)
    assert "Current stories come from: PawWalk.md" in text_of(page)


def test_it_scopes_an_uploaded_word_document(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    markdown = (REQUIREMENTS / "fieldfix_25_stories.md").read_text(encoding="utf-8")
    upload = SimpleUploadedFile("FieldFix requirements.docx", _docx(markdown))

    response = client.post(url("requirements_submit", project.pk), {"document": upload})

    assert response.status_code == 302
    page = client.get(url("project_detail", project.pk))
    assert _scope(page) == ("Standard MVP", "$150,000", "4–6 weeks", 25)
    stories = stories_of(project)
    assert len(stories) == 25
    assert stories[0].epic == "Customer portal"
    assert stories[0].acceptance_criteria  # the nested bullets under the first story


def test_it_replaces_the_stories_when_requirements_are_submitted_again(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "clinicflow_45_stories.txt")

    page = submit_requirements(client, project, "pawwalk_10_stories.md")

    assert len(stories_of(project)) == 10
    assert _scope(page)[0] == "Simple MVP"


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": ""}, "Paste your requirements or upload a document."),
        ({"text": "   \n\t "}, "Paste your requirements or upload a document."),
        (
            {"document": SimpleUploadedFile("reqs.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)},
            "reqs.md is not a text file (it contains binary data).",
        ),
        (
            {"document": SimpleUploadedFile("reqs.docx", b"PK\x03\x04" + bytes(range(256)) * 4)},
            "reqs.docx could not be read as a Word document (.docx).",
        ),
        (
            {"document": SimpleUploadedFile("reqs.exe", b"MZ\x90\x00" * 64)},
            "reqs.exe: “.exe” files are not supported.",
        ),
        (
            {"document": SimpleUploadedFile("huge.md", b"- Users can log in\n" * (MAX_DOCUMENT_BYTES // 19 + 10))},
            "the limit for a requirements document is 5 MB",
        ),
        ({"text": "Hello. We would like a nice website, please."}, "user stor"),
    ],
    ids=["empty", "blank", "binary-junk", "broken-docx", "unsupported-type", "oversized", "no-stories"],
)
def test_it_refuses_bad_requirements_and_keeps_the_stories(world: World, data: dict[str, object], message: str) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    before = [(s.pk, s.title) for s in stories_of(project)]

    response = client.post(url("requirements_submit", project.pk), data)

    # An upload over the size cap is stopped before it is read: 413, the others 400.
    assert response.status_code == (413 if "huge.md" in str(data.get("document")) else 400)
    assert message in text_of(response)
    assert [(s.pk, s.title) for s in stories_of(project)] == before
    assert _scope(response) == ("Simple MVP", "$75,000", "2–3 weeks", 10)
    with schema_context("alpha"):
        project.refresh_from_db()
    assert project.requirements_source == "pasted"


# --- Editing the stories recomputes the scope ----------------------------------------------------


def test_it_recomputes_the_scope_when_stories_are_dropped_and_restored(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    page = submit_requirements(client, project, "fieldfix_25_stories.md")
    assert _scope(page) == ("Standard MVP", "$150,000", "4–6 weeks", 25)
    stories = stories_of(project)

    for story in stories[15:]:  # technician extras and the back office
        assert client.post(url("story_drop", project.pk, story.pk), {"dropped": "1"}).status_code == 302
    page = client.get(url("project_detail", project.pk))
    # 15 stories fit Simple, but Stripe, email, Google Maps and Twilio are 4 integrations.
    assert _scope(page) == ("Standard MVP", "$150,000", "4–6 weeks", 15)
    assert "exceed the Simple MVP limit of 3" in text_of(page)

    twilio = next(s for s in stories if "Twilio" in s.i_want)
    client.post(url("story_drop", project.pk, twilio.pk), {"dropped": "1"})
    page = client.get(url("project_detail", project.pk))
    assert _scope(page) == ("Simple MVP", "$75,000", "2–3 weeks", 14)
    assert "Restore" in text_of(page)

    client.post(url("story_drop", project.pk, twilio.pk), {"dropped": "0"})
    page = client.get(url("project_detail", project.pk))
    assert _scope(page) == ("Standard MVP", "$150,000", "4–6 weeks", 15)
    assert sum(s.dropped for s in stories_of(project)) == 10


def test_it_answers_an_htmx_drop_with_the_recomputed_scope(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    story = stories_of(project)[0]

    response = client.post(url("story_drop", project.pk, story.pk), {"dropped": "1"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert by_testid(response, "story-count") == "9"


def test_it_recomputes_the_scope_when_a_story_is_edited(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    story = stories_of(project)[-1]
    assert client.get(url("story_edit", project.pk, story.pk)).status_code == 200

    edit = _story_data(
        story,
        title="Live tracking",
        as_a="dog owner",
        i_want="follow the walk on a live tracking map",
        points="",
        acceptance_criteria="The map updates every few seconds\nThe walker's route is drawn",
    )
    response = client.post(url("story_edit", project.pk, story.pk), edit)

    # The edit moves the price: it is shown first, nothing is saved yet.
    change = "This edit changes the quote to Complex MVP, $300,000 (now Simple MVP, $75,000)."
    assert response.status_code == 200 and by_testid(response, "edit-tier-change").startswith(change)
    assert _scope(client.get(url("project_detail", project.pk)))[1] == "$75,000"
    response = client.post(url("story_edit", project.pk, story.pk), edit | {"confirmed_change": change})

    assert response.status_code == 302
    page = client.get(url("project_detail", project.pk))
    assert _scope(page) == ("Complex MVP", "$300,000", "6–8 weeks", 10)
    assert "Real-time needs" in text_of(page)
    with schema_context("alpha"):
        story.refresh_from_db()
    assert story.title == "Live tracking"
    assert story.acceptance_criteria == ["The map updates every few seconds", "The walker's route is drawn"]
    assert story.points >= 1


def test_it_refuses_an_edit_without_the_required_fields(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    story = stories_of(project)[0]

    response = client.post(url("story_edit", project.pk, story.pk), _story_data(story, title="", i_want=""))

    assert response.status_code == 400
    assert "This field is required." in text_of(response)
    with schema_context("alpha"):
        assert Story.objects.get(pk=story.pk).title == story.title


def test_it_recomputes_the_scope_when_stories_are_added(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")

    for n in range(6):
        data = {"title": f"Dog photo {n}", "as_a": "walker", "i_want": f"see a photo of dog number {n}"}
        data |= {"priority": "should", "points": ""}
        response = client.post(url("story_add", project.pk), data)
        if n == 5:  # the 16th story moves the price: shown first, added when sent again as shown
            change = "Adding this story changes the quote to Standard MVP, $150,000 (now Simple MVP, $75,000)."
            assert response.status_code == 200 and by_testid(response, "add-tier-change").startswith(change)
            assert len(stories_of(project)) == 15
            response = client.post(url("story_add", project.pk), data | {"confirmed_change": change})
        assert response.status_code == 302, text_of(response)[:1000]
        if n == 4:
            page = client.get(url("project_detail", project.pk))
            assert _scope(page) == ("Simple MVP", "$75,000", "2–3 weeks", 15)

    page = client.get(url("project_detail", project.pk))
    assert _scope(page) == ("Standard MVP", "$150,000", "4–6 weeks", 16)
    stories = stories_of(project)
    assert stories[-1].title == "Dog photo 5"
    assert len({s.position for s in stories}) == 16


def test_it_refuses_a_story_without_what_the_user_wants(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")

    response = client.post(url("story_add", project.pk), {"title": "Nothing", "as_a": "walker", "priority": "must"})

    assert response.status_code == 400
    assert "This field is required." in text_of(response)
    assert len(stories_of(project)) == 10


def test_it_leaves_wont_have_stories_out_of_the_count(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    story = stories_of(project)[0]

    client.post(url("story_edit", project.pk, story.pk), _story_data(story, priority="wont"))

    page = client.get(url("project_detail", project.pk))
    assert by_testid(page, "story-count") == "9"
    assert "1 story marked “Won't have” is not counted." in text_of(page)
