"""Pages of the new-project wizard (the overview, the service steps, stories, quotes) and the
deliverable downloads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.catalog import AUGMENTATION_PLANS, MVP_TIERS, format_usd
from projects.access import get_project_for_member, get_quote_for_member, get_story_for_member
from projects.delivery.controls import project_controls_open, tasks_to_control
from projects.delivery.deliverables import NoDeliverable, deliverable_bundle, deliverable_zip, project_workspace
from projects.delivery.downloads import StreamedFileResponse
from projects.delivery.payments import payments_charge
from projects.delivery.previews import project_preview_state
from projects.forms import EngagementForm, LegacyCodeForm, NewProjectForm, RequirementsForm, StoryForm
from projects.models import Assessment, Engagement, Project, Service, Task, Workflow
from projects.requirements import COLUMN_CHOICES, RequirementsError, UnrecognisedColumns
from projects.scoping import intake, quotes
from projects.scoping.migration_minimum import fixed_schedule_refusal
from projects.scoping.payment_schedule import deliverable_release, payment_offer, quote_schedule
from projects.scoping.scope_fingerprint import scope_changed_since
from projects.scoping.scope_snapshot import story_gap, tier_change_of_edit, tier_changes
from projects.scoping.uploads import upload_limit, upload_refusal
from projects.views_scope import scope_context
from tenants.access import current_customer, portal_role, require_role
from tenants.models import ROLE_RANK, Role, User
from tenants.reauth import recent_auth_required
from tenants.verification import EmailUnverified, email_verified_require


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    require_role(request, Role.MEMBER)
    form = NewProjectForm(request.POST or None, initial={"service": request.GET.get("service", Service.MVP)})
    if request.method == "POST" and form.is_valid():
        project = intake.project_create(
            name=form.cleaned_data["name"], service=Service(form.cleaned_data["service"]), user=_user(request)
        )
        return redirect("project_detail", pk=project.pk)
    context = {"form": form, "tiers": MVP_TIERS, "plans": AUGMENTATION_PLANS}
    return render(request, "projects/new.html", context, status=400 if form.errors else 200)


def _detail_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    payments = list(project.scheduled_payments.all())
    context: dict[str, Any] = {
        "project": project,
        "quotes": list(project.quotes.only("number", "created_at", "price_cents", "accepted_at")),
        "can_edit": ROLE_RANK[portal_role(request)] >= ROLE_RANK[Role.MEMBER] and not project.is_locked,
        "workflow": Workflow.objects.filter(project=project).first(),
        "approvals": list(
            Task.objects.filter(project=project, status=Task.Status.AWAITING_APPROVAL).select_related("phase")
        ),
        "is_owner": portal_role(request) == Role.OWNER,
        "is_staff": request.user.is_staff,
        "has_repository": project_workspace(project).exists,
        "payments": payments,
        "release": deliverable_release(project),
        "due_cents": sum(row.amount_cents for row in payments if row.status in {row.Status.DUE, row.Status.FAILED}),
    }
    context.update(scope_context(project))
    context["preview"] = project_preview_state(project, context["workflow"])
    context["can_start_preview"] = ROLE_RANK[portal_role(request)] >= ROLE_RANK[Role.MEMBER]
    if context["is_staff"] and context["workflow"] is not None:
        context["project_controls"] = project_controls_open(context["workflow"])
        context["control_tasks"] = tasks_to_control(project)
    if project.service == Service.MVP:
        stories = list(project.stories.all())
        context["stories"] = stories
        context["requirements_form"] = extra.pop("requirements_form", RequirementsForm())
        context["story_form"] = extra.pop("story_form", StoryForm())
        if any(not s.dropped for s in stories):
            try:
                context["scope"] = intake.current_scope(project, stories)
            except RequirementsError as exc:
                context["scope_error"] = str(exc)
            else:
                changes = tier_changes(project, stories, context["scope"])
                for story in stories:
                    story.tier_change = changes.get(story.pk, "")  # type: ignore[attr-defined]
                    story.capability_gap = story_gap(story)  # type: ignore[attr-defined]
        context["non_functional"] = project.nonfunctional_requirements
    elif project.service == Service.MODERNIZATION:
        context["assessment"] = Assessment.objects.filter(project=project).first()
        context["legacy_form"] = extra.pop("legacy_form", LegacyCodeForm())
    else:
        engagement = Engagement.objects.filter(project=project).first()
        context["engagement"] = engagement
        context["engagement_form"] = extra.pop("engagement_form", EngagementForm(instance=engagement))
    context.update(extra)
    return context


def _render_detail(request: HttpRequest, project: Project, status: int = 200, **extra: Any) -> HttpResponse:
    template = "projects/_scoping.html" if request.htmx and project.service == Service.MVP else "projects/detail.html"  # type: ignore[attr-defined]
    return render(request, template, _detail_context(request, project, **extra), status=status)


@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, get_project_for_member(request, pk))


@upload_limit("HIVE_REQUIREMENTS_UPLOAD_MAX_BYTES", "a requirements document")
@require_POST
def requirements_submit(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER, service=Service.MVP)
    # An upload stopped for its size is refused on the form; the other fields stay as typed.
    refusal = upload_refusal(request)
    form = RequirementsForm(request.POST, request.FILES, upload_refusal=refusal)
    header: tuple[str, ...] = ()
    if form.is_valid():
        try:
            stories = intake.requirements_submit(
                project=project,
                text=form.cleaned_data["text"],
                upload=form.cleaned_data["document"],
                columns=_columns_chosen(request),
            )
        except intake.ScopingError as exc:
            return _refuse(request, project, exc, requirements_form=form)
        except UnrecognisedColumns as exc:
            form.add_error(None, str(exc))
            header = exc.header
        except RequirementsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"We found {len(stories)} user stories. Review them below.")
            return redirect("project_detail", pk=project.pk)
    columns = [(index, cell) for index, cell in enumerate(header)]
    return _render_detail(
        request,
        project,
        status=413 if refusal else 400,
        requirements_form=form,
        column_header=columns,
        column_choices=COLUMN_CHOICES,
    )


def _columns_chosen(request: HttpRequest) -> dict[str, str]:
    """The customer's answer to "which column is which": header text → column (hidden
    `column_name_<n>` fields carry the header cells, `column_<n>` the choices)."""
    chosen: dict[str, str] = {}
    for index in range(40):
        name, choice = request.POST.get(f"column_name_{index}"), request.POST.get(f"column_{index}")
        if name is None:
            break
        if choice in COLUMN_CHOICES:
            chosen[name[:200]] = choice
    return chosen


@require_POST
def story_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER, service=Service.MVP)
    form = StoryForm(request.POST)
    if form.is_valid():
        change = tier_change_of_edit(project, form.instance)
        if change and request.POST.get("confirmed_change") != change:
            return _render_detail(request, project, story_form=form, add_tier_change=change)
        try:
            intake.story_add(project=project, data=form.cleaned_data)
        except intake.ScopingError as exc:
            return _refuse(request, project, exc, story_form=form)
        else:
            return _after_story_change(request, project)
    return _render_detail(request, project, status=400, story_form=form)


@require_http_methods(["GET", "POST"])
def story_edit(request: HttpRequest, pk: int, story_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER, service=Service.MVP)
    story = get_story_for_member(request, project, story_pk)
    form = StoryForm(request.POST or None, instance=story)
    tier_change = ""
    if request.method == "POST" and form.is_valid():
        # An edit that moves the price is shown first and saved when submitted again as shown.
        tier_change = tier_change_of_edit(project, story)
        if tier_change and request.POST.get("confirmed_change") != tier_change:
            return render(
                request, "projects/story_edit.html", {"project": project, "form": form, "tier_change": tier_change}
            )
        try:
            intake.story_update(story=story, data=form.cleaned_data)
        except intake.ScopingError as exc:
            form.add_error(None, str(exc))
        else:
            return _after_story_change(request, project)
    return render(
        request,
        "projects/story_edit.html",
        {"project": project, "story": story, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
def story_drop(request: HttpRequest, pk: int, story_pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER, service=Service.MVP)
    story = get_story_for_member(request, project, story_pk)
    try:
        intake.story_set_dropped(story=story, dropped=request.POST.get("dropped", "1") == "1")
    except intake.ScopingError as exc:
        return _refuse(request, project, exc)
    return _after_story_change(request, project)


def _refuse(request: HttpRequest, project: Project, exc: Exception, **extra: Any) -> HttpResponse:
    """The project page with why a service refused the step, as a message: the step's own form
    may not be on the page (a locked scope shows no forms)."""
    messages.error(request, str(exc))
    return _render_detail(request, project, status=400, **extra)


def _after_story_change(request: HttpRequest, project: Project) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return _render_detail(request, project)
    return redirect("project_detail", pk=project.pk)


@upload_limit("HIVE_LEGACY_UPLOAD_MAX_BYTES", "an archive of legacy code")
@require_POST
def legacy_submit(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER, service=Service.MODERNIZATION)
    # An upload stopped for its size is refused on the form; the other fields stay as typed.
    refusal = upload_refusal(request)
    form = LegacyCodeForm(request.POST, request.FILES, upload_refusal=refusal)
    if form.is_valid():
        try:
            assessment = intake.assessment_run(
                project=project, upload=form.cleaned_data["archive"], git_path=form.cleaned_data["git_path"]
            )
        except intake.ScopingError as exc:
            return _refuse(request, project, exc, legacy_form=form)
        else:
            code = assessment.result["totals"]["code"]
            messages.success(request, f"Assessment done: {code:,} lines of code analysed.")
            return redirect("project_detail", pk=project.pk)
    return _render_detail(request, project, status=413 if refusal else 400, legacy_form=form)


@require_POST
def engagement_submit(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER, service=Service.AUGMENTATION)
    form = EngagementForm(request.POST, instance=Engagement.objects.filter(project=project).first())
    if form.is_valid():
        try:
            intake.engagement_set(project=project, data={f: form.cleaned_data[f] for f in EngagementForm.Meta.fields})
        except intake.ScopingError as exc:
            return _refuse(request, project, exc, engagement_form=form)
        else:
            return redirect("project_detail", pk=project.pk)
    return _render_detail(request, project, status=400, engagement_form=form)


@require_POST
def quote_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk, role=Role.MEMBER)
    try:
        quote = quotes.quote_create(project=project)
    except (intake.ScopingError, RequirementsError) as exc:
        return _refuse(request, project, exc)
    return redirect("quote_detail", pk=project.pk, number=quote.number)


@require_GET
def quote_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    quote = get_quote_for_member(request, project, number)
    latest = project.quotes.order_by("-number").values_list("number", flat=True).first()
    # One digest of the current scope per page (it reads the stories or the whole assessment).
    scope_changed = quote.accepted_at is None and scope_changed_since(quote.snapshot, project)
    context = {
        "project": project,
        "quote": quote,
        "s": quote.snapshot,
        "schedule": quote_schedule(quote),
        "is_latest": quote.number == latest,
        "can_accept": portal_role(request) == Role.OWNER
        and quote.accepted_at is None
        and quote.number == latest
        and quote.price_cents is not None
        and not project.is_locked
        and fixed_schedule_refusal(quote=quote, project=project) is None
        and not scope_changed,
        "scope_changed": scope_changed,
        "price": format_usd(quote.price_cents) if quote.price_cents is not None else "Custom quote",
    }
    return render(request, "projects/quote.html", context)


@require_http_methods(["GET", "POST"])
@recent_auth_required
def quote_accept(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """The consent step: accepting the quote and authorising its payments are one explicit step
    that shows the amount due now, the card and the later charges. A POST that does not carry
    the token of this page (a direct POST, an old page after the card changed) is refused."""
    project = get_project_for_member(request, pk, role=Role.OWNER)
    quote = get_quote_for_member(request, project, number)
    back = redirect(reverse("quote_detail", kwargs={"pk": project.pk, "number": quote.number}))
    if quote.accepted_at is not None:
        messages.info(request, f"Quote v{quote.number} is already accepted.")
        return back
    try:
        quotes.quote_acceptable(quote=quote, project=project)
        email_verified_require(_user(request), action="accepting a quote")
    except (intake.ScopingError, EmailUnverified) as exc:
        messages.error(request, str(exc))
        return back
    offer = payment_offer(quote=quote, customer=current_customer(request))
    if request.method == "POST":
        if request.POST.get("authorise") != "yes":
            messages.error(request, "Tick the box to authorise the payments before accepting.")
        else:
            try:
                quotes.quote_accept(quote=quote, user=_user(request), consent=request.POST.get("consent", ""))
            except (intake.ScopingError, EmailUnverified) as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    f"Quote v{quote.number} accepted and its payments authorised: "
                    f"{offer.due_now_label} is being charged to {offer.card}.",
                )
                return redirect("project_detail", pk=project.pk)
    gaps = [st for st in quote.snapshot.get("stories") or [] if isinstance(st, dict) and st.get("gap")]
    context = {"project": project, "quote": quote, "offer": offer, "here": request.get_full_path(), "quote_gaps": gaps}
    return render(request, "projects/quote_consent.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@recent_auth_required
def project_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Try the up-front payment again (e.g. after adding a card); the owner sees the outcome."""
    project = get_project_for_member(request, pk, role=Role.OWNER)
    try:
        email_verified_require(_user(request), action="paying")
    except EmailUnverified as exc:
        messages.error(request, str(exc))
        return redirect("project_detail", pk=project.pk)
    if project.status != Project.Status.AWAITING_PAYMENT:
        messages.info(request, "Nothing is due on this project right now.")
        return redirect("project_detail", pk=project.pk)
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    payments_charge(schema_name=schema, project_id=project.pk, by_customer=True)
    project.refresh_from_db()
    if project.status == Project.Status.IN_DELIVERY:
        messages.success(request, "Payment received. The agents have started.")
    elif project.payment_issue:
        messages.error(request, f"The payment did not go through: {project.payment_issue}")
    else:
        messages.info(request, "The payment is being processed; the agents start as soon as it is received.")
    return redirect("project_detail", pk=project.pk)


def _download(request: HttpRequest, pk: int, build: Any, suffix: str, content_type: str) -> HttpResponseBase:
    """A deliverable of ``pk`` built by ``build``, streamed in blocks (never whole in memory) —
    once the milestone that releases it is paid (``payment_schedule.deliverable_release``)."""
    project = get_project_for_member(request, pk)
    release = deliverable_release(project)
    if not release.released:
        messages.error(request, release.reason)
        return redirect("project_detail", pk=project.pk)
    try:
        path = build(project)
    except NoDeliverable as exc:
        raise Http404(str(exc)) from exc
    return StreamedFileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{slugify(project.name) or 'project'}.{suffix}",
        content_type=content_type,
    )


@require_GET
def deliverable_bundle_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The repository as a git bundle: ``git clone <file>`` gives every branch and tag."""
    return _download(request, pk, deliverable_bundle, "bundle", "application/octet-stream")


@require_GET
def deliverable_zip_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _download(request, pk, deliverable_zip, "zip", "application/zip")
