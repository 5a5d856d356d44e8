"""The projects app's models: scoping (`projects.models.scoping`: projects, stories, assessments,
engagements, repository connections, quotes, scheduled payments) and delivery
(`projects.models.delivery`: workflows, phases, tasks, runs, events, scope changes).
``from projects.models import X`` keeps working for every model."""

from projects.models.delivery import (
    NOT_BUILT_LABEL,
    SKIPPED_LABEL,
    Event,
    EventImmutableError,
    Phase,
    Run,
    ScopeChange,
    Task,
    Workflow,
)
from projects.models.scoping import (
    Assessment,
    Engagement,
    Project,
    Quote,
    QuoteLockedError,
    RepositoryConnection,
    ScheduledPayment,
    Service,
    Story,
)

__all__ = [
    "NOT_BUILT_LABEL",
    "SKIPPED_LABEL",
    "Assessment",
    "Engagement",
    "Event",
    "EventImmutableError",
    "Phase",
    "Project",
    "Quote",
    "QuoteLockedError",
    "RepositoryConnection",
    "Run",
    "ScheduledPayment",
    "ScopeChange",
    "Service",
    "Story",
    "Task",
    "Workflow",
]
