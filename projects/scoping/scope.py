"""MVP scoping: user stories and their features → the tier, price, timeline and terms to quote.

This module owns the choice of MVP tier by the seed's table (`billing.catalog.MVP_TIERS`):

1. Stories prioritised "Won't have" are listed but not counted: they will not be built.
2. More than 50 counted stories cannot be a fixed-price MVP: the outcome is a custom
   engagement, with the reason — never a silent cap at 50.
3. AI/ML needs or real-time needs require the Complex tier.
4. Otherwise the smallest tier whose story limit and integration limit both hold is chosen;
   every tier skipped on the way is named with the limit that was exceeded.

`Scope.reasons` lists, in order, every reason that picked the outcome. Re-scoping after the
customer edits, drops or adds stories is calling `scope_mvp` again with the new story list;
the features are re-detected from the stories themselves, plus the features found in the rest
of the document (`RequirementsAnalysis.context_features`), which the caller passes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from billing.catalog import COMPLEX_MVP, MVP_MAX_STORIES, MVP_TIERS, DurationRange, MvpTier
from projects.requirements import (
    NO_FEATURES,
    Features,
    Priority,
    RequirementsAnalysis,
    RequirementsError,
    UserStory,
    features_of_stories,
)


class ScopeOutcome(StrEnum):
    TIER = "tier"
    CUSTOM_ENGAGEMENT = "custom_engagement"


@dataclass(frozen=True, slots=True)
class Scope:
    """The result of scoping. `tier` is None exactly when the outcome is a custom engagement."""

    outcome: ScopeOutcome
    tier: MvpTier | None
    story_count: int
    excluded_story_count: int
    total_points: int
    features: Features
    reasons: tuple[str, ...]
    # The stories that decide the tier (their AI/ML or real-time needs require the Complex
    # MVP); empty when the count and integrations alone decide it.
    drivers: tuple[str, ...] = ()

    @property
    def is_custom_engagement(self) -> bool:
        return self.outcome is ScopeOutcome.CUSTOM_ENGAGEMENT

    @property
    def integration_count(self) -> int:
        return len(self.features.integrations)

    @property
    def price_cents(self) -> int | None:
        return self.tier.price_cents if self.tier else None

    @property
    def timeline(self) -> DurationRange | None:
        return self.tier.timeline if self.tier else None

    @property
    def hosting_months(self) -> int | None:
        return self.tier.hosting.months if self.tier else None

    @property
    def support_label(self) -> str | None:
        return self.tier.support.label if self.tier else None


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"


def _integrations_phrase(features: Features) -> str:
    names = features.integration_names
    phrase = _plural(len(names), "integration")
    return f"{phrase} ({', '.join(names)})" if names else phrase


def _limits(tier: MvpTier) -> str:
    return f"up to {tier.max_stories} stories, {tier.integrations_label}"


def scope_mvp(stories: Sequence[UserStory], *, context_features: Features = NO_FEATURES) -> Scope:
    """Scope an MVP from its stories by the rules in the module docstring.

    `context_features` are features the requirements mention outside any story; they are added
    to those detected in `stories`. Raises `RequirementsError` when no story is left to build.
    """
    return _scope(stories, None, context_features)


def scopes_without_each(
    stories: Sequence[UserStory], *, context_features: Features = NO_FEATURES
) -> list[Scope | None]:
    """For each story, the scope if it were dropped (None when nothing would be left): what
    the scope page shows before an edit that changes the tier is saved. Each story's features
    are detected once."""
    own = [features_of_stories([story]) for story in stories]
    results: list[Scope | None] = []
    for index in range(len(stories)):
        rest = [story for position, story in enumerate(stories) if position != index]
        rest_features = [features for position, features in enumerate(own) if position != index]
        try:
            results.append(_scope(rest, rest_features, context_features))
        except RequirementsError:
            results.append(None)
    return results


def _scope(stories: Sequence[UserStory], own: Sequence[Features] | None, context_features: Features) -> Scope:
    """`own` are the stories' features, one per story, when the caller has them already."""
    counted = [story for story in stories if story.priority is not Priority.WONT]
    excluded = len(stories) - len(counted)
    if not counted:
        raise RequirementsError(
            "There are no user stories to build: add at least one story that is not marked “Won't have”."
        )
    if own is None:
        features = features_of_stories(counted) | context_features
        needs_drivers = features.needs_ai_ml or features.needs_real_time
        # Which stories drive the tier is worth a detection per story only when something does.
        counted_features = [features_of_stories([story]) for story in counted] if needs_drivers else []
    else:
        counted_features = [f for story, f in zip(stories, own, strict=True) if story.priority is not Priority.WONT]
        features = context_features
        for story_features in counted_features:
            features = features | story_features
    count = len(counted)
    reasons: list[str] = []
    if excluded:
        verb = "is" if excluded == 1 else "are"
        reasons.append(f"{_plural(excluded, 'story')} marked “Won't have” {verb} not counted.")
    drivers = tuple(
        story.title for story, f in zip(counted, counted_features, strict=False) if f.needs_ai_ml or f.needs_real_time
    )

    def result(outcome: ScopeOutcome, tier: MvpTier | None) -> Scope:
        return Scope(
            outcome=outcome,
            tier=tier,
            story_count=count,
            excluded_story_count=excluded,
            total_points=sum(story.points for story in counted),
            features=features,
            reasons=tuple(reasons),
            drivers=drivers if tier is COMPLEX_MVP else (),
        )

    if count > MVP_MAX_STORIES:
        reasons.append(
            f"{count} stories exceed the {COMPLEX_MVP.name} limit of {MVP_MAX_STORIES}: this needs a "
            f"custom engagement quoted by an account manager (or fewer stories in scope)."
        )
        return result(ScopeOutcome.CUSTOM_ENGAGEMENT, None)
    tier = _tier(count, features, reasons, drivers, bool(context_features.ai_ml or context_features.real_time))
    return result(ScopeOutcome.TIER, tier)


