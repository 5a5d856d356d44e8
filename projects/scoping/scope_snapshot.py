"""Turning scoping results into plain JSON and back: the stored context features of a project and
the frozen snapshot a quote keeps of its scope, terms, quality standards and guarantee."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from agents.appgen.capabilities import capability_gap
from billing.catalog import (
    CONTINUOUS_AUGMENTATION,
    GUARANTEE_DAYS,
    PHASE_PRICE,
    ROLLBACK_HOURS,
    SPRINT_AUGMENTATION,
    Criterion,
    format_usd,
    guarantee_conditions,
    quality_standards,
)
from billing.milestones import PHASE_PRICE_RULE
from projects.models import Engagement, Project, Story
from projects.requirements import (
    Features,
    Integration,
    IntegrationKind,
    Priority,
    RequirementsError,
    UserStory,
    requested_page_load_seconds,
)
from projects.scoping.scope import Scope, scope_mvp, scopes_without_each


def features_to_json(features: Features) -> dict[str, Any]:
    return {
        "integrations": [
            {"name": i.name, "kind": i.kind.value, "generic": i.generic} for i in sorted(features.integrations)
        ],
        "ai_ml": sorted(features.ai_ml),
        "real_time": sorted(features.real_time),
    }


def features_from_json(data: dict[str, Any]) -> Features:
    return Features(
        integrations=frozenset(
            Integration(name=i["name"], kind=IntegrationKind(i["kind"]), generic=bool(i.get("generic")))
            for i in data.get("integrations", [])
        ),
        ai_ml=frozenset(data.get("ai_ml", [])),
        real_time=frozenset(data.get("real_time", [])),
    )


GAP_WORDS = "needs the model provider or a developer"


def story_gap(row: Story) -> dict[str, str] | None:
    """What the built-in developers cannot build in the story (``agents.appgen.capabilities``),
    said on the scope page, the quote and the payment step before the quote is accepted."""
    gap = capability_gap(row.title, row.sentence, [str(c) for c in row.acceptance_criteria or []])
    if gap is None:
        return None
    return {"capability": gap.capability, "reason": gap.reason, "words": GAP_WORDS}


def story_of(row: Story) -> UserStory:
    return UserStory(
        epic=row.epic,
        title=row.title,
        as_a=row.as_a,
        i_want=row.i_want,
        so_that=row.so_that,
        priority=Priority(row.priority),
        points=row.points,
        acceptance_criteria=tuple(row.acceptance_criteria),
    )


def tier_changes(project: Project, stories: list[Story], scope: Scope) -> dict[int, str]:
    """Story pk → what dropping (or restoring) it would do to the tier and price, for the
    stories whose drop or restore changes them: shown before the change is saved."""
    context = features_from_json(project.context_features)
    kept = [s for s in stories if not s.dropped]
    changes: dict[int, str] = {}
    without = scopes_without_each([story_of(s) for s in kept], context_features=context)
    for row, other in zip(kept, without, strict=True):
        if other is not None and other.price_cents != scope.price_cents:
            changes[row.pk] = f"Dropping it changes the quote to {_scope_label(other)} (now {_scope_label(scope)})."
    for row in (s for s in stories if s.dropped):
        restored = scope_mvp([story_of(s) for s in [*kept, row]], context_features=context)
        if restored.price_cents != scope.price_cents:
            changes[row.pk] = f"Restoring it changes the quote to {_scope_label(restored)} (now {_scope_label(scope)})."
    return changes


def tier_change_of_edit(project: Project, edited: Story) -> str:
    """What saving the edited (or added, unsaved) `edited` would do to the tier and price; ""
    when nothing."""
    rows = list(project.stories.all())
    context = features_from_json(project.context_features)
    try:
        now = scope_mvp([story_of(s) for s in rows if not s.dropped], context_features=context)
        # The edit's points are worked out on saving; they do not decide the tier.
        edited_story = replace(story_of(edited), points=edited.points or 1)
        after_stories = [edited_story if s.pk == edited.pk else story_of(s) for s in rows if not s.dropped]
        if edited.pk is None:  # a story being added
            after_stories.append(edited_story)
        after = scope_mvp(after_stories, context_features=context)
    except RequirementsError:
        return ""
    if after.price_cents == now.price_cents:
        return ""
    change = "This edit" if edited.pk is not None else "Adding this story"
    return f"{change} changes the quote to {_scope_label(after)} (now {_scope_label(now)})."


def _scope_label(scope: Scope) -> str:
    return f"{scope.tier.name}, {scope.tier.price_label}" if scope.tier else "a custom engagement"


def _criteria(criteria: Iterable[Criterion]) -> list[dict[str, str]]:
    return [
        {"code": c.code, "description": c.description, "target": c.threshold.label if c.threshold else "judged"}
        for c in criteria
    ]


def project_quality_standards(project: Project) -> tuple[Criterion, ...]:
    """The service's quality standards, with the measurable non-functional requirements of the
    project's requirements taken in: a stricter page-load target replaces the catalog's, and
    the UI languages and data location asked for are standards judged at acceptance."""
    requested = project.nonfunctional_requirements
    standards = quality_standards(project.service, page_load_seconds=requested_page_load_seconds(requested))
    judged = []
    for item in requested:
        if item.languages:
            judged.append(Criterion("languages", f"User interface in {', '.join(item.languages)}"))
        if item.region:
            judged.append(Criterion("data_location", f"Data stored in the {item.region}"))
    return standards + tuple({c.code: c for c in judged}.values())


def nonfunctional_json(project: Project) -> list[dict[str, Any]]:
    return [
        {"kind": item.kind.value, "label": item.kind.label, "text": item.text, "measurable": item.measurable}
        for item in project.nonfunctional_requirements
    ]


def service_terms(service: str, standards: Iterable[Criterion] | None = None) -> dict[str, Any]:
    """The quality standards and guarantee conditions every quote of ``service`` states."""
    return {
        "quality_standards": _criteria(quality_standards(service) if standards is None else standards),
        "guarantee": _criteria(guarantee_conditions(service)),
        "guarantee_days": GUARANTEE_DAYS,
    }


def mvp_snapshot(project: Project, scope: Scope, stories: list[Story]) -> dict[str, Any]:
    tier = scope.tier
    return {
        "service": project.service,
        "outcome": scope.outcome.value,
        "tier": None
        if tier is None
        else {
            "code": tier.code.value,
            "name": tier.name,
            "summary": tier.summary,
            "price_cents": tier.price_cents,
            "price": tier.price_label,
            "timeline": tier.timeline.label,
            "hosting": tier.hosting.label,
            "support": tier.support.label,
            "limits": f"up to {tier.max_stories} stories, {tier.integrations_label}",
        },
        # Top-level like the other services' snapshots: the quote's price is read from here.
        "price_cents": scope.price_cents,
        "price": tier.price_label if tier is not None else "Custom quote",
        "story_count": scope.story_count,
        "excluded_story_count": scope.excluded_story_count,
        "total_points": scope.total_points,
        "features": features_to_json(scope.features),
        "reasons": list(scope.reasons),
        "stories": [
            {
                "epic": s.epic,
                "title": s.title,
                "sentence": story_of(s).sentence,
                "priority": s.get_priority_display(),
                "points": s.points,
                "acceptance_criteria": list(s.acceptance_criteria),
                "gap": story_gap(s),
            }
            for s in stories
        ],
        "non_functional": nonfunctional_json(project),
        **service_terms(project.service, project_quality_standards(project)),
    }


def modernization_snapshot(project: Project, result: dict[str, Any], *, price_cents: int) -> dict[str, Any]:
    """``price_cents`` is the whole schedule's: the assessment plus every migration phase."""
    return {
        "service": project.service,
        "outcome": "assessment",
        "price_cents": price_cents,
        "price": format_usd(price_cents),
        "assessment_price": format_usd(result["assessment_price_cents"]),
        # The lines to migrate (the phases' and the size class's); older results counted every line.
        "code_loc": (result.get("migrated") or result["totals"])["code"],
        "not_migrated": [
            {"label": g["label"], "files": len(g["files"]), "code": g["code"], "treatment": g["treatment"]}
            for g in result.get("excluded", [])
        ],
        "size_class": result["size_class"]["name"],
        # The one timeline of the assessment (size class band or COCOMO II, with the reason).
        "timeline": (result.get("timeline") or {}).get("label") or result["size_class"]["timeline"],
        "timeline_basis": (result.get("timeline") or {}).get("basis", "size class"),
        "timeline_reason": (result.get("timeline") or {}).get("reason", ""),
        "phases": [
            {
                "number": p["number"],
                "share_percent": round(p["share"] * 100, 1),
                "code_lines": p["code_lines"],
                "modules": len(p["modules"]),
                "depends_on_phases": p["depends_on_phases"],
                "rollback": p["rollback"],
            }
            for p in result["plan"]["phases"]
        ],
        "implementation_price": f"{PHASE_PRICE.label} per phase, charged when the phase passes its gates",
        "phase_price_rule": PHASE_PRICE_RULE,
        "rollback_hours": ROLLBACK_HOURS,
        **service_terms(project.service),
    }


