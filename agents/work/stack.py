"""The solution architect's decision table: which stack a project gets, from its requirements.

Each row is a condition on the requirements (story count, entities, features found by scoping:
integrations, real-time, AI/ML) and the decision it triggers. Every matching row becomes a line
of ``docs/architecture.md`` and an ADR. The first four rows always match: they describe what the
built-in developers generate (a standard-library WSGI application on SQLite), so the document
never promises a stack the repository does not hold. Rows that match on features record the
design for the part the generated MVP leaves to the team (an adapter boundary per integration,
a push channel, a model-serving boundary), marked as such.

| # | when | decision |
|---|---|---|
| 1 | always | Python 3.11 standard-library WSGI application, no third-party runtime dependency |
| 2 | always | SQLite through ``sqlite3``, one table per entity, records owned by their user |
| 3 | always | accounts with PBKDF2-SHA256 passwords, server-side sessions, CSRF tokens on forms |
| 4 | always | server-rendered HTML pages plus a JSON REST API per entity (bearer session tokens) |
| 5 | more than 15 stories or more than 8 entities | PostgreSQL for production (the data layer is plain DB-API) |
| 6 | per integration named | an adapter module behind an interface, faked in tests |
| 7 | real-time needs found | server-sent events endpoint fed by the write path |
| 8 | AI/ML needs found | a separate model-serving process behind an HTTP boundary |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Decision:
    number: int
    concern: str
    choice: str
    because: str
    generated: bool  # the repository holds it (False: a design for the team to build)


def decide(*, stories: int, entities: int, features: Mapping[str, Any]) -> list[Decision]:
    decisions = [
        Decision(
            1,
            "runtime",
            "Python 3.11 standard-library WSGI application",
            "no dependency to install or patch; the preview starts in well under a second",
            True,
        ),
        Decision(
            2,
            "data store",
            "SQLite (sqlite3), one table per entity, records owned by their user",
            f"{entities} entities, {stories} stories: a single-file database serves an MVP's load",
            True,
        ),
        Decision(
            3,
            "authentication",
            "PBKDF2-SHA256 passwords, server-side sessions, CSRF tokens on every form",
            "every tier needs accounts; sessions can be revoked, unlike signed cookies",
            True,
        ),
        Decision(
            4,
            "interfaces",
            "server-rendered HTML pages and a JSON REST API per entity",
            "pages for people, the API for integrations and mobile clients, both from one definition",
            True,
        ),
    ]
    if stories > 15 or entities > 8:
        decisions.append(
            Decision(
                5,
                "production database",
                "PostgreSQL",
                f"{stories} stories / {entities} entities: several writers at once outgrow one SQLite file",
                False,
            )
        )
    for integration in features.get("integrations", []):
        decisions.append(
            Decision(
                6,
                f"integration: {integration['name']}",
                f"an adapter module for {integration['name']} behind an interface, faked in tests",
                f"{integration.get('kind', 'external')} provider named in the requirements",
                False,
            )
        )
    if features.get("real_time"):
        decisions.append(
            Decision(
                7,
                "real-time updates",
                "a server-sent events endpoint fed by the write path",
                "requirements mention " + ", ".join(features["real_time"]),
                False,
            )
        )
    if features.get("ai_ml"):
        decisions.append(
            Decision(
                8,
                "AI/ML",
                "a separate model-serving process behind an HTTP boundary",
                "requirements mention " + ", ".join(features["ai_ml"]),
                False,
            )
        )
    return decisions
