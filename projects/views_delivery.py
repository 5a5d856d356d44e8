"""Human-in-the-loop pages of a running delivery: the customer's approvals, and the account
manager's controls (pause, resume, cancel a project; hold, release, re-run, cancel a task).

Approvals are an owner's decision. The controls are for staff (account managers), who reach a
portal only through the audited staff entry of ``tenants.middleware``; customers get 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from projects.access import get_project_for_member
from projects.delivery import controls, orchestration
from projects.delivery.controls import PROJECT_CONTROLS, TASK_CONTROLS
from projects.delivery.workflow import ACCEPT
from projects.models import Project, Task
from tenants.models import Role, User
from tenants.reauth import recent_auth_required


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _task_of(project: Project, task_pk: int) -> Task:
    task = Task.objects.filter(pk=task_pk, project=project).first()
    if task is None:
        raise Http404("No such task")
    return task


def _staff_only(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only your account manager can do this.")


@require_POST
@recent_auth_required  # approving the delivery charges its final milestone
def task_approve(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.OWNER)
    task = _task_of(project, task_pk)
    if task.key == ACCEPT and request.POST.get("confirm") != "yes":
        # Accepting closes the delivery and charges its last milestone: only with what it closes
        # read and confirmed (the decision page lists it and sends confirm=yes).
        messages.error(request, "Read what accepting the delivery closes and confirm it before approving.")
        return redirect("project_detail", pk=project.pk)
    try:
        controls.task_approve(task=task, user=_user(request))
    except orchestration.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Approved: {task.title}. The agents carry on.")
    return redirect("project_detail", pk=project.pk)


@require_POST
def project_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    project = get_project_for_member(request, pk)
    _staff_only(request)
    control = PROJECT_CONTROLS.get(action)
    if control is None:
        raise Http404("No such control")
    try:
        control(project=project, user=_user(request))
    except orchestration.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Project {action}d." if action != "cancel" else "Project cancelled.")
    return redirect("project_detail", pk=project.pk)


@require_POST
def task_control(request: HttpRequest, pk: int, task_pk: int, action: str) -> HttpResponse:
    project = get_project_for_member(request, pk)
    _staff_only(request)
    control = TASK_CONTROLS.get(action)
    if control is None or action == "cancel":  # cancelling needs a reason: ``views_scope.task_drop``
        raise Http404("No such control")
    task = _task_of(project, task_pk)
    try:
        control(task=task, user=_user(request))
    except orchestration.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{task.title}: {action} done.")
    return redirect("project_detail", pk=project.pk)
