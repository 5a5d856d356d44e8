"""The one way success views reach tenant-owned rows: by id within the current schema, checked
against the project (or the portal) the user may see; anything else is a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from projects.models import Project, Story
from success.models import DailySummary, Survey, WeeklyBriefing
from tenants.access import require_role
from tenants.models import Role


def get_story_for_decision(request: HttpRequest, project: Project, pk: int) -> Story:
    story = Story.objects.filter(pk=pk, project=project, dropped=False).first()
    if story is None:
        raise Http404("No such story")
    story.project = project
    return story


def get_survey_for_member(request: HttpRequest, project: Project, pk: int) -> Survey:
    survey = Survey.objects.filter(pk=pk, project=project).select_related("phase").first()
    if survey is None:
        raise Http404("No such survey")
    survey.project = project
    return survey


def get_summary_for_member(request: HttpRequest, pk: int) -> DailySummary:
    require_role(request, Role.VIEWER)
    summary = DailySummary.objects.filter(pk=pk).select_related("project").first()
    if summary is None:
        raise Http404("No such summary")
    return summary


def get_briefing_for_member(request: HttpRequest, pk: int) -> WeeklyBriefing:
    require_role(request, Role.VIEWER)
    briefing = WeeklyBriefing.objects.filter(pk=pk).first()
    if briefing is None:
        raise Http404("No such briefing")
    return briefing
