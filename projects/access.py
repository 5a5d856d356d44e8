"""The one way views reach a project: by id within the current tenant's schema, with role checks.

The schema already confines queries to this customer; a project id of another customer simply
does not exist here and gives a 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from projects.models import Project, Quote, Service, Story
from tenants.access import require_role
from tenants.models import Role


def get_project_for_member(
    request: HttpRequest, pk: int, *, role: Role = Role.VIEWER, service: Service | None = None
) -> Project:
    """The project ``pk`` for a user of at least ``role``; with ``service``, only a project of that
    service (a step of another service's wizard does not exist for it)."""
    require_role(request, role)
    projects = Project.objects.filter(pk=pk)
    if service is not None:
        projects = projects.filter(service=service)
    project = projects.first()
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
