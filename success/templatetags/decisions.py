"""``{% decisions_block project "project" %}``: the decisions waiting on the customer
(``success.decisions``) for a page of a lower app (the project page of ``projects``), which cannot
import ``success`` itself; a template names the tag, no Python import goes upward."""

from __future__ import annotations

from typing import Any

from django import template

from projects.models import Project
from success.decisions import decisions_read

register = template.Library()


@register.inclusion_tag("success/_decisions.html")
def decisions_block(project: Project, decision_next: str = "project") -> dict[str, Any]:
    return {"project": project, "decisions": decisions_read(project), "decision_next": decision_next, "oob": False}
