"""The account managers' customer-success pages in the staff admin (public site, ``/admin/success/``).

Success records live in the customers' schemas, which the admin's model pages cannot list across
customers; these pages read each schema in turn and act inside the one a row belongs to. They are
wrapped by ``admin.site.admin_view`` (staff only, the admin's login) and linked from the admin's
index page.

* ``/admin/success/`` — the operator view (``success.operator``) and what waits for a decision;
* ``/admin/success/escalations/`` — escalations across customers with their status, and one
  escalation's page to acknowledge or resolve it;
* ``/admin/success/projects/<schema>/<id>/`` — a project's delivery (pause, resume or cancel it;
  hold, release, re-run or cancel a task: ``projects.delivery.controls``), gates (waive one, with the
  reason), guarantee (assess again, confirm the refund, decline it with the reason) and metrics
  (record a measurement or a baseline with its source).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_tenants.utils import get_public_schema_name, schema_context

from projects.delivery.controls import (
    PROJECT_CONTROLS,
    TASK_CONTROLS,
    project_controls_open,
    tasks_to_control,
    workflow_configure,
)
from projects.delivery.job_spec import project_spent
from projects.delivery.orchestration import WorkflowError
from projects.models import Phase, Project, Task, Workflow
from success import gates, guarantee
from success.escalations import EscalationError, escalation_acknowledge, escalation_resolve
from success.forms import (
    AgentSettingsForm,
    EscalationResolveForm,
    GateWaiverForm,
    GuaranteeDecisionForm,
    MeasurementForm,
)
from success.metrics import MetricError, measurement_record, metrics_ensure
from success.models import Escalation, GateRun, GateWaiver, Guarantee, GuaranteeAssessment, Measurement
from success.operator import operator_view
from tenants.models import Customer, User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _customer(schema: str) -> Customer:
    customer: Customer | None = (
        Customer.objects.exclude(schema_name=get_public_schema_name()).filter(schema_name=schema).first()
    )
    if customer is None:
        raise Http404("No such customer")
    return customer


def _page(request: HttpRequest, template: str, title: str, **context: Any) -> HttpResponse:
    return render(request, f"admin/success/{template}", {**admin.site.each_context(request), "title": title, **context})


def operator(request: HttpRequest) -> HttpResponse:
    return _page(request, "operator.html", "Customer success", view=operator_view())


STATUS_FILTERS = {
    "unresolved": [Escalation.Status.OPEN, Escalation.Status.ACKNOWLEDGED],
    "resolved": [Escalation.Status.RESOLVED],
}


def escalations(request: HttpRequest) -> HttpResponse:
    shown = request.GET.get("status", "unresolved")
    statuses = STATUS_FILTERS.get(shown, STATUS_FILTERS["unresolved"])
    rows: list[tuple[Customer, Escalation]] = []
    for customer in Customer.objects.exclude(schema_name=get_public_schema_name()).order_by("name"):
        with schema_context(customer.schema_name):
            rows += [(customer, e) for e in Escalation.objects.filter(status__in=statuses).select_related("project")]
    rows.sort(key=lambda row: row[1].created_at, reverse=True)
    return _page(request, "escalations.html", "Escalations", rows=rows, shown=shown)


@require_http_methods(["GET", "POST"])
def escalation(request: HttpRequest, schema: str, pk: int) -> HttpResponse:
    customer = _customer(schema)
    with schema_context(schema):
        item = Escalation.objects.filter(pk=pk).select_related("project").first()
        if item is None:
            raise Http404("No such escalation")
        form = EscalationResolveForm(request.POST if request.POST.get("action") == "resolve" else None)
        if request.method == "POST":
            try:
                if request.POST.get("action") == "acknowledge":
                    escalation_acknowledge(escalation=item, user=_user(request))
                    messages.success(request, "Acknowledged.")
                    return redirect(request.path)
                if form.is_valid():
                    escalation_resolve(escalation=item, user=_user(request), resolution=form.cleaned_data["resolution"])
                    messages.success(request, "Resolved.")
                    return redirect(reverse("success_admin_escalations"))
            except EscalationError as error:
                messages.error(request, str(error))
        return _page(
            request,
            "escalation.html",
            f"Escalation: {item.get_kind_display()}",
            customer=customer,
            item=item,
            form=form,
        )


def _project_context(project: Project, request: HttpRequest) -> dict[str, Any]:
    blocked = [
        {
            "phase": phase,
            "form": GateWaiverForm(
                gates=[(g.code, g.criterion.description) for g in gates.gates_for(project.service, phase.key)]
            ),
        }
        for phase in Phase.objects.filter(project=project, status=Phase.Status.BLOCKED)
    ]
    pledge = Guarantee.objects.filter(project=project).first()
    metrics = metrics_ensure(project)
    workflow = Workflow.objects.filter(project=project).first()
    return {
        "project": project,
        "workflow": workflow,
        "project_controls": project_controls_open(workflow) if workflow else [],
        "agent_form": AgentSettingsForm(initial={"provider": workflow.provider, **workflow.llm}) if workflow else None,
        "spent": project_spent(project.pk),
        "control_tasks": tasks_to_control(project) if workflow else [],
        "blocked": blocked,
        "runs": list(
            GateRun.objects.filter(project=project)
            .select_related("phase")
            .prefetch_related("results")
            .order_by("-evaluated_at")[:10]
        ),
        "waivers": list(GateWaiver.objects.filter(project=project).select_related("phase")),
        "guarantee": pledge,
        "conditions": guarantee.conditions_check(project) if pledge else [],
        "decision_form": GuaranteeDecisionForm(),
        "metrics": list(metrics.values()),
        "measurements": list(
            Measurement.objects.filter(metric__project=project).select_related("metric").order_by("-measured_at")[:30]
        ),
        "measurement_form": MeasurementForm(metrics=[(m.code, m.description) for m in metrics.values()]),
        "escalations": list(Escalation.objects.filter(project=project)[:20]),
    }


def _control(request: HttpRequest, project: Project) -> str:
    """An account manager's control of the delivery or of one of its tasks."""
    name, task_id = request.POST.get("control", ""), request.POST.get("task", "")
    if task_id:
        task = Task.objects.filter(project=project, pk=int(task_id)).first() if task_id.isdigit() else None
        if task is None or name not in TASK_CONTROLS:
            raise Http404("No such task control")
        TASK_CONTROLS[name](task=task, user=_user(request))
        return f"“{task.title}”: {name} done; recorded in the project's history with your name."
    if name not in PROJECT_CONTROLS:
        raise Http404("No such control")
    workflow = PROJECT_CONTROLS[name](project=project, user=_user(request))
    return f"The delivery is now {workflow.get_status_display().lower()}."


