"""The agent roles the seed names, per service, with their skills and default pool sizes.

This module owns the catalogue: which roles exist, what each one is good at, and how many agents
a fresh platform gives each role's pool (the seed: 3–5 full-stack developers per MVP, 5–8
modernization developers, one of each other role). Pool sizes are changed in the admin; these
are only the defaults. ``noop`` is not a seed role: it does nothing and exists so the benchmark
can measure the orchestration itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    REQUIREMENTS_ANALYST = "requirements_analyst"
    SOLUTION_ARCHITECT = "solution_architect"
    FULLSTACK_DEVELOPER = "fullstack_developer"
    QA_ENGINEER = "qa_engineer"
    DEVOPS = "devops"
    LEGACY_ANALYST = "legacy_analyst"
    MIGRATION_ARCHITECT = "migration_architect"
    MODERNIZATION_DEVELOPER = "modernization_developer"
    TESTING_SPECIALIST = "testing_specialist"
    COMPLIANCE_VALIDATOR = "compliance_validator"
    TEAM_INTEGRATION = "team_integration"
    TASK_EXECUTION = "task_execution"
    HANDOFF_COORDINATOR = "handoff_coordinator"
    SUCCESS_METRICS = "success_metrics"
    COMMUNICATION_ORCHESTRATOR = "communication_orchestrator"
    PERFORMANCE_ANALYTICS = "performance_analytics"
    NOOP = "noop"


@dataclass(frozen=True, slots=True)
class RoleSpec:
    role: Role
    name: str
    services: tuple[str, ...]
    skills: tuple[str, ...]
    default_pool_size: int


MVP, MODERNIZATION, AUGMENTATION, SUCCESS = "mvp", "modernization", "augmentation", "success"

ROLES: dict[Role, RoleSpec] = {
    spec.role: spec
    for spec in (
        RoleSpec(
            Role.REQUIREMENTS_ANALYST,
            "Requirements analyst",
            (MVP,),
            (
                "stakeholder interview processing",
                "business logic extraction and validation",
                "user story generation and prioritization",
                "acceptance criteria definition",
            ),
            1,
        ),
        RoleSpec(
            Role.SOLUTION_ARCHITECT,
            "Solution architect",
            (MVP,),
            (
                "technology stack recommendation from requirements",
                "scalability and performance planning",
                "integration architecture design",
                "security and compliance framework setup",
            ),
            1,
        ),
        RoleSpec(
            Role.FULLSTACK_DEVELOPER,
            "Full-stack developer",
            (MVP,),
            (
                "frontend development",
                "backend API development",
                "database design and implementation",
                "third-party service integration",
            ),
            5,
        ),
        RoleSpec(
            Role.QA_ENGINEER,
            "QA engineer",
            (MVP,),
            (
                "test case generation from requirements",
                "automated testing implementation",
                "performance and security testing",
                "bug detection and resolution coordination",
            ),
            1,
        ),
        RoleSpec(
            Role.DEVOPS,
            "DevOps engineer",
            (MVP,),
            (
                "CI/CD pipeline setup and optimization",
                "cloud infrastructure provisioning",
                "monitoring and alerting configuration",
                "production deployment automation",
            ),
            1,
        ),
        RoleSpec(
            Role.LEGACY_ANALYST,
            "Legacy analyst",
            (MODERNIZATION,),
            (
                "automated code scanning and dependency mapping",
                "business logic extraction and documentation",
                "technical debt quantification and prioritization",
                "modernization effort estimation",
            ),
            1,
        ),
        RoleSpec(
            Role.MIGRATION_ARCHITECT,
            "Migration architect",
            (MODERNIZATION,),
            (
                "incremental migration strategy development",
                "data migration planning and validation",
                "API compatibility layer design",
                "rollback and disaster recovery planning",
            ),
            1,
        ),
        RoleSpec(
            Role.MODERNIZATION_DEVELOPER,
            "Modernization developer",
            (MODERNIZATION,),
            (
                "microservices architecture implementation",
                "API development and integration",
                "database modernization and optimization",
                "security hardening and compliance",
            ),
            8,
        ),
        RoleSpec(
            Role.TESTING_SPECIALIST,
            "Testing specialist",
            (MODERNIZATION,),
            (
                "legacy system behavior replication",
                "regression testing automation",
                "performance benchmarking",
                "user acceptance testing coordination",
            ),
            1,
        ),
        RoleSpec(
            Role.COMPLIANCE_VALIDATOR,
            "Compliance validator",
            (MODERNIZATION,),
            (
                "regulatory requirement mapping",
                "audit trail generation and maintenance",
                "security control implementation",
                "compliance reporting automation",
            ),
            1,
        ),
        RoleSpec(
            Role.TEAM_INTEGRATION,
            "Team integration agent",
            (AUGMENTATION,),
            (
                "existing workflow analysis and mapping",
                "tool integration and setup",
                "team communication protocol establishment",
                "performance baseline measurement",
            ),
            1,
        ),
        RoleSpec(
            Role.TASK_EXECUTION,
            "Task execution agent",
            (AUGMENTATION,),
            (
                "specialized work matching team skills",
                "task pickup from existing backlog systems",
                "development work using team standards",
                "progress reporting in team formats",
            ),
            3,
        ),
        RoleSpec(
            Role.HANDOFF_COORDINATOR,
            "Handoff coordinator",
            (AUGMENTATION,),
            (
                "work transition to human team members",
                "code review and approval workflows",
                "knowledge transfer and documentation",
                "conflict resolution and escalation",
            ),
            1,
        ),
        RoleSpec(
            Role.SUCCESS_METRICS,
            "Success metrics agent",
            (SUCCESS,),
            (
                "customer success criteria definition",
                "baseline measurement and documentation",
                "progress tracking automation",
                "success validation and certification",
            ),
            1,
        ),
        RoleSpec(
            Role.COMMUNICATION_ORCHESTRATOR,
            "Communication orchestrator",
            (SUCCESS,),
            (
                "automated status update generation",
                "stakeholder communication scheduling",
                "escalation trigger monitoring",
                "customer feedback collection",
            ),
            1,
        ),
        RoleSpec(
            Role.PERFORMANCE_ANALYTICS,
            "Performance analytics agent",
            (SUCCESS,),
            (
                "real-time metrics calculation",
                "trend analysis and prediction",
                "risk identification and mitigation",
                "ROI calculation and reporting",
            ),
            1,
        ),
        RoleSpec(Role.NOOP, "No-op agent (benchmarks)", (), ("does nothing, instantly",), 1),
    )
}
