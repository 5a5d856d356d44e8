"""The one way views reach a project: by id within the current tenant's schema, with role checks.

The schema already confines queries to this customer; a project id of another customer simply
does not exist here and gives a 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from projects.models import Project, Quote, Story
from tenants.access import require_role
from tenants.models import Role


def get_project_for_member(request: HttpRequest, pk: int, *, role: Role = Role.VIEWER) -> Project:
    require_role(request, role)
    project = Project.objects.filter(pk=pk).first()
    if project is None:
        raise Http404("No such project")
    return project


def get_story_for_member(request: HttpRequest, project: Project, pk: int) -> Story:
    story = Story.objects.filter(pk=pk, project=project).first()
    if story is None:
        raise Http404("No such story")
    story.project = project
    return story


def get_quote_for_member(request: HttpRequest, project: Project, number: int) -> Quote:
    quote = Quote.objects.filter(project=project, number=number).first()
    if quote is None:
        raise Http404("No such quote")
    quote.project = project
    return quote
