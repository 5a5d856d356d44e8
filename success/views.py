"""The customer's view of delivery: the projects overview (the portal's home page), a project's
live dashboard and the dashboard's state for clients whose websocket is down (polling); a
project's success page (quality gates and waivers, story acceptance, satisfaction surveys, success
metrics and the 30-day guarantee, success probability) with its forms; and the reports (daily
summaries, weekly briefings, the daily-summary opt-in)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from projects.access import get_project_for_member
from projects.models import Project, Workflow
from success import acceptance, gates, guarantee, satisfaction
from success import reports as report_making
from success.access import (
    get_briefing_for_member,
    get_story_for_decision,
    get_summary_for_member,
    get_survey_for_member,
)
from success.criteria import acceptance_gate, criteria_matrix
from success.dashboard import feed_group, project_summaries
from success.delivery_status import project_scope_facts, status_words
from success.forms import GuaranteeClaimForm, ReportPreferenceForm, StoryDecisionForm, SurveyAnswerForm
from success.fragments import live_html, polled_state_html
from success.metrics import metrics_ensure
from success.models import (
    DailySummary,
    Guarantee,
    Measurement,
    ReportPreference,
    StoryDecision,
    Survey,
    WeeklyBriefing,
)
from success.probability import success_probability
from tenants.access import current_customer, portal_role, require_role
from tenants.models import ROLE_RANK, Role, User
from tenants.throttling import rate_exceeded, too_many_requests


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every project of the customer with its status, progress and health."""
    context = {
        "customer": current_customer(request),
        "summaries": project_summaries(),
        "can_edit": ROLE_RANK[portal_role(request)] >= ROLE_RANK[Role.MEMBER],
    }
    return render(request, "success/overview.html", context)


@require_GET
def project_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    group = feed_group(request.GET.get("feed"))
    query = f"?feed={group.key}"
    context = {
        "project": project,
        "live_html": live_html(project, group),
        "ws_path": f"/ws/projects/{project.pk}/{query}",
        "state_url": reverse("project_dashboard_state", args=[project.pk]) + query,
        "can_approve": portal_role(request) == Role.OWNER,
    }
    return render(request, "success/dashboard.html", context)


@never_cache
@require_GET
def project_dashboard_state(request: HttpRequest, pk: int) -> HttpResponse:
    """The same fragments the websocket sends on connect, each swapped by id (``hx-swap-oob``)."""
    project = get_project_for_member(request, pk)
    return HttpResponse(polled_state_html(project, feed_group(request.GET.get("feed"))))


# --- a project's success page -------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _can(request: HttpRequest, role: Role) -> bool:
    return ROLE_RANK[portal_role(request)] >= ROLE_RANK[role]


def _metrics(project: Project) -> list[dict[str, Any]]:
    metrics = metrics_ensure(project)
    history: dict[int, list[Measurement]] = {}
    for measurement in Measurement.objects.filter(metric__project=project).order_by("-measured_at", "-pk"):
        history.setdefault(measurement.metric_id, []).append(measurement)
    return [{"metric": metric, "measurements": history.get(metric.pk, [])[:10]} for metric in metrics.values()]


