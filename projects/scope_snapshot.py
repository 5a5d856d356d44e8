"""Turning scoping results into plain JSON and back: the stored context features of a project and
the frozen snapshot a quote keeps of its scope, terms, quality standards and guarantee."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
from projects.requirements import Features, Integration, IntegrationKind, Priority, UserStory
from projects.scoping import Scope


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


def _criteria(criteria: Iterable[Criterion]) -> list[dict[str, str]]:
    return [
        {"code": c.code, "description": c.description, "target": c.threshold.label if c.threshold else "judged"}
        for c in criteria
    ]


def service_terms(service: str) -> dict[str, Any]:
    """The quality standards and guarantee conditions every quote of ``service`` states."""
    return {
        "quality_standards": _criteria(quality_standards(service)),
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
            }
            for s in stories
        ],
        **service_terms(project.service),
    }


def modernization_snapshot(project: Project, result: dict[str, Any], *, price_cents: int) -> dict[str, Any]:
    """``price_cents`` is the whole schedule's: the assessment plus every migration phase."""
    return {
        "service": project.service,
        "outcome": "assessment",
        "price_cents": price_cents,
        "price": format_usd(price_cents),
        "assessment_price": format_usd(result["assessment_price_cents"]),
        "code_loc": result["totals"]["code"],
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
            "terms": f"{engagement.sprints} sprint(s) of {engagement.sprint_weeks} weeks at "
            f"{SPRINT_AUGMENTATION.price_label}",
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
