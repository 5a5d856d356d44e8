"""Quotes (projects/views.py, services.quote_*): versioned snapshots of the scope, accepted once by
an owner, never changed afterwards; custom engagements and the augmentation plans."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from projects.models import Engagement, Project, Quote, QuoteLockedError, ScheduledPayment, Service, Story
from tests.projects.portal import (
    by_testid,
    card_on_file,
    new_project,
    quote_accept_consenting,
    stories_of,
    submit_requirements,
    text_of,
    url,
)
from tests.world import World

pytestmark = pytest.mark.django_db


def _quote(project: Project, number: int) -> Quote:
    with schema_context("alpha"):
        return Quote.objects.get(project=project, number=number)


def _status(project: Project) -> str:
    with schema_context("alpha"):
        return Project.objects.get(pk=project.pk).status


def _make_quote(client: Client, project: Project) -> int:
    response = client.post(url("quote_create", project.pk))
    assert response.status_code == 302, text_of(response)[:1000]
    number = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert response["Location"] == url("quote_detail", project.pk, number)
    return number


def _scoped_mvp(world: World, fixture: str = "pawwalk_10_stories.md") -> Project:
    project = new_project(world.client("alpha_member", on="alpha"), Service.MVP)
    submit_requirements(world.client("alpha_member", on="alpha"), project, fixture)
    return project


def _engaged(world: World, **data: object) -> Project:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.AUGMENTATION)
    form = {"kind": "sprint", "sprints": 1, "sprint_weeks": 2, "months": 1, "team_size": 3, "skills": "", "notes": ""}
    response = client.post(url("engagement_submit", project.pk), form | data)
    assert response.status_code == 302, text_of(response)[:2000]
    return project


# --- Making quotes -------------------------------------------------------------------------------


def test_it_makes_quote_v1_from_the_scope(world: World) -> None:
    project = _scoped_mvp(world)
    client = world.client("alpha_member", on="alpha")

    number = _make_quote(client, project)

    assert number == 1
    quote = _quote(project, 1)
    assert quote.price_cents == 7_500_000
    assert quote.snapshot["tier"]["name"] == "Simple MVP"
    assert len(quote.snapshot["stories"]) == 10
    assert _status(project) == Project.Status.QUOTED
    page = client.get(url("quote_detail", project.pk, 1))
    assert page.status_code == 200
    text = text_of(page)
    assert by_testid(page, "quote-price") == "$75,000"
    for expected in (
        "Simple MVP",
        "timeline 2–3 weeks",
        "Standard hosting for 6 months",
        "30-day support",
        "10 stories",
        "Sign up with my email address",
        "so that I can book walks.",
        # SLA and quality standards
        "Uptime: ≥ 99.9%",
        "Age of any blocking issue: ≤ 4 hours",
        "Automated test coverage: ≥ 95%",
        "Page load time: < 2 s",
        "HIGH security findings: none",
        # the guarantee
        "30-day success guarantee",
        "Customer user acceptance: ≥ 90%",
        "full refund",
    ):
        assert expected in text, expected
    assert "Awaiting your account manager" not in text
    assert quote.snapshot["quality_standards"] and quote.snapshot["guarantee"]


def test_it_shows_the_quotes_on_the_project_page(world: World) -> None:
    project = _scoped_mvp(world)
    client = world.client("alpha_member", on="alpha")
    assert "Get the quote" in text_of(client.get(url("project_detail", project.pk)))
    _make_quote(client, project)

    page = text_of(client.get(url("project_detail", project.pk)))

    assert "Quote v1" in page and "Make a new quote version" in page
    assert "Quote ready" in page


def test_it_refuses_a_quote_without_stories(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)

    response = client.post(url("quote_create", project.pk))

    assert response.status_code == 400
    assert "Add your requirements first: there are no stories to quote." in text_of(response)
    with schema_context("alpha"):
        assert not Quote.objects.filter(project=project).exists()


def test_it_makes_v2_on_a_rescope_and_keeps_v1(world: World) -> None:
    project = _scoped_mvp(world, "fieldfix_25_stories.md")
    client = world.client("alpha_member", on="alpha")
    _make_quote(client, project)
    v1 = _quote(project, 1)
    for story in stories_of(project)[15:]:
        client.post(url("story_drop", project.pk, story.pk), {"dropped": "1"})
    twilio = next(s for s in stories_of(project) if "Twilio" in s.i_want)
    client.post(url("story_drop", project.pk, twilio.pk), {"dropped": "1"})

    assert _make_quote(client, project) == 2

    v2 = _quote(project, 2)
    assert (v2.price_cents, v2.snapshot["tier"]["name"], v2.snapshot["story_count"]) == (7_500_000, "Simple MVP", 14)
    assert _quote(project, 1).snapshot == v1.snapshot
    assert (v1.price_cents, v1.snapshot["tier"]["name"], v1.snapshot["story_count"]) == (15_000_000, "Standard MVP", 25)
    old = client.get(url("quote_detail", project.pk, 1))
    assert by_testid(old, "quote-price") == "$150,000"
    assert "A newer version of this quote exists." in text_of(old)
    assert "A newer version" not in text_of(client.get(url("quote_detail", project.pk, 2)))


def test_it_answers_404_for_a_quote_that_does_not_exist(world: World) -> None:
    project = _scoped_mvp(world)
    client = world.client("alpha_owner", on="alpha")
    assert client.get(url("quote_detail", project.pk, 1)).status_code == 404
    assert client.post(url("quote_accept", project.pk, 1)).status_code == 404


# --- Accepting -----------------------------------------------------------------------------------


def test_an_owner_accepts_the_latest_quote(world: World) -> None:
    project = _scoped_mvp(world)
    _make_quote(world.client("alpha_member", on="alpha"), project)
    owner = world.client("alpha_owner", on="alpha")
    page = owner.get(url("quote_detail", project.pk, 1))
    assert 'data-testid="accept"' in page.content.decode()
    card_on_file(world.customers["alpha"])
    before = timezone.now()

    response = quote_accept_consenting(owner, project, 1)

    assert response.status_code == 302 and response["Location"] == url("project_detail", project.pk)
    quote = _quote(project, 1)
    assert quote.accepted_at is not None and before <= quote.accepted_at <= timezone.now()
    assert quote.accepted_by == world.users["alpha_owner"]
    assert quote.accepted_by_email == "alpha-owner@example.test"
    assert (quote.authorised_now_cents, quote.authorised_card) == (3_750_000, "Visa •••• 4242")
    assert _status(project) == Project.Status.AWAITING_PAYMENT
    page = owner.get(url("project_detail", project.pk))
    assert "Quote v1 accepted and its payments authorised: $37,500 is being charged to Visa •••• 4242." in text_of(page)
    assert "Awaiting payment" in text_of(page)
    accepted = by_testid(owner.get(url("quote_detail", project.pk, 1)), "accepted")
    assert accepted.startswith("Accepted by alpha-owner@example.test on ")
    assert "authorised its payments on Visa •••• 4242 ($37,500 at acceptance)" in accepted


def test_only_the_latest_version_can_be_accepted(world: World) -> None:
    project = _scoped_mvp(world)
    member = world.client("alpha_member", on="alpha")
    _make_quote(member, project)
    story = stories_of(project)[0]
    member.post(url("story_drop", project.pk, story.pk), {"dropped": "1"})
    _make_quote(member, project)
    owner = world.client("alpha_owner", on="alpha")
    card_on_file(world.customers["alpha"])
    assert 'data-testid="accept"' not in owner.get(url("quote_detail", project.pk, 1)).content.decode()

    response = owner.post(url("quote_accept", project.pk, 1), follow=True)

    assert "Quote v1 was replaced by v2; review and accept the newest version." in text_of(response)
    assert _quote(project, 1).accepted_at is None
    assert _status(project) == Project.Status.QUOTED
    quote_accept_consenting(owner, project, 2)
    assert _quote(project, 2).accepted_at is not None
    assert _quote(project, 2).snapshot["story_count"] == 9


def test_a_double_submit_accepts_once(world: World) -> None:
    project = _scoped_mvp(world)
    _make_quote(world.client("alpha_member", on="alpha"), project)
    owner = world.client("alpha_owner", on="alpha")
    card_on_file(world.customers["alpha"])
    page = owner.get(url("quote_accept", project.pk, 1)).content.decode()
    token = page.split('name="consent" value="', 1)[1].split('"', 1)[0]

    owner.post(url("quote_accept", project.pk, 1), {"consent": token, "authorise": "yes"})
    first = _quote(project, 1)
    second = owner.post(url("quote_accept", project.pk, 1), {"consent": token, "authorise": "yes"}, follow=True)

    assert second.status_code == 200
    again = _quote(project, 1)
    assert (again.accepted_at, again.accepted_by_email) == (first.accepted_at, first.accepted_by_email)
    assert "Quote v1 is already accepted." in text_of(second)
    with schema_context("alpha"):
        assert Quote.objects.filter(project=project).count() == 1
        assert ScheduledPayment.objects.filter(project=project).count() == 2


@pytest.mark.parametrize("user", ["alpha_member", "alpha_viewer"])
def test_members_and_viewers_cannot_accept(world: World, user: str) -> None:
    project = _scoped_mvp(world)
    _make_quote(world.client("alpha_member", on="alpha"), project)
    client = world.client(user, on="alpha")
    page = client.get(url("quote_detail", project.pk, 1))
    assert page.status_code == 200
    assert 'data-testid="accept"' not in page.content.decode()
    assert "An owner of Alpha Industries can accept this quote." in text_of(page)

    assert client.post(url("quote_accept", project.pk, 1)).status_code == 403

    assert _quote(project, 1).accepted_at is None
    assert _status(project) == Project.Status.QUOTED


def test_staff_may_accept_on_behalf_of_the_customer(world: World) -> None:
    project = _scoped_mvp(world)
    _make_quote(world.client("alpha_member", on="alpha"), project)

    card_on_file(world.customers["alpha"])

    quote_accept_consenting(world.client("staff", on="alpha"), project, 1)

    assert _quote(project, 1).accepted_by_email == "staff@hive.test"


# --- An accepted quote never changes ---------------------------------------------------------------


def _accepted(world: World) -> Project:
    project = _scoped_mvp(world)
    _make_quote(world.client("alpha_member", on="alpha"), project)
    card_on_file(world.customers["alpha"])
    quote_accept_consenting(world.client("alpha_owner", on="alpha"), project, 1)
    assert _status(project) == Project.Status.AWAITING_PAYMENT
    return project


def test_an_accepted_quote_cannot_be_saved_or_deleted(world: World) -> None:
    project = _accepted(world)
    quote = _quote(project, 1)
    with schema_context("alpha"):
        quote.price_cents = 1
        with pytest.raises(QuoteLockedError):
            quote.save()
        with pytest.raises(QuoteLockedError):
            quote.delete()
    assert _quote(project, 1).price_cents == 7_500_000


def test_the_scope_cannot_change_after_acceptance(world: World) -> None:
    project = _accepted(world)
    client = world.client("alpha_owner", on="alpha")
    story = stories_of(project)[0]
    before = [(s.pk, s.title, s.dropped, s.priority) for s in stories_of(project)]
    locked = "The quote of this project was accepted; its scope can no longer change."

    for name, args, data in [
        ("requirements_submit", [project.pk], {"text": "As a user, I want to log in so that I see my data."}),
        ("story_add", [project.pk], {"title": "New", "as_a": "user", "i_want": "more", "priority": "must"}),
        (
            "story_edit",
            [project.pk, story.pk],
            {"title": "Changed", "as_a": "user", "i_want": "something else", "priority": "must"},
        ),
        ("story_drop", [project.pk, story.pk], {"dropped": "1"}),
        ("quote_create", [project.pk], {}),
    ]:
        response = client.post(url(name, *args), data)
        assert response.status_code == 400, name
        assert locked in text_of(response), name

    assert [(s.pk, s.title, s.dropped, s.priority) for s in stories_of(project)] == before
    with schema_context("alpha"):
        assert Quote.objects.filter(project=project).count() == 1
    page = text_of(client.get(url("project_detail", project.pk)))
    assert "Analyse requirements" not in page and "Make a new quote version" not in page


# --- Custom engagements ----------------------------------------------------------------------------


def test_more_than_50_stories_give_a_custom_engagement_quote(world: World) -> None:
    project = _scoped_mvp(world, "harvest_60_stories.md")
    member = world.client("alpha_member", on="alpha")

    _make_quote(member, project)

    quote = _quote(project, 1)
    assert quote.price_cents is None
    assert quote.snapshot["outcome"] == "custom_engagement"
    assert quote.snapshot["story_count"] == 60
    assert _status(project) == Project.Status.CUSTOM_REQUESTED
    owner = world.client("alpha_owner", on="alpha")
    page = owner.get(url("quote_detail", project.pk, 1))
    assert by_testid(page, "quote-price") == "Custom quote"
    assert "This scope needs a custom engagement" in text_of(page)
    assert 'data-testid="accept"' not in page.content.decode()

    response = owner.post(url("quote_accept", project.pk, 1), follow=True)

    assert "This is a custom engagement" in text_of(response)
    assert _quote(project, 1).accepted_at is None
    assert _status(project) == Project.Status.CUSTOM_REQUESTED


# --- Augmentation ----------------------------------------------------------------------------------


def test_three_sprints_cost_75000(world: World) -> None:
    project = _engaged(world, kind="sprint", sprints=3, sprint_weeks=3, team_size=2, skills="Django, React")
    member = world.client("alpha_member", on="alpha")
    assert "Current choice: Sprint-based, 2 agents (Django, React)." in text_of(
        member.get(url("project_detail", project.pk))
    )

    _make_quote(member, project)

    quote = _quote(project, 1)
    assert quote.price_cents == 7_500_000
    page = member.get(url("quote_detail", project.pk, 1))
    assert by_testid(page, "quote-price") == "$75,000"
    assert "3 sprints of 3 weeks at $25,000 per sprint" in text_of(page)
    # Augmentation has no live preview: the terms say what it delivers before the release.
    assert "live preview" not in text_of(page) and "pull requests in your connected repository" in text_of(page)
    assert "Velocity improvement: ≥ 40%" in text_of(page)
    card_on_file(world.customers["alpha"])
    quote_accept_consenting(world.client("alpha_owner", on="alpha"), project, 1)
    assert _status(project) == Project.Status.AWAITING_PAYMENT

    form = {"kind": "sprint", "sprints": 1, "sprint_weeks": 2, "months": 1, "team_size": 3}
    refused = member.post(url("engagement_submit", project.pk), form)
    assert refused.status_code == 400
    assert "its scope can no longer change" in text_of(refused)
    with schema_context("alpha"):
        assert Engagement.objects.get(project=project).sprints == 3


def test_continuous_augmentation_costs_75000_a_month(world: World) -> None:
    project = _engaged(world, kind="continuous", months=6, team_size=4)
    member = world.client("alpha_member", on="alpha")

    _make_quote(member, project)

    quote = _quote(project, 1)
    assert quote.price_cents == 7_500_000
    page = member.get(url("quote_detail", project.pk, 1))
    assert by_testid(page, "quote-price") == "$75,000"
    assert "4 agents, billed monthly; first commitment 6 month(s)" in text_of(page)


def test_continuous_augmentation_needs_three_agents(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.AUGMENTATION)
    form = {"kind": "continuous", "sprints": 1, "sprint_weeks": 2, "months": 1, "team_size": 2}

    response = client.post(url("engagement_submit", project.pk), form)

    assert response.status_code == 400
    assert "Continuous augmentation runs at least 3 agents." in text_of(response)
    with schema_context("alpha"):
        assert not Engagement.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "sprint", "sprints": 0}, "Choose between 1 and 26 sprints."),
        ({"kind": "sprint", "sprint_weeks": 6}, "A sprint lasts 2 to 4 weeks."),
        ({"kind": "sprint", "team_size": 40}, "Choose a team of 1 to 20 agents."),
        ({"kind": "continuous", "months": 0}, "Choose between 1 and 36 months."),
        ({"kind": "weekly"}, "Select a valid choice."),
    ],
)
def test_it_refuses_an_engagement_out_of_bounds(world: World, data: dict[str, object], message: str) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.AUGMENTATION)
    form = {"sprints": 1, "sprint_weeks": 2, "months": 1, "team_size": 3} | data

    response = client.post(url("engagement_submit", project.pk), form)

    assert response.status_code == 400
    assert message in text_of(response)


def test_project_based_augmentation_asks_for_a_custom_quote(world: World) -> None:
    project = _engaged(world, kind="project", team_size=5, notes="Migrate our billing module")
    member = world.client("alpha_member", on="alpha")

    _make_quote(member, project)

    quote = _quote(project, 1)
    assert quote.price_cents is None
    assert _status(project) == Project.Status.CUSTOM_REQUESTED
    page = world.client("alpha_owner", on="alpha").get(url("quote_detail", project.pk, 1))
    assert by_testid(page, "quote-price") == "Custom quote"
    assert "Awaiting your account manager's quote." in text_of(page)
    assert 'data-testid="accept"' not in page.content.decode()


def test_changing_the_engagement_makes_a_new_quote_version(world: World) -> None:
    project = _engaged(world, kind="sprint", sprints=2)
    member = world.client("alpha_member", on="alpha")
    _make_quote(member, project)
    form = {"kind": "sprint", "sprints": 4, "sprint_weeks": 2, "months": 1, "team_size": 3}
    assert member.post(url("engagement_submit", project.pk), form).status_code == 302

    _make_quote(member, project)

    assert (_quote(project, 1).price_cents, _quote(project, 2).price_cents) == (5_000_000, 10_000_000)


def test_a_story_row_is_not_shared_between_quote_versions(world: World) -> None:
    """The snapshot is a copy: editing a story after v1 does not reach into v1."""
    project = _scoped_mvp(world)
    member = world.client("alpha_member", on="alpha")
    _make_quote(member, project)
    with schema_context("alpha"):
        story = Story.objects.filter(project=project).first()
        assert story is not None
        title = story.title
        story.title = "Renamed"
        story.save()
    assert _quote(project, 1).snapshot["stories"][0]["title"] == title


VET = """# Vet clinic

