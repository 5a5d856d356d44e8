"""The small-code-base notice of a modernization (``projects.scoping.migration_minimum``) for the
assessment and quote pages: ``{% assessment_below_minimum r project as below %}``,
``{% quote_below_minimum quote project as below %}``, then ``projects/_small_codebase.html``."""

from __future__ import annotations

from typing import Any

from django import template

from projects.models import Project, Quote
from projects.scoping import migration_minimum
from projects.scoping.migration_minimum import BelowMinimum

register = template.Library()


@register.simple_tag
def assessment_below_minimum(result: Any, project: Project) -> BelowMinimum | None:
    return migration_minimum.assessment_notice(project=project, result=result)


@register.simple_tag
def quote_below_minimum(quote: Quote, project: Project) -> BelowMinimum | None:
    return migration_minimum.fixed_schedule_refusal(quote=quote, project=project)


@register.simple_tag
def assessment_priced_fixed(result: Any) -> bool:
    """Whether the assessment's phases carry the fixed schedule's prices (at or above the minimum)."""
    return isinstance(result, dict) and migration_minimum.assessment_below_minimum(result) is None
