"""A project's history and its tasks, for any member: the full event history a page at a time
(``success.history``) and a task's page (``success.task_detail``: runs, commits, tests, log —
sanitised for customers, whole for staff)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects.access import get_project_for_member
from projects.delivery.deliverables import project_workspace
from projects.delivery.faults import customer_text
from projects.models import Project, Task
from success.dashboard import FEED_GROUPS
from success.history import KINDS, PAGE_SIZE, history_filter, history_page
from success.task_detail import task_detail_read


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@require_GET
def project_history(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    kind = history_filter(request.GET.get("kind"))
    page = history_page(project, kind=kind, before=_cursor(request.GET.get("before")))
    context = {
        "project": project,
        "page": page,
        "kinds": sorted(KINDS.items(), key=lambda item: item[1]),
        "groups": [group for group in FEED_GROUPS.values() if group.kinds is not None],
        "page_size": PAGE_SIZE,
    }
    return render(request, "success/history.html", context)


def get_task_for_member(project: Project, pk: int) -> Task:
    task = Task.objects.filter(pk=pk, project=project).select_related("phase").first()
    if task is None:
        raise Http404("No such task")
    task.project = project
    return task


@require_GET
def task_page(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    task = get_task_for_member(project, task_pk)
    staff = bool(request.user.is_staff)
    summary = str(task.output.get("summary") or "") if isinstance(task.output, dict) else ""
    context = {
        "project": project,
        "task": task,
        "summary": summary if staff else customer_text(summary),
        "blocked_reason": task.blocked_reason if staff else customer_text(task.blocked_reason),
        **task_detail_read(task, project_workspace(project), staff=staff),
    }
    return render(request, "success/task.html", context)