def augmentation_snapshot(project: Project, engagement: Engagement) -> dict[str, Any]:
    snapshot: dict[str, Any] = {
        "service": project.service,
        "outcome": engagement.kind,
        "kind": engagement.get_kind_display(),
        "team_size": engagement.team_size,
        "skills": engagement.skills,
        "notes": engagement.notes,
        **service_terms(project.service),
    }
    if engagement.kind == Engagement.Kind.SPRINT:
        assert SPRINT_AUGMENTATION.price_cents is not None
        price = SPRINT_AUGMENTATION.price_cents * engagement.sprints
        snapshot |= {
            "price_cents": price,
            "price": format_usd(price),
            "terms": f"{engagement.sprints} sprint{'' if engagement.sprints == 1 else 's'} of "
            f"{engagement.sprint_weeks} weeks at {SPRINT_AUGMENTATION.price_label}",
        }
    elif engagement.kind == Engagement.Kind.CONTINUOUS:
        assert CONTINUOUS_AUGMENTATION.price_cents is not None
        snapshot |= {
            "price_cents": CONTINUOUS_AUGMENTATION.price_cents,
            "price": f"{CONTINUOUS_AUGMENTATION.price_label}",
            "terms": f"{engagement.team_size} agents, billed monthly; first commitment {engagement.months} month(s)",
        }
    else:
        snapshot |= {"price_cents": None, "price": "Custom quote", "terms": "An account manager prepares the quote."}
    return snapshot