As a pet owner, I want to register my pets (name, species, birth date) so that the clinic knows them.

As a pet owner, I want to pay the consultation fee online by card (Stripe) so that I do not queue at the desk.
"""


def test_a_story_the_built_in_developers_cannot_build_is_flagged_before_the_quote_is_accepted(world: World) -> None:
    member = world.client("alpha_member", on="alpha")
    project = new_project(member, Service.MVP)
    assert member.post(url("requirements_submit", project.pk), {"text": VET}).status_code == 302
    with schema_context("alpha"):
        pay = Story.objects.get(project=project, i_want__icontains="pay the consultation fee")
        pets = Story.objects.get(project=project, i_want__icontains="register my pets")
    scope = member.get(url("project_detail", project.pk)).content.decode()
    flag = by_testid(member.get(url("project_detail", project.pk)), f"scope-gap-{pay.pk}")
    assert "needs the model provider or a developer" in flag
    assert f'data-testid="scope-gap-{pets.pk}"' not in scope
    _make_quote(member, project)
    owner = world.client("alpha_owner", on="alpha")
    quote = owner.get(url("quote_detail", project.pk, 1)).content.decode()
    assert quote.count('data-testid="quote-gap"') == 1 and "needs the model provider or a developer" in quote
    card_on_file(world.customers["alpha"])
    step = by_testid(owner.get(url("quote_accept", project.pk, 1)), "consent-gaps")
    assert pay.title in step and "1 story of this quote needs the model provider or a developer" in step
    assert pets.title not in step
