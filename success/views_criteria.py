"""The account manager's decisions on acceptance criteria that are not a verified pass: waive one
with a reason the customer reads, or attach evidence that it is met (``success.criteria``).
Staff only (customers get 403); another tenant's project or story is 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from projects.access import get_project_for_member
from projects.models import Project, Story
from success.criteria import CriterionError, check_evidence_attach, check_for_row, check_waive
from success.models import CriterionCheck
from tenants.models import User


def _check(request: HttpRequest, pk: int, story_pk: int, index: int) -> tuple[Project, CriterionCheck]:
    project = get_project_for_member(request, pk)
    if not request.user.is_staff:
        raise PermissionDenied("Only your account manager decides acceptance criteria.")
    story = Story.objects.filter(pk=story_pk, project=project, dropped=False).first()
    if story is None:
        raise Http404("No such story")
    check = CriterionCheck.objects.filter(story=story, index=index).first()
    if check is None:
        if not 0 <= index < len(story.acceptance_criteria):
            raise Http404("No such criterion")
        check = check_for_row(project=project, story=story, index=index)
    return project, check


def _back(project: Project, story_pk: int) -> HttpResponse:
    return redirect(reverse("project_success", args=[project.pk]) + f"#story-{story_pk}")


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_POST
def criterion_waive(request: HttpRequest, pk: int, story_pk: int, index: int) -> HttpResponse:
    project, check = _check(request, pk, story_pk, index)
    try:
        check_waive(check=check, user=_user(request), reason=request.POST.get("reason", ""))
    except CriterionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Waived; the customer sees your reason next to the criterion.")
    return _back(project, story_pk)


@require_POST
def criterion_evidence(request: HttpRequest, pk: int, story_pk: int, index: int) -> HttpResponse:
    project, check = _check(request, pk, story_pk, index)
    try:
        check_evidence_attach(check=check, user=_user(request), evidence=request.POST.get("evidence", ""))
    except CriterionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Evidence attached.")
    return _back(project, story_pk)