def _with_criteria(project: Project, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each story's criteria as checks with their results, next to the story."""
    matrix = {entry.story.pk: entry for entry in criteria_matrix(project)}
    return [{**row, "criteria": matrix.get(row["story"].pk)} for row in rows]


def success_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    workflow = Workflow.objects.filter(project=project).first()
    pledge = Guarantee.objects.filter(project=project).first()
    return {
        "project": project,
        "workflow": workflow,
        "probability": success_probability(project),
        "gates": gates.gate_rows(project),
        "stories": _with_criteria(project, acceptance.story_acceptance_rows(project)),
        "acceptance_gate": acceptance_gate(project),
        "scope_facts": project_scope_facts(project),
        "status_label": status_words(workflow, project_scope_facts(project)) if workflow else "",
        "is_staff": request.user.is_staff,
        "acceptance": acceptance.acceptance_summary(project),
        "acceptance_target": acceptance.TARGET_PERCENT,
        "decisions_open": workflow is not None and workflow.is_active,
        "surveys": list(Survey.objects.filter(project=project).select_related("phase").order_by("-opened_at")),
        "satisfaction": satisfaction.satisfaction_summary(
            satisfaction.satisfaction_scores([project.pk]).get(project.pk, [])
        ),
        "guarantee": pledge,
        "conditions": guarantee.conditions_check(project) if pledge is not None else [],
        "assessments": list(pledge.assessments.order_by("-assessed_at")) if pledge is not None else [],
        "metrics": _metrics(project) if pledge is not None or workflow is not None else [],
        "can_decide": _can(request, Role.MEMBER),
        "can_claim": _can(request, Role.OWNER) and pledge is not None and pledge.is_window_open(),
        "claim_form": GuaranteeClaimForm(),
    }


@require_GET
def project_success(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    return render(request, "success/project.html", success_context(request, project))


@require_POST
def story_decide(request: HttpRequest, pk: int, story_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER)
    story = get_story_for_decision(request, project, story_pk)
    form = StoryDecisionForm(request.POST, criteria=[str(c) for c in story.acceptance_criteria])
    target = reverse("project_success", args=[project.pk]) + f"#story-{story.pk}"
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(target)
    try:
        if form.cleaned_data["decision"] == StoryDecision.Decision.ACCEPTED:
            acceptance.story_accept(story=story, user=_user(request))
            messages.success(request, f"“{story.title}” accepted.")
        else:
            acceptance.story_reject(
                story=story,
                user=_user(request),
                comment=form.cleaned_data["comment"],
                unmet_criteria=form.cleaned_data["unmet"],
            )
            messages.success(request, f"“{story.title}” rejected; a fix task was added to the project.")
    except acceptance.AcceptanceError as error:
        messages.error(request, str(error))
    return redirect(target)


@require_POST
def survey_answer(request: HttpRequest, pk: int, survey_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER)
    survey = get_survey_for_member(request, project, survey_pk)
    form = SurveyAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a score from 0 to 10.")
    else:
        try:
            satisfaction.survey_answer(
                survey=survey,
                user=_user(request),
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, "Thank you: your rating was recorded.")
        except satisfaction.SurveyError as error:
            messages.error(request, str(error))
    return redirect(reverse("project_success", args=[project.pk]) + "#satisfaction")


@require_POST
def guarantee_claim(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.OWNER)
    pledge = Guarantee.objects.filter(project=project).first()
    form = GuaranteeClaimForm(request.POST)
    if pledge is None:
        messages.error(request, "The guarantee starts at delivery; this project is not delivered yet.")
    elif not form.is_valid():
        messages.error(request, "Tell us why you claim the guarantee.")
    else:
        try:
            assessment = guarantee.guarantee_claim(
                guarantee=pledge, user=_user(request), reason=form.cleaned_data["reason"]
            )
            messages.success(request, f"Your claim was assessed: {assessment.get_outcome_display().lower()}.")
        except guarantee.GuaranteeError as error:
            messages.error(request, str(error))
    return redirect(reverse("project_success", args=[project.pk]) + "#guarantee")


# --- reports ------------------------------------------------------------------------------------


def _preference(user: User) -> ReportPreference | None:
    return ReportPreference.objects.filter(user=user).first()


@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    require_role(request, Role.VIEWER)
    preference = _preference(_user(request))
    context = {
        "customer": current_customer(request),
        "summaries": list(DailySummary.objects.select_related("project").order_by("-day", "project__name")[:60]),
        "briefings": list(WeeklyBriefing.objects.defer("pdf").order_by("-week_start")[:26]),
        "daily_opt_in": bool(preference and preference.daily_summary),
        "in_delivery": list(Project.objects.filter(workflow__isnull=False).order_by("name")),
    }
    return render(request, "success/reports.html", context)


@require_POST
def report_preferences(request: HttpRequest) -> HttpResponse:
    require_role(request, Role.VIEWER)
    user = _user(request)
    form = ReportPreferenceForm(request.POST)
    wanted = form.is_valid() and form.cleaned_data["daily_summary"]
    ReportPreference.objects.update_or_create(user=user, defaults={"email": user.email, "daily_summary": wanted})
    messages.success(
        request, "You will get the daily summaries by email." if wanted else "No more daily summary emails."
    )
    return redirect("reports")


@require_GET
def daily_summary(request: HttpRequest, pk: int) -> HttpResponse:
    summary = get_summary_for_member(request, pk)
    return render(request, "success/daily_summary.html", {"summary": summary, "project": summary.project})


def _report_rate_exceeded(request: HttpRequest) -> bool:
    """Reports made on request cost a few database reads and, for the briefing, a PDF: a person
    gets ``HIVE_RATE_REPORT_NOW`` of them."""
    customer = current_customer(request)
    who = f"{customer.schema_name}:{_user(request).pk}"
    return rate_exceeded(request, group="report_now", value=who, rate=settings.HIVE_RATE_REPORT_NOW)


@never_cache
@require_GET
def daily_summary_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Today's summary of a project in delivery (or delivered), as of this moment."""
    project = get_project_for_member(request, pk)
    if not Workflow.objects.filter(project=project).exists():
        messages.error(request, "The daily summary starts with the delivery; this project is not in delivery yet.")
        return redirect("reports")
    if _report_rate_exceeded(request):
        return too_many_requests(request, "reports made on request")
    numbers, text = report_making.daily_summary_now(project)
    return render(request, "success/daily_summary_now.html", {"project": project, "numbers": numbers, "text": text})


@never_cache
@require_GET
def weekly_briefing_now(request: HttpRequest) -> HttpResponse:
    """This week's executive briefing so far, as a PDF."""
    require_role(request, Role.VIEWER)
    if _report_rate_exceeded(request):
        return too_many_requests(request, "reports made on request")
    numbers, pdf = report_making.weekly_briefing_now()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="briefing-{numbers["week_start"]}-so-far.pdf"'
    return response


@require_GET
def weekly_briefing(request: HttpRequest, pk: int) -> HttpResponse:
    briefing = get_briefing_for_member(request, pk)
    response = HttpResponse(bytes(briefing.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="briefing-{briefing.week_start}.pdf"'
    return response
