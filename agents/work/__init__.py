"""The built-in provider's work, per role and step: real files, real commits, real tool runs.

``step_for(role, key)`` names the function that does a step. Steps of the same key done by
different roles differ (the architect's ``validation`` checks the design, the compliance
validator's builds the audit trail), hence the lookup by role first.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.roles import Role
from agents.work import augmentation, modernization, mvp
from agents.work.common import Job, Result

Step = Callable[[Job], Result]


def _architecture_validation(job: Job) -> Result:
    return mvp.check_artifacts(job, report_name="architecture-validation")


BY_ROLE: dict[tuple[str, str], Step] = {
    (Role.SOLUTION_ARCHITECT, "validation"): _architecture_validation,
    (Role.COMPLIANCE_VALIDATOR, "validation"): modernization.audit,
}
BY_KEY: dict[str, Step] = {
    "requirements": mvp.requirements,
    "architecture": mvp.architecture,
    "sprint_plan": mvp.sprint_plan,
    "ci": mvp.ci,
    "story": mvp.story,
    "story_fix": mvp.story_fix,
    "quality": mvp.quality,
    "preview": mvp.preview,
    "deploy": mvp.deploy,
    "legacy_analysis": modernization.legacy_analysis,
    "debt": modernization.debt,
    "strategy": modernization.strategy,
    "segment": modernization.segment,
    "parity": modernization.parity,
    "rollout": modernization.rollout,
    "performance": modernization.performance,
    "team_assessment": augmentation.team_assessment,
    "process": augmentation.process,
    "pickup": augmentation.pickup,
    "backlog_item": augmentation.backlog_item,
    "handoff": augmentation.handoff,
}


def step_for(role: str, key: str) -> Step | None:
    return BY_ROLE.get((role, key)) or BY_KEY.get(key)


__all__ = ["BY_KEY", "BY_ROLE", "Job", "Result", "Step", "step_for"]
