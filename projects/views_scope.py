"""Scope during a delivery, on the project page: stories the built-in developers cannot build (shown
on the plan the customer approves), paid scope dropped with its reason and the owner's consent,
and the account manager's actions on them (drop with a reason, give a story to the ``llm``
provider, correct a story and re-run it). Owners consent; staff act; everyone else gets 403, and
another tenant's user 404 (``get_project_for_member``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from projects.access import get_project_for_member
from projects.delivery import orchestration
from projects.delivery.scope_changes import ScopeChangeError, scope_consent, scope_drop, story_drop
from projects.delivery.story_gaps import PlanItemError, story_correct, story_to_llm
from projects.models import Project, ScopeChange, Story, Task, Workflow
from tenants.models import Role, User

ACTION_ERRORS = (ScopeChangeError, PlanItemError, orchestration.WorkflowError)


def scope_context(project: Project) -> dict[str, Any]:
    """What the project page shows of the delivery's scope, and the status it says."""
    changes = list(ScopeChange.objects.filter(project=project).order_by("dropped_at", "pk"))
    workflow = Workflow.objects.filter(project=project).first()
    blocked = Task.objects.filter(project=project, status=Task.Status.BLOCKED).order_by("blocked_since").first()
    gaps = [s for s in project.stories.all() if s.gap and not s.dropped]
    status = workflow.delivery_label if workflow is not None else ""
    if workflow is not None and workflow.is_active and blocked is not None:
        status = "Blocked"
    elif workflow is not None and workflow.status == Workflow.Status.COMPLETED:
        if gaps or any(not c.consented for c in changes):
            status = "Delivered — paid scope missing, awaiting your decision"
        elif changes:
            status = "Completed with reduced scope"
    return {
        "gap_stories": gaps,
        "scope_changes": changes,
        "scope_unconsented": [c for c in changes if not c.consented],
        "blocked_task": blocked,
        "delivery_status": status,
    }


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _staff_only(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only your account manager can do this.")


def _story_of(project: Project, story_pk: int) -> Story:
    story = Story.objects.filter(pk=story_pk, project=project).first()
    if story is None:
        raise Http404("No such story")
    return story


def _done(request: HttpRequest, project: Project, success: str, action: Any) -> HttpResponse:
    try:
        action()
    except ACTION_ERRORS as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("project_detail", pk=project.pk)


@require_POST
def scope_change_consent(request: HttpRequest, pk: int, change_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.OWNER)
    change = ScopeChange.objects.filter(pk=change_pk, project=project).first()
    if change is None:
        raise Http404("No such scope change")
    return _done(
        request, project, "Your consent is recorded.", lambda: scope_consent(change=change, user=_user(request))
    )


@require_POST
def task_drop(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    _staff_only(request)
    task = Task.objects.filter(pk=task_pk, project=project).first()
    if task is None:
        raise Http404("No such task")
    reason = request.POST.get("reason", "")
    return _done(
        request,
        project,
        f"Cancelled: {task.title}. The owners were told why.",
        lambda: scope_drop(task=task, user=_user(request), reason=reason),
    )


@require_POST
def story_drop_view(request: HttpRequest, pk: int, story_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    _staff_only(request)
    story = _story_of(project, story_pk)
    reason = request.POST.get("reason", "")
    return _done(
        request,
        project,
        f"“{story.title}” is out of the scope. The owners were told why.",
        lambda: story_drop(story=story, user=_user(request), reason=reason),
    )


@require_POST
def story_llm(request: HttpRequest, pk: int, story_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    _staff_only(request)
    story = _story_of(project, story_pk)
    return _done(
        request,
        project,
        f"“{story.title}” goes to the language-model provider.",
        lambda: story_to_llm(story=story, user=_user(request)),
    )


@require_POST
def story_correct_view(request: HttpRequest, pk: int, story_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    _staff_only(request)
    story = _story_of(project, story_pk)
    title, i_want = request.POST.get("title", ""), request.POST.get("i_want", "")
    criteria = request.POST.get("criteria", "").splitlines()
    return _done(
        request,
        project,
        f"“{title.strip() or story.title}” corrected; its work runs again.",
        lambda: story_correct(story=story, user=_user(request), title=title, i_want=i_want, criteria=criteria),
    )
