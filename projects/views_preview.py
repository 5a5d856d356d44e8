"""The project page's preview controls: open the running preview (a token hand-over to its own
origin, projects.delivery.previews) and start it again after it stopped."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from agents.previews import preview_get
from projects.access import get_project_for_member
from projects.delivery import previews
from tenants.models import Role, User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_GET
def preview_open(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    if preview_get(previews.project_preview_home(project)) is None:
        messages.info(request, "The preview is not running. Start it again below.")
        return redirect("project_detail", pk=project.pk)
    response = redirect(previews.preview_enter_url(request=request, project=project, user=_user(request)))
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def preview_start(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER)
    try:
        previews.project_preview_start(project=project, user=_user(request))
    except previews.PreviewUnavailable as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The preview is starting; it opens from here in a few seconds.")
    return redirect("project_detail", pk=project.pk)