def _act(request: HttpRequest, project: Project) -> str:
    """Carry out the posted action; returns the message to show."""
    user = _user(request)
    action = request.POST.get("action", "")
    if action == "control":
        return _control(request, project)
    if action == "configure":
        settings_form = AgentSettingsForm(request.POST)
        if not settings_form.is_valid():
            raise WorkflowError(f"The agent settings were not saved: {settings_form.errors.as_text()}")
        configured = workflow_configure(
            project=project, provider=settings_form.cleaned_data["provider"], llm=settings_form.llm(), user=user
        )
        return f"Agents set to {configured.provider or 'the platform default'}; tasks not yet running use them."
    if action == "waive":
        phase_id = request.POST.get("phase", "")
        phase = Phase.objects.filter(project=project, pk=int(phase_id)).first() if phase_id.isdigit() else None
        if phase is None:
            raise Http404("No such phase")
        choices = [(g.code, g.criterion.description) for g in gates.gates_for(project.service, phase.key)]
        form = GateWaiverForm(request.POST, gates=choices)
        if not form.is_valid():
            raise gates.GateWaiverError("Choose the gate and write the reason.")
        gates.gate_waive(phase=phase, code=form.cleaned_data["code"], reason=form.cleaned_data["reason"], user=user)
        phase.refresh_from_db()
        return f"Waiver recorded; {phase.name} is now {phase.get_status_display().lower()}."
    if action == "measure":
        metrics = metrics_ensure(project)
        measure = MeasurementForm(request.POST, metrics=[(m.code, m.description) for m in metrics.values()])
        if not measure.is_valid():
            raise MetricError("Choose the metric, give the value and say where it comes from.")
        data = measure.cleaned_data
        measurement_record(
            metric=metrics[data["code"]],
            value=data["value"],
            source=data["source"],
            user=user,
            baseline=data["baseline"],
        )
        return "Baseline recorded." if data["baseline"] else "Measurement recorded."
    pledge = Guarantee.objects.filter(project=project).first()
    if pledge is None:
        raise guarantee.GuaranteeError("The project is not delivered: there is no guarantee yet.")
    note = request.POST.get("note", "")
    if action == "assess":
        assessment = guarantee.guarantee_assess(
            guarantee=pledge, trigger=GuaranteeAssessment.Trigger.REVIEW, actor=user.email
        )
        return f"Assessed: {assessment.get_outcome_display().lower()}."
    if action == "refund":
        pledge = guarantee.guarantee_refund_confirm(guarantee=pledge, user=user, note=note)
        return f"Refunded {pledge.refunded_cents / 100:,.2f} USD through Stripe."
    if action == "decline":
        guarantee.guarantee_refund_decline(guarantee=pledge, user=user, reason=note)
        return "Refund declined; the customer sees your reason."
    raise Http404("Unknown action")


@require_http_methods(["GET", "POST"])
def project(request: HttpRequest, schema: str, pk: int) -> HttpResponse:
    customer = _customer(schema)
    with schema_context(schema):
        item = Project.objects.filter(pk=pk).first()
        if item is None:
            raise Http404("No such project")
        if request.method == "POST":
            try:
                messages.success(request, _act(request, item))
            except (gates.GateWaiverError, guarantee.GuaranteeError, MetricError, WorkflowError) as error:
                messages.error(request, str(error))
            return redirect(request.path)
        return _page(
            request,
            "project.html",
            f"{item.name} ({customer.name})",
            customer=customer,
            **_project_context(item, request),
        )
