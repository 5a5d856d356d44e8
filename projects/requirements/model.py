"""The values requirements analysis produces: user stories, priorities, integrations, features.

Pure data (no parsing): `projects.requirements.parser` makes them, scoping and the pages read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from projects.requirements.grammar import story_sentence

MAX_REQUIREMENTS_CHARS = 5 * 1024 * 1024  # as many characters as the largest accepted upload has bytes
DEFAULT_ROLE = "user"
DEFAULT_EPIC = "General"
FIBONACCI_POINTS: tuple[int, ...] = (1, 2, 3, 5, 8, 13)


class RequirementsError(ValueError):
    """Requirements that cannot be analysed; the message is written for the customer."""


class UnrecognisedColumns(RequirementsError):
    """No story was found and a table's columns could not be recognised: `header` is the row
    found, so that the page can ask which column is which."""

    def __init__(self, message: str, header: tuple[str, ...]) -> None:
        super().__init__(message)
        self.header = header


class Priority(StrEnum):
    MUST = "must"
    SHOULD = "should"
    COULD = "could"
    WONT = "wont"

    @property
    def label(self) -> str:
        return {"must": "Must have", "should": "Should have", "could": "Could have"}.get(self.value, "Won't have")


@dataclass(frozen=True, slots=True)
class UserStory:
    epic: str
    title: str
    as_a: str
    i_want: str
    so_that: str
    priority: Priority
    points: int
    acceptance_criteria: tuple[str, ...] = ()
    source: str = ""  # the sentence, item or table row the story was read from

    @property
    def sentence(self) -> str:
        return story_sentence(self.as_a, self.i_want, self.so_that)

    @property
    def text(self) -> str:
        """Everything the story says, for feature detection."""
        return "\n".join((self.title, self.sentence, *self.acceptance_criteria))


class IntegrationKind(StrEnum):
    PAYMENT = "payment"
    EMAIL = "email"
    MAPS = "maps"
    AUTH = "auth"
    SMS = "sms"
    MESSAGING = "messaging"
    CRM = "crm"
    CALENDAR = "calendar"
    ACCOUNTING = "accounting"
    STORAGE = "storage"
    ANALYTICS = "analytics"
    DEVTOOLS = "devtools"
    COMMERCE = "commerce"
    SUPPORT = "support"
    AI = "ai"
    API = "api"


@dataclass(frozen=True, slots=True, order=True)
class Integration:
    name: str
    kind: IntegrationKind
    generic: bool = False  # a need ("send email") rather than a named provider


@dataclass(frozen=True, slots=True)
class Features:
    """What the requirements need beyond plain CRUD. `ai_ml`/`real_time` hold the evidence."""

    integrations: frozenset[Integration] = frozenset()
    ai_ml: frozenset[str] = frozenset()
    real_time: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        named_kinds = {i.kind for i in self.integrations if not i.generic}
        kept = frozenset(i for i in self.integrations if not (i.generic and i.kind in named_kinds))
        object.__setattr__(self, "integrations", kept)

    def __or__(self, other: Features) -> Features:
        return Features(
            integrations=self.integrations | other.integrations,
            ai_ml=self.ai_ml | other.ai_ml,
            real_time=self.real_time | other.real_time,
        )

    @property
    def integration_names(self) -> tuple[str, ...]:
        return tuple(sorted(i.name for i in self.integrations))

    @property
    def needs_ai_ml(self) -> bool:
        return bool(self.ai_ml)

    @property
    def needs_real_time(self) -> bool:
        return bool(self.real_time)


NO_FEATURES = Features()
