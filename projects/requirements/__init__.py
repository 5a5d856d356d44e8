"""Requirements analysis: what a customer sends → user stories, detected features.

This package owns the rules that turn a customer's requirements into `UserStory` values and a
`Features` summary (integrations, AI/ML needs, real-time needs). It is pure Python: no ORM, no
I/O; reading uploaded files is `projects.documents`, choosing a tier is `projects.scoping`.

- `model`: the values (stories, priorities, integrations, features) and `RequirementsError`;
- `grammar`: the one story sentence every page, e-mail and PDF shows (`story_sentence`);
- `features`: integrations, AI/ML and real-time needs found in text;
- `estimate`: MoSCoW priority, story points, building a story (`make_story`);
- `syntax`: the line shapes the parser recognises;
- `nfr`: non-functional requirements (performance, languages, data location, …);
- `drafts`, `tables`: a story's parts from a sentence, list item, prose sentence or table row;
- `parser`: text → stories (`analyse_requirements`), one method per kind of line.

Callers import from the package, not its modules.
"""

from projects.requirements.estimate import (
    complexity_categories,
    detect_priority,
    estimate_points,
    make_story,
)
from projects.requirements.features import RequirementsAnalysis, detect_features, features_of_stories
from projects.requirements.grammar import indefinite_article, story_sentence
from projects.requirements.model import (
    DEFAULT_EPIC,
    DEFAULT_ROLE,
    FIBONACCI_POINTS,
    MAX_REQUIREMENTS_CHARS,
    NO_FEATURES,
    Features,
    Integration,
    IntegrationKind,
    Priority,
    RequirementsError,
    UnrecognisedColumns,
    UserStory,
)
from projects.requirements.nfr import NfrKind, NonFunctional, requested_page_load_seconds
from projects.requirements.parser import analyse_requirements
from projects.requirements.tables import COLUMN_CHOICES

__all__ = [
    "COLUMN_CHOICES",
    "DEFAULT_EPIC",
    "DEFAULT_ROLE",
    "FIBONACCI_POINTS",
    "MAX_REQUIREMENTS_CHARS",
    "NO_FEATURES",
    "Features",
    "Integration",
    "IntegrationKind",
    "NfrKind",
    "NonFunctional",
    "Priority",
    "RequirementsAnalysis",
    "RequirementsError",
    "UnrecognisedColumns",
    "UserStory",
    "analyse_requirements",
    "complexity_categories",
    "detect_features",
    "detect_priority",
    "estimate_points",
    "features_of_stories",
    "indefinite_article",
    "make_story",
    "requested_page_load_seconds",
    "story_sentence",
]