def _quoted(titles: Sequence[str]) -> str:
    return ", ".join(f"“{title}”" for title in titles)


def _tier(count: int, features: Features, reasons: list[str], drivers: Sequence[str], in_context: bool) -> MvpTier:
    """The smallest tier that fits, appending to `reasons` why each one was or was not taken."""
    integrations = len(features.integrations)
    candidates = list(MVP_TIERS)
    source = ""
    if drivers:
        source = f" — from {_plural(len(drivers), 'story')}: {_quoted(drivers)}"
    elif in_context:
        source = " — mentioned in the requirements outside any story"
    if features.needs_ai_ml:
        reasons.append(f"AI/ML needs ({', '.join(sorted(features.ai_ml))}) require the {COMPLEX_MVP.name}{source}.")
    if features.needs_real_time:
        reasons.append(
            f"Real-time needs ({', '.join(sorted(features.real_time))}) require the {COMPLEX_MVP.name}{source}."
        )
    if features.needs_ai_ml or features.needs_real_time:
        candidates = [COMPLEX_MVP]
    for tier in candidates:
        if tier.fits(story_count=count, integration_count=integrations):
            reasons.append(
                f"{_plural(count, 'story')} and {_integrations_phrase(features)} fit the {tier.name} ({_limits(tier)})."
            )
            return tier
        if count > tier.max_stories:
            reasons.append(f"{_plural(count, 'story')} exceed the {tier.name} limit of {tier.max_stories}.")
        if tier.max_integrations is not None and integrations > tier.max_integrations:
            reasons.append(f"{_integrations_phrase(features)} exceed the {tier.name} limit of {tier.max_integrations}.")
    raise AssertionError("the Complex tier fits every scope of at most 50 stories")  # pragma: no cover


def scope_requirements(analysis: RequirementsAnalysis) -> Scope:
    """Scope a freshly analysed requirements document."""
    return scope_mvp(analysis.stories, context_features=analysis.context_features)
