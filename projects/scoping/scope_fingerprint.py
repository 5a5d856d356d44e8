"""What a quote was priced on, as one digest: a quote is accepted only for the scope it froze.

A red team found that a modernization's code could be uploaded again after its quote was made —
an account manager's $60,000 custom quote for 334 lines was then accepted for 30,334 lines, and a
fixed five-phase quote for 30,334 lines for a 341-line code base (around the small-code-base rule)
— because acceptance checked the quote, not that the scope under it was still the one quoted. The
same held for stories edited after an MVP quote and for an engagement changed after its quote.

``scope_fingerprint`` digests what decides the price and the plan of each service — the stories
(with their criteria) and non-functional requirements of an MVP, the assessment (its source, time
and figures) of a modernization, the engagement's terms of an augmentation — and every quote
version records it when it is made (``projects.scoping.quotes``). ``quote_acceptable`` refuses a
quote whose recorded digest is not the scope's current one: the customer gets a new version (or
asks the account manager again). A quote made before digests were recorded carries none and is
judged as before.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from projects.models import Assessment, Engagement, Project, Service, Story

KEY = "scope_fingerprint"


def _scope_data(project: Project) -> dict[str, Any]:
    if project.service == Service.MODERNIZATION:
        assessment = Assessment.objects.filter(project=project).first()
        if assessment is None:
            return {"assessment": None}
        return {
            "source": assessment.source,
            "at": assessment.created_at.isoformat(),
            "result": assessment.result,
        }
    if project.service == Service.AUGMENTATION:
        engagement = Engagement.objects.filter(project=project).values(
            "kind", "sprints", "sprint_weeks", "months", "team_size", "skills", "notes"
        )
        return {"engagement": list(engagement)}
    stories = Story.objects.filter(project=project).order_by("position", "pk")
    return {
        "stories": list(
            stories.values_list("title", "as_a", "i_want", "so_that", "priority", "points", "acceptance_criteria")
        ),
        "non_functional": project.non_functional,
        "features": project.context_features,
    }


def scope_fingerprint(project: Project) -> str:
    text = json.dumps(_scope_data(project), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def scope_changed_since(snapshot: dict[str, Any], project: Project) -> bool:
    """True when the quote with ``snapshot`` was made for a scope that has changed since."""
    recorded = snapshot.get(KEY)
    return isinstance(recorded, str) and recorded != scope_fingerprint(project)
