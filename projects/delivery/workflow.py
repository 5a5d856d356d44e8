"""Workflow templates per service, from the seed's diagrams, and what each project fans out over.

This module owns the shape of a delivery: which phases a service goes through, in order, which
steps each phase holds, who (which agent role) does each step, which steps wait for which, and
which steps fan out to one task per item (user story, migration segment, backlog item).

* MVP: requirements analysis → architecture (design, technical validation) → stakeholder review
  (the customer approves the plan) → sprint planning → development (one task per story, plus CI)
  → quality gates → customer preview → deployment → acceptance (the customer accepts).
* Modernization: legacy analysis → technical debt assessment → modernization strategy (the
  customer approves the migration plan) → incremental development (one task per migration
  segment of the assessment's plan, each after the segments it depends on) → parallel testing
  (parity per segment, then the customer reports user acceptance testing; gated) → gradual
  rollout → validation (performance and compliance; gated) → acceptance (the customer accepts).
* Augmentation: the customer connects the repository → team assessment → process integration →
  task pickup → execution (one task per backlog item) → handoff → review (the team approves).

The seed's side loops (progress reporting, success measurement) are not steps: progress is
derived from tasks, success is measured by the success app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.roles import Role
from projects.models import Assessment, Engagement, Project, Service, Story
from projects.requirements import story_sentence


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str
    role: Role | None  # None: a person approves
    after: tuple[str, ...] = ()  # keys of steps of the same phase this one waits for
    fan_out: str | None = None  # "items": one task per item of the project
    checks_artifacts: bool = False  # gets the artifacts of the project's finished tasks to check

    @property
    def is_approval(self) -> bool:
        return self.role is None


@dataclass(frozen=True, slots=True)
class PhaseTemplate:
    key: str
    name: str
    weight: int
    steps: tuple[Step, ...]
    gated: bool = False


@dataclass(frozen=True, slots=True)
class WorkflowTemplate:
    name: str
    phases: tuple[PhaseTemplate, ...]
    # What one fanned-out task is about: its inputs (title, sentence, criteria, dependencies).
    items: tuple[Mapping[str, Any], ...] = field(default=())


# The step and phase keys the platform acts on, named once (the templates below use them too).
APPROVE_PLAN = "approve_plan"  # the customer approves the plan
ACCEPT = "accept"  # the customer accepts the delivery (MVP: the second milestone falls due)
TESTING_PHASE = "testing"  # modernization: a passed testing phase is a paid migration phase
UAT_STEP = "uat"  # modernization: the customer reports user acceptance testing (projects.delivery.uat)
STORIES_STEPS = frozenset({"requirements", "sprint_plan", "architecture"})  # get the stories as inputs
BACKLOG_STEPS = frozenset({"team_assessment", "pickup"})  # get the backlog items as inputs
FEATURES_STEPS = frozenset({"architecture"})  # get the project's context features
EVENT_LOG_STEPS = frozenset({"validation", "handoff"})  # read the project's event log

R = Role
# The approval an augmentation waits on until the customer connects its repository
# (``projects.delivery.repository`` approves it; nobody can approve it by hand without a connection).
CONNECT_STEP = "connect_repository"
MVP_PHASES = (
    PhaseTemplate(
        "requirements",
        "Requirements analysis",
        1,
        (Step("requirements", "Analyse requirements into user stories", R.REQUIREMENTS_ANALYST),),
    ),
    PhaseTemplate(
        "architecture",
        "Architecture design",
        2,
        (
            Step("architecture", "Design the architecture and select the technology", R.SOLUTION_ARCHITECT),
            Step("validation", "Validate the architecture", R.SOLUTION_ARCHITECT, ("architecture",), None, True),
        ),
    ),
    PhaseTemplate("review", "Stakeholder review", 1, (Step(APPROVE_PLAN, "Customer approves the plan", None),)),
    PhaseTemplate(
        "sprint_planning", "Sprint planning", 1, (Step("sprint_plan", "Plan the sprints", R.REQUIREMENTS_ANALYST),)
    ),
    PhaseTemplate(
        "development",
        "Multi-agent development",
        8,
        (
            Step("ci", "Set up continuous integration", R.DEVOPS),
            Step("story", "Implement story", R.FULLSTACK_DEVELOPER, fan_out="items"),
        ),
    ),
    PhaseTemplate(
        "quality",
        "Quality gates",
        2,
        (Step("quality", "Run tests, coverage and security checks", R.QA_ENGINEER, checks_artifacts=True),),
        gated=True,
    ),
    # Gated: the preview's page-load probe is the page-load gate (success.gates).
    PhaseTemplate(
        "preview", "Customer preview", 1, (Step("preview", "Deploy the customer preview", R.DEVOPS),), gated=True
    ),
    PhaseTemplate("deployment", "Deployment", 1, (Step("deploy", "Deploy to production", R.DEVOPS),)),
    PhaseTemplate("acceptance", "Customer acceptance", 1, (Step(ACCEPT, "Customer accepts the delivery", None),)),
)

MODERNIZATION_PHASES = (
    PhaseTemplate(
        "analysis", "Legacy analysis", 1, (Step("legacy_analysis", "Analyse the legacy code", R.LEGACY_ANALYST),)
    ),
    PhaseTemplate(
        "debt", "Technical debt assessment", 1, (Step("debt", "Quantify the technical debt", R.LEGACY_ANALYST),)
    ),
    PhaseTemplate(
        "strategy",
        "Modernization strategy",
        1,
        (
            Step("strategy", "Plan the migration and its rollback", R.MIGRATION_ARCHITECT),
            Step(APPROVE_PLAN, "Customer approves the migration plan", None, ("strategy",)),
        ),
    ),
    PhaseTemplate(
        "development",
        "Incremental development",
        8,
        (Step("segment", "Migrate segment", R.MODERNIZATION_DEVELOPER, fan_out="items"),),
    ),
    PhaseTemplate(
        TESTING_PHASE,
        "Parallel testing",
        3,
        (
            Step("parity", "Check functional parity against the legacy system", R.TESTING_SPECIALIST, (), None, True),
            Step(UAT_STEP, "User acceptance testing: report how your testers found it", None, ("parity",)),
        ),
        gated=True,
    ),
    PhaseTemplate(
        "rollout", "Gradual rollout", 1, (Step("rollout", "Roll out segment by segment", R.MIGRATION_ARCHITECT),)
    ),
    PhaseTemplate(
        "validation",
        "Validation",
        2,
        (
            Step("performance", "Validate performance against the legacy baseline", R.TESTING_SPECIALIST),
            Step("validation", "Compliance validation and audit trail", R.COMPLIANCE_VALIDATOR, (), None, True),
        ),
        gated=True,  # the performance benchmark is the performance gate (success.gates)
    ),
    # Accepting comes after the validation gates have passed, never beside them: a customer once
    # accepted while the performance gate, evaluated afterwards, failed.
    PhaseTemplate("acceptance", "Acceptance", 1, (Step(ACCEPT, "Customer accepts the migration", None),)),
)

# Sprint progress counts delivered items, not phases: only the execution phase (one task per
# backlog item, done when its branch is on the customer's remote) carries weight.
AUGMENTATION_PHASES = (
    PhaseTemplate(
        "assessment",
        "Team assessment",
        0,
        (
            Step(CONNECT_STEP, "Customer connects the team's repository", None),
            Step("team_assessment", "Assess the team's history and velocity", R.TEAM_INTEGRATION, (CONNECT_STEP,)),
        ),
    ),
    PhaseTemplate(
        "integration", "Process integration", 0, (Step("process", "Integrate tools and process", R.TEAM_INTEGRATION),)
    ),
    PhaseTemplate("pickup", "Task pickup", 0, (Step("pickup", "Pick up the backlog", R.TASK_EXECUTION),)),
    PhaseTemplate(
        "execution",
        "Autonomous execution",
        1,
        (Step("backlog_item", "Deliver backlog item", R.TASK_EXECUTION, fan_out="items"),),
    ),
    PhaseTemplate(
        "handoff",
        "Human handoff",
        0,
        (Step("handoff", "Hand the work over for review", R.HANDOFF_COORDINATOR, (), None, True),),
    ),
    PhaseTemplate("review", "Quality review", 0, (Step(ACCEPT, "The team reviews and accepts", None),)),
)

_PHASES = {
    Service.MVP: MVP_PHASES,
    Service.MODERNIZATION: MODERNIZATION_PHASES,
    Service.AUGMENTATION: AUGMENTATION_PHASES,
}


def story_items(project: Project) -> list[dict[str, Any]]:
    stories = Story.objects.filter(project=project, dropped=False).order_by("position", "pk")

    return [
        {
            "number": number,
            "story_id": story.pk,
            "title": story.title,
            "sentence": story_sentence(story.as_a, story.i_want, story.so_that),
            "i_want": story.i_want,
            "priority": story.priority,
            "points": story.points,
            "acceptance_criteria": list(story.acceptance_criteria),
        }
        for number, story in enumerate(stories, 1)
    ]


def segment_items(project: Project) -> list[dict[str, Any]]:
    """One item per phase of the assessment's migration plan (20 % of the system each)."""
    assessment = Assessment.objects.filter(project=project).first()
    phases = assessment.result.get("plan", {}).get("phases", []) if assessment else []
    return [
        {
            "number": phase["number"],
            "title": f"segment {phase['number']} ({round(phase.get('share', 0) * 100)} % of the code)",
            "modules": list(phase.get("modules", [])),
            "depends_on": list(phase.get("depends_on_phases", [])),
            "acceptance_criteria": [
                "the segment's legacy tests pass against the new implementation",
                f"rollback: {phase.get('rollback', 'switch the routing flag back')}",
            ],
        }
        for phase in phases
    ]


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


def backlog_items(project: Project) -> list[dict[str, Any]]:
    """The backlog the customer listed in the engagement notes, one line per item."""
    engagement = Engagement.objects.filter(project=project).first()
    lines = [_BULLET.sub("", line).strip() for line in (engagement.notes if engagement else "").splitlines()]
    return [
        {"number": number, "title": line, "sentence": line, "acceptance_criteria": [f"{line} — reviewed by the team"]}
        for number, line in enumerate((line for line in lines if line), 1)
    ]


def workflow_template(project: Project) -> WorkflowTemplate:
    """The template of the project's service, with the items its development phase fans out over."""
    service = Service(project.service)
    items = {Service.MVP: story_items, Service.MODERNIZATION: segment_items, Service.AUGMENTATION: backlog_items}[
        service
    ](project)
    if service is Service.AUGMENTATION and not items:
        items = [{"number": 1, "title": "the team's backlog", "sentence": "Work the backlog the team assigns"}]
    return WorkflowTemplate(name=service.value, phases=_PHASES[service], items=tuple(items))
