"""The writes of /api/v1/ (api.views): a project from requirements text, story decisions, plan
approvals and quote acceptance — through the same services and under the same rules as the
portal; a read key cannot write, and the owner's decisions need a key of a current owner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context

from api.models import Scope
from billing.models import PaymentMethod
from projects.models import Project, Quote, Service, Story, Task
from projects.scoping import intake, quotes
from success.models import StoryDecision
from tenants.models import Membership, Role
from tests.api.conftest import api_client, key_make
from tests.projects.portal import card_on_file
from tests.success.success_world import finish, open_tasks, run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]

REQUIREMENTS = Path(__file__).parent.parent / "projects" / "fixtures" / "requirements"


def _post(key: str, path: str, data: Any = None, on: str = "alpha") -> Any:
    return api_client(key, on=on).post(f"/api/v1/{path}", data or {}, content_type="application/json")


def _demote(world: World, user: str, role: Role) -> None:
    membership = Membership.objects.get(user=world.users[user], customer=world.customers["alpha"])
    membership.role = role
    membership.save(update_fields=["role"])  # post_save drops the cached membership, as the portal's change does


# --- a project from requirements text -------------------------------------------------------------


def test_a_write_key_creates_a_project_from_requirements_text(world: World) -> None:
    text = (REQUIREMENTS / "pawwalk_10_stories.md").read_text(encoding="utf-8")
    response = _post(key_make(world, scope=Scope.WRITE), "projects/", {"name": "  PawWalk ", "requirements_text": text})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["service"], body["status"], body["requirements_source"]) == (
        "PawWalk",
        "mvp",
        "scoping",
        "pasted",
    )
    with schema_context("alpha"):
        project = Project.objects.get(pk=body["id"])
        assert project.created_by == world.users["alpha_owner"]
        assert Story.objects.filter(project=project).count() == 10  # the portal's analyser: the same 10 stories
    quote = _post(key_make(world, scope=Scope.WRITE), f"projects/{project.pk}/quotes/")
    assert quote.status_code == 201 and quote.json()["price_cents"] == 7_500_000


def test_requirements_the_analyser_refuses_are_a_400_and_leave_nothing(world: World) -> None:
    key = key_make(world, scope=Scope.WRITE)
    with schema_context("alpha"):
        before = Project.objects.count()
    cases: list[Any] = [
        {"name": "Nothing", "requirements_text": "hello"},
        {"name": "", "requirements_text": "As a user I want to log in so that I see my data."},
        {"name": "x" * 161, "requirements_text": "As a user I want to log in."},
        {"name": "Nul\x00", "requirements_text": "As a user I want to log in."},
        {"name": "Nul", "requirements_text": "As a user\x00 I want to log in."},
        {"requirements_text": "As a user I want to log in."},
        ["not", "an", "object"],
    ]
    for data in cases:
        response = _post(key, "projects/", data)
        assert response.status_code == 400, (str(data)[:80], response.content)
    broken = api_client(key).post("/api/v1/projects/", "{not json", content_type="application/json")
    assert broken.status_code == 400
    with schema_context("alpha"):
        assert Project.objects.count() == before


def test_a_read_key_cannot_write(world: World) -> None:
    owner = world.users["alpha_owner"]
    with schema_context("alpha"):
        project = started_mvp("Read only", owner, stories=1)
        story = Story.objects.get(project=project)
        Quote.objects.create(project=project, number=1, snapshot={}, price_cents=100)
        before = Project.objects.count()
    key = key_make(world, scope=Scope.READ)
    writes = [
        ("projects/", {"name": "x", "requirements_text": "As a user I want to log in."}),
        (f"projects/{project.pk}/stories/{story.pk}/accept/", {}),
        (f"projects/{project.pk}/stories/{story.pk}/reject/", {"comment": "no"}),
        (f"projects/{project.pk}/quotes/", {}),
        (f"projects/{project.pk}/quotes/1/accept/", {}),
        (f"projects/{project.pk}/tasks/1/approve/", {}),
    ]
    for path, data in writes:
        response = _post(key, path, data)
        assert response.status_code == 403, (path, response.content)
    with schema_context("alpha"):
        assert Project.objects.count() == before and not StoryDecision.objects.filter(project=project).exists()
        assert Quote.objects.get(project=project).accepted_at is None


# --- story acceptance ---------------------------------------------------------------------------


def test_a_write_key_accepts_and_rejects_stories_as_the_portal_does(world: World) -> None:
    owner = world.users["alpha_owner"]
    with schema_context("alpha"):
        early = started_mvp("Early", owner, stories=1)
        early_story = Story.objects.get(project=early)
        project = started_mvp("Decided", owner, stories=2)
        run_until(project, "quality", owner)
        first, second = Story.objects.filter(project=project).order_by("position")
    key = key_make(world, scope=Scope.WRITE)

    accepted = _post(key, f"projects/{project.pk}/stories/{first.pk}/accept/")
    assert accepted.status_code == 201, accepted.content
    decision = accepted.json()
    assert (decision["decision"], decision["decided_by_email"]) == ("accepted", "alpha-owner@example.test")
    assert _post(key, f"projects/{project.pk}/stories/{second.pk}/reject/", {"comment": "  "}).status_code == 400
    rejected = _post(
        key,
        f"projects/{project.pk}/stories/{second.pk}/reject/",
        {"comment": "Search takes 9 s", "unmet_criteria": ["thing 2 is fast", "not a criterion"]},
    )
    assert rejected.status_code == 201
    assert rejected.json()["unmet_criteria"] == ["thing 2 is fast"] and rejected.json()["fix_task_id"]
    # The fix is under way: the service refuses another decision, and the API says why (409).
    again = _post(key, f"projects/{project.pk}/stories/{second.pk}/accept/")
    assert again.status_code == 409 and "fix for this story is under way" in again.json()["detail"]
    # A story not implemented yet is refused the same way.
    assert _post(key, f"projects/{early.pk}/stories/{early_story.pk}/accept/").status_code == 409
    # A story of another project is not found under this one.
    assert _post(key, f"projects/{early.pk}/stories/{first.pk}/accept/").status_code == 404
    # A key whose maker became a viewer no longer writes.
    _demote(world, "alpha_owner", Role.VIEWER)
    assert _post(key, f"projects/{project.pk}/stories/{first.pk}/accept/").status_code == 403
    with schema_context("alpha"):
        assert StoryDecision.objects.filter(project=project).count() == 2


# --- plan approvals -------------------------------------------------------------------------------


def _awaiting_approval(project: Project) -> Task:
    for _ in range(50):
        tasks = open_tasks(project)
        approvals = [t for t in tasks if t.kind == Task.Kind.APPROVAL]
        if approvals:
            return approvals[0]
        for task in tasks:
            finish(task)
    raise AssertionError("no approval came")


def test_an_owner_key_approves_the_plan_and_others_cannot(world: World) -> None:
    owner = world.users["alpha_owner"]
    with schema_context("alpha"):
        project = started_mvp("Plan", owner, stories=2)
        approval = _awaiting_approval(project)
    owner_key = key_make(world, scope=Scope.WRITE)
    demoted_key = key_make(world, scope=Scope.WRITE, by="alpha_member")  # made while alpha_member was... a member
    read_key = key_make(world)

    listed = api_client(read_key).get(f"/api/v1/projects/{project.pk}/approvals/").json()["results"]
    assert [t["id"] for t in listed] == [approval.pk]
    path = f"projects/{project.pk}/tasks/{approval.pk}/approve/"
    assert _post(read_key, path).status_code == 403
    assert _post(demoted_key, path).status_code == 403  # a member's key: approvals are the owner's
    response = _post(owner_key, path)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    with schema_context("alpha"):
        task = Task.objects.get(pk=approval.pk)
        assert task.output["approved_by"] == "alpha-owner@example.test"
    twice = _post(owner_key, path)
    assert twice.status_code == 409 and "not waiting for an approval" in twice.json()["detail"]


def test_the_api_refuses_the_delivery_acceptance_without_confirm_true(world: World) -> None:
    with schema_context("alpha"):
        project = started_mvp("Accepted", world.users["alpha_owner"], stories=1)
        accept = Task.objects.get(project=project, key="accept")
        Task.objects.filter(pk=accept.pk).update(status=Task.Status.AWAITING_APPROVAL)
        # The delivery is accepted once everything before it has ended (acceptance_guard).
        Task.objects.filter(project=project).exclude(pk=accept.pk).update(status=Task.Status.DONE)
    owner_key = key_make(world, scope=Scope.WRITE)
    path = f"projects/{project.pk}/tasks/{accept.pk}/approve/"
    for unconfirmed in ({}, {"confirm": False}):
        refused = _post(owner_key, path, unconfirmed)
        assert refused.status_code == 400 and "confirm: true" in refused.json()["confirm"][0], refused.content
        with schema_context("alpha"):
            assert Task.objects.get(pk=accept.pk).status == Task.Status.AWAITING_APPROVAL
    assert _post(owner_key, path, {"confirm": "maybe"}).status_code == 400
    beta_key = key_make(world, "beta", scope=Scope.WRITE)
    assert _post(beta_key, path, {"confirm": True}, on="beta").status_code == 404
    response = _post(owner_key, path, {"confirm": True})
    assert response.status_code == 200 and response.json()["status"] == "done", response.content


# --- quote acceptance -----------------------------------------------------------------------------


def _scoped(world: World, name: str = "Quoted") -> Project:
    text = (REQUIREMENTS / "pawwalk_10_stories.md").read_text(encoding="utf-8")
    with schema_context("alpha"):
        project = intake.project_create(name=name, service=Service.MVP, user=world.users["alpha_member"])
        intake.requirements_submit(project=project, text=text)
        quotes.quote_create(project=project)
    return project


def _quote(project: Project, number: int) -> Quote:
    with schema_context("alpha"):
        return Quote.objects.get(project=project, number=number)


def _consent(key: str, project: Project, number: int) -> dict[str, Any]:
    response = api_client(key).get(f"/api/v1/projects/{project.pk}/quotes/{number}/accept/")
    assert response.status_code == 200, response.content
    assert "pm_" not in response.content.decode()  # the card's Stripe id stays on the server
    return response.json()  # type: ignore[no-any-return]


def _accept(key: str, project: Project, number: int, consent: str, authorise: bool = True) -> Any:
    return _post(key, f"projects/{project.pk}/quotes/{number}/accept/", {"consent": consent, "authorise": authorise})


def test_an_owner_key_accepts_the_latest_quote_through_the_consent_step(world: World) -> None:
    project = _scoped(world)
    with schema_context("alpha"):
        story = Story.objects.filter(project=project).first()
        assert story is not None
        intake.story_set_dropped(story=story, dropped=True)
        quotes.quote_create(project=project)
    card_on_file(world.customers["alpha"])
    key = key_make(world, scope=Scope.WRITE)

    stale = api_client(key).get(f"/api/v1/projects/{project.pk}/quotes/1/accept/")
    assert stale.status_code == 409
    assert stale.json()["detail"] == "Quote v1 was replaced by v2; review and accept the newest version."
    # Without the consent step there is no acceptance: the service refuses a made-up consent.
    blind = _accept(key, project, 2, "made-up")
    assert blind.status_code == 409 and "payment step" in blind.json()["detail"]

    offer = _consent(key, project, 2)
    assert (offer["quote_number"], offer["due_now_cents"], offer["card"]) == (2, 3_750_000, "Visa •••• 4242")
    assert [line["amount_cents"] for line in offer["now"] + offer["later"]] == [3_750_000, 3_750_000]
    assert _accept(key, project, 2, offer["consent"], authorise=False).status_code == 400
    other_key = key_make(world, scope=Scope.WRITE)
    assert _accept(other_key, project, 2, offer["consent"]).status_code == 409  # bound to the key that asked
    # The card changed after the consent step: refused, as in the portal.
    PaymentMethod.objects.filter(stripe_customer__customer=world.customers["alpha"]).update(is_default=False)
    card_on_file(world.customers["alpha"], last4="1881")
    changed = _accept(key, project, 2, offer["consent"])
    assert changed.status_code == 409 and "changed" in changed.json()["detail"]
    assert _quote(project, 2).accepted_at is None

    offer = _consent(key, project, 2)
    assert offer["card"] == "Visa •••• 1881"
    response = _accept(key, project, 2, offer["consent"])
    assert response.status_code == 200, response.content
    assert response.json()["accepted_by_email"] == "alpha-owner@example.test"
    quote = _quote(project, 2)
    assert quote.accepted_at is not None and quote.accepted_by == world.users["alpha_owner"]
    assert (quote.authorised_now_cents, quote.authorised_card) == (3_750_000, "Visa •••• 1881")
    with schema_context("alpha"):
        assert Project.objects.get(pk=project.pk).status == Project.Status.AWAITING_PAYMENT
    # A double submit accepts once; the scope is now locked, so no new version can be made.
    again = _accept(key, project, 2, offer["consent"])
    assert again.json()["accepted_at"] == response.json()["accepted_at"]
    assert api_client(key).get(f"/api/v1/projects/{project.pk}/quotes/2/accept/").status_code == 409
    assert _post(key, f"projects/{project.pk}/quotes/").status_code == 409


def test_without_a_card_the_consent_step_says_so_and_nothing_is_accepted(world: World) -> None:
    project = _scoped(world)
    PaymentMethod.objects.filter(stripe_customer__customer=world.customers["alpha"]).delete()
    key = key_make(world, scope=Scope.WRITE)
    offer = _consent(key, project, 1)
    assert offer["card"] is None
    refused = _accept(key, project, 1, offer["consent"])
    assert refused.status_code == 409 and "Add a card" in refused.json()["detail"]
    assert _quote(project, 1).accepted_at is None


def test_only_a_current_owners_write_key_accepts_a_quote(world: World) -> None:
    project = _scoped(world)
    member_key = key_make(world, scope=Scope.WRITE, by="alpha_member")
    read_key = key_make(world, scope=Scope.READ)
    demoted_key = key_make(world, scope=Scope.WRITE)
    card_on_file(world.customers["alpha"])
    offer = _consent(demoted_key, project, 1)
    path = f"/api/v1/projects/{project.pk}/quotes/1/accept/"
    for key in (member_key, read_key):
        assert api_client(key).get(path).status_code == 403  # the consent step shows the card: owners only
        assert _accept(key, project, 1, offer["consent"]).status_code == 403
    _demote(world, "alpha_owner", Role.MEMBER)
    assert _accept(demoted_key, project, 1, offer["consent"]).status_code == 403
    assert _quote(project, 1).accepted_at is None
    assert _post(member_key, f"projects/{project.pk}/quotes/9/accept/").status_code in (403, 404)


def test_a_custom_quote_is_not_accepted_through_the_api(world: World) -> None:
    with schema_context("alpha"):
        project = Project.objects.create(name="Custom", service=Service.MVP, status=Project.Status.CUSTOM_REQUESTED)
        Quote.objects.create(project=project, number=1, snapshot={"outcome": "custom_engagement"}, price_cents=None)
    response = api_client(key_make(world, scope=Scope.WRITE)).get(f"/api/v1/projects/{project.pk}/quotes/1/accept/")
    assert response.status_code == 409 and "custom engagement" in response.json()["detail"]
