"""The customer's decisions in the portal: the plan read as HTML (``project_plan``), one decision
with what it decides and what it closes (``decision_page``), and giving it (``decision_approve``).

Approving is an owner's act and needs a recent login (it can charge a milestone). An approval
that closes something (``success.decisions.CLOSING_KEYS``) is refused unless its form confirmed
the consequences the decision page lists: a form elsewhere (the dashboard, the project page)
only links to that page. Where the person goes afterwards is a name (``next``: dashboard or
project), never a URL, so the form cannot redirect anywhere else.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from projects.access import get_project_for_member
from projects.delivery import controls, orchestration
from projects.delivery.deliverables import project_workspace
from projects.delivery.uat import UatReport
from projects.models import Project, Task
from success import acceptance, plan_docs
from success.decisions import Decision, decision_find
from success.forms import UatReportForm
from tenants.access import portal_role
from tenants.models import Role, User
from tenants.reauth import recent_auth_required

_NEXT = {"dashboard": "project_dashboard", "project": "project_detail"}


def _plan_context(project: Project, path: str | None) -> dict[str, object]:
    workspace = project_workspace(project)
    documents = plan_docs.documents_list(workspace)
    current = next((d for d in documents if d.path == path), None) if path else (documents[0] if documents else None)
    if path and current is None:
        raise Http404("No such document")
    return {
        "documents": documents,
        "document": current,
        "document_html": plan_docs.document_html(workspace, current) if current is not None else "",
        "max_kib": plan_docs.MAX_BYTES // 1024,
    }


@require_GET
def project_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The repository's documents (requirements, architecture, ADRs, sprints…) as HTML."""
    project = get_project_for_member(request, pk)
    context = {"project": project, **_plan_context(project, request.GET.get("doc"))}
    return render(request, "success/plan.html", context)


def _decision_of(project: Project, task_pk: int) -> Decision:
    decision = decision_find(project, task_pk)
    if decision is None:
        raise Http404("No such decision")
    return decision


def _uat_context(project: Project, form: UatReportForm | None) -> dict[str, object]:
    """What the testers tried: the segments' change notes and the parity report, and the form."""
    documents = plan_docs.documents_list(project_workspace(project))
    first = next((d.path for d in documents if d.path.startswith("docs/modernization/")), None)
    return {**_plan_context(project, first), "documents_shown": True, "uat_form": form or UatReportForm()}


@require_GET
def decision_page(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    return _decision_render(request, pk, task_pk)


def _decision_render(
    request: HttpRequest, pk: int, task_pk: int, uat_form: UatReportForm | None = None
) -> HttpResponse:
    project = get_project_for_member(request, pk)
    if not Task.objects.filter(pk=task_pk, project=project, kind=Task.Kind.APPROVAL).exists():
        raise Http404("No such decision")
    decision = decision_find(project, task_pk)
    context: dict[str, object] = {
        "project": project,
        "decision": decision,
        "is_owner": portal_role(request) == Role.OWNER,
        "next": request.GET.get("next") if request.GET.get("next") in _NEXT else "project",
    }
    if decision is not None and decision.about_plan:
        context.update(_plan_context(project, None))
        context["documents_shown"] = True
    if decision is not None and decision.about_uat:
        context.update(_uat_context(project, uat_form))
    if decision is not None and decision.closes:
        context["stories"] = acceptance.story_acceptance_rows(project)
        context["acceptance"] = acceptance.acceptance_summary(project)
    return render(request, "success/decision.html", context)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@recent_auth_required  # accepting the delivery charges its final milestone
def decision_approve(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.OWNER)
    if not Task.objects.filter(pk=task_pk, project=project, kind=Task.Kind.APPROVAL).exists():
        raise Http404("No such decision")
    page = reverse("decision_page", args=[project.pk, task_pk])
    decision = decision_find(project, task_pk)
    if decision is None:
        messages.error(request, "This is not waiting for your approval any more.")
        return _done(request, page)
    if decision.closes and request.POST.get("confirm") != "yes":
        messages.error(request, "Read what this approval closes and confirm it before approving.")
        return _done(request, page)
    report: UatReport | None = None
    if decision.about_uat:
        form = UatReportForm(request.POST)
        if not form.is_valid():
            shown = _decision_render(request, pk, task_pk, uat_form=form)
            shown.status_code = 400  # shown again with what was typed; nothing recorded
            return shown
        report = form.cleaned_data["report"]
    task = Task.objects.get(pk=task_pk, project=project)
    assert isinstance(request.user, User)
    try:
        controls.task_approve(task=task, user=request.user, uat=report)
    except orchestration.WorkflowError as error:
        messages.error(request, str(error))
        return _done(request, page)
    if decision.closes:
        messages.success(request, "Delivery accepted: the project is complete and the success guarantee has started.")
    elif report is not None:
        messages.success(request, f"Recorded: {report.sentence()}. The quality gates read it now.")
    else:
        messages.success(request, f"Approved: {decision.title}. The agents carry on.")
    return _done(request, reverse(_NEXT.get(request.POST.get("next", ""), "project_detail"), args=[project.pk]))
