"""MVP scoping: tier, price and timeline per document; edits recompute; custom engagements."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.catalog import MvpTierCode
from projects.requirements import (
    Priority,
    RequirementsError,
    UserStory,
    analyse_requirements,
    make_story,
)
from projects.scoping.scope import ScopeOutcome, scope_mvp, scope_requirements

FIXTURES = Path(__file__).parent / "fixtures" / "requirements"


def analysed(name: str) -> list[UserStory]:
    return list(analyse_requirements((FIXTURES / name).read_text(encoding="utf-8")).stories)


def plain_stories(count: int) -> list[UserStory]:
    return [make_story(as_a="member", i_want=f"edit note number {n}") for n in range(count)]


@pytest.mark.parametrize(
    ("name", "stories", "counted", "tier", "price_cents", "weeks", "hosting_months", "support"),
    [
        ("pawwalk_10_stories.md", 10, 10, MvpTierCode.SIMPLE, 7_500_000, (2, 3), 6, "30-day support"),
        (
            "fieldfix_25_stories.md",
            25,
            25,
            MvpTierCode.STANDARD,
            15_000_000,
            (4, 6),
            12,
            "90-day support and optimization",
        ),
        (
            "clinicflow_45_stories.txt",
            45,
            45,
            MvpTierCode.COMPLEX,
            30_000_000,
            (6, 8),
            24,
            "6-month managed service",
        ),
    ],
)
def test_it_scopes_each_requirements_document(
    name: str,
    stories: int,
    counted: int,
    tier: MvpTierCode,
    price_cents: int,
    weeks: tuple[int, int],
    hosting_months: int,
    support: str,
) -> None:
    analysis = analyse_requirements((FIXTURES / name).read_text(encoding="utf-8"))
    scope = scope_requirements(analysis)

    assert len(analysis.stories) == stories
    assert scope.story_count == counted
    assert scope.outcome is ScopeOutcome.TIER
    assert scope.tier is not None and scope.tier.code is tier
    assert scope.price_cents == price_cents
    assert scope.timeline is not None and (scope.timeline.low, scope.timeline.high) == weeks
    assert scope.timeline.unit == "weeks"
    assert scope.hosting_months == hosting_months
    assert scope.support_label == support
    assert scope.total_points == sum(s.points for s in analysis.stories)


def test_it_gives_the_reasons_that_picked_each_tier() -> None:
    simple = scope_requirements(analyse_requirements((FIXTURES / "pawwalk_10_stories.md").read_text()))
    assert simple.reasons == (
        "10 stories and 2 integrations (Email delivery, Stripe) fit the Simple MVP (up to 15 stories, 3 integrations).",
    )
    complex_ = scope_requirements(analyse_requirements((FIXTURES / "clinicflow_45_stories.txt").read_text()))
    assert complex_.reasons[0] == "45 stories exceed the Simple MVP limit of 15."
    assert "45 stories exceed the Standard MVP limit of 30." in complex_.reasons
    assert complex_.reasons[-1].startswith("45 stories and 5 integrations")


def test_it_rejects_requirements_over_50_stories_as_a_custom_engagement() -> None:
    analysis = analyse_requirements((FIXTURES / "harvest_60_stories.md").read_text(encoding="utf-8"))
    scope = scope_requirements(analysis)

    assert len(analysis.stories) == 62
    assert scope.story_count == 60  # never capped at 50
    assert scope.excluded_story_count == 2
    assert scope.outcome is ScopeOutcome.CUSTOM_ENGAGEMENT
    assert scope.is_custom_engagement
    assert scope.tier is None
    assert scope.price_cents is None
    assert scope.timeline is None
    assert scope.reasons == (
        "2 stories marked “Won't have” are not counted.",
        "60 stories exceed the Complex MVP limit of 50: this needs a custom engagement quoted by an "
        "account manager (or fewer stories in scope).",
    )


def test_it_recomputes_to_complex_when_the_large_document_is_trimmed_to_50_stories() -> None:
    stories = analysed("harvest_60_stories.md")
    counted = [s for s in stories if s.priority is not Priority.WONT]
    trimmed = counted[:25] + counted[35:]  # drops ten numbered delivery stories

    scope = scope_mvp(trimmed)

    assert scope.story_count == 50
    assert scope.tier is not None and scope.tier.code is MvpTierCode.COMPLEX
    assert scope.price_cents == 30_000_000
    assert any(r.startswith("AI/ML needs (") for r in scope.reasons)
    assert any(r.startswith("Real-time needs (chat, push notifications)") for r in scope.reasons)


def test_it_recomputes_the_tier_when_stories_are_dropped() -> None:
    stories = analysed("fieldfix_25_stories.md")
    portal_and_dispatch = stories[:12]
    with_few_more = portal_and_dispatch + stories[12:15]

    scope = scope_mvp(with_few_more)
    # 15 stories fit Simple by count, but Stripe, email, Google Maps and Twilio are 4 integrations.
    assert scope.story_count == 15
    assert scope.tier is not None and scope.tier.code is MvpTierCode.STANDARD
    assert scope.reasons[0] == (
        "4 integrations (Email delivery, Google Maps, Stripe, Twilio) exceed the Simple MVP limit of 3."
    )

    without_sms = [s for s in with_few_more if "Twilio" not in s.i_want]
    rescoped = scope_mvp(without_sms)
    assert rescoped.story_count == 14
    assert rescoped.tier is not None and rescoped.tier.code is MvpTierCode.SIMPLE
    assert rescoped.price_cents == 7_500_000


def test_it_recomputes_the_tier_when_stories_are_added() -> None:
    stories = analysed("pawwalk_10_stories.md")
    added = [make_story(as_a="walker", i_want=f"see a photo of dog number {n}") for n in range(6)]

    assert scope_mvp(stories[:-1] + added[:6]).tier == scope_mvp(stories[:9]).tier  # 15: still Simple
    grown = scope_mvp(stories + added)
    assert grown.story_count == 16
    assert grown.tier is not None and grown.tier.code is MvpTierCode.STANDARD
    assert grown.reasons[0] == "16 stories exceed the Simple MVP limit of 15."


def test_it_recomputes_when_a_story_is_edited_to_need_real_time() -> None:
    stories = analysed("pawwalk_10_stories.md")
    edited = [*stories[:-1], make_story(as_a="dog owner", i_want="follow the walk on a live tracking map")]

    scope = scope_mvp(edited)

    assert scope.tier is not None and scope.tier.code is MvpTierCode.COMPLEX
    assert scope.reasons[0] == (
        "Real-time needs (live updates) require the Complex MVP — "
        "from 1 story: “Follow the walk on a live tracking map”."
    )
    assert scope.drivers == ("Follow the walk on a live tracking map",)


@pytest.mark.parametrize(
    ("count", "tier"),
    [
        (1, MvpTierCode.SIMPLE),
        (15, MvpTierCode.SIMPLE),
        (16, MvpTierCode.STANDARD),
        (30, MvpTierCode.STANDARD),
        (31, MvpTierCode.COMPLEX),
        (50, MvpTierCode.COMPLEX),
    ],
)
def test_it_applies_the_story_limits_at_their_boundaries(count: int, tier: MvpTierCode) -> None:
    scope = scope_mvp(plain_stories(count))
    assert scope.tier is not None and scope.tier.code is tier


def test_it_turns_51_stories_into_a_custom_engagement() -> None:
    scope = scope_mvp(plain_stories(51))
    assert scope.is_custom_engagement
    assert scope.story_count == 51


def test_it_bumps_the_tier_for_too_many_integrations() -> None:
    names = ["Stripe", "PayPal", "SendGrid", "Twilio", "Slack", "Salesforce", "HubSpot", "Xero", "Jira"]
    stories = [make_story(as_a="admin", i_want=f"connect {name}") for name in names]

    assert scope_mvp(stories[:3]).tier.code is MvpTierCode.SIMPLE  # type: ignore[union-attr]
    standard = scope_mvp(stories[:8])
    assert standard.tier is not None and standard.tier.code is MvpTierCode.STANDARD
    complex_ = scope_mvp(stories)
    assert complex_.tier is not None and complex_.tier.code is MvpTierCode.COMPLEX
    assert complex_.integration_count == 9
    assert complex_.reasons[1].endswith("exceed the Standard MVP limit of 8.")
    assert complex_.reasons[-1].endswith("fit the Complex MVP (up to 50 stories, unlimited integrations).")


def test_it_forces_complex_for_ai_needs_even_for_a_few_stories() -> None:
    stories = [*plain_stories(3), make_story(as_a="reader", i_want="get article recommendations")]
    scope = scope_mvp(stories)
    assert scope.tier is not None and scope.tier.code is MvpTierCode.COMPLEX
    assert scope.reasons[0] == (
        "AI/ML needs (recommendations) require the Complex MVP — from 1 story: “Get article recommendations”."
    )


def test_it_does_not_count_wont_have_stories() -> None:
    stories = [*plain_stories(15), make_story(as_a="member", i_want="a native app", priority=Priority.WONT)]
    scope = scope_mvp(stories)
    assert scope.story_count == 15
    assert scope.excluded_story_count == 1
    assert scope.tier is not None and scope.tier.code is MvpTierCode.SIMPLE
    assert scope.reasons[0] == "1 story marked “Won't have” is not counted."


def test_it_keeps_integrations_the_document_names_outside_stories() -> None:
    analysis = analyse_requirements(
        "All stock comes from the Acme Inventory API.\n\n- Members can browse stock\n- Members can order\n"
    )
    kept = scope_mvp(analysis.stories[:1], context_features=analysis.context_features)
    assert kept.features.integration_names == ("Acme Inventory API",)
    assert scope_mvp(analysis.stories[:1]).features.integration_names == ()


@pytest.mark.parametrize("stories", [[], [make_story(as_a="x", i_want="a thing", priority=Priority.WONT)]])
def test_it_refuses_to_scope_without_stories_to_build(stories: list[UserStory]) -> None:
    with pytest.raises(RequirementsError, match="no user stories to build"):
        scope_mvp(stories)
