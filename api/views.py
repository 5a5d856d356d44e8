"""The endpoints of ``/api/v1/``: thin views over the apps' access helpers, selectors and intake.

Every view runs in the schema of the host, which is the authenticating key's company. Reads need
any key; writes a write key (``KeyCanWrite``); the owner's decisions (plan approvals, quote
acceptance) a write key made by a current owner (``OwnerKey``). Writes call the same services as
the portal's pages and are recorded as the key's maker; a refusal of the service is a 409 with its
message for the customer.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import selectors, serializers
from api.access import get_project_for_key, get_quote_for_key, get_task_for_key
from api.authentication import KeyClient
from api.pagination import EventCursor
from api.permissions import KeyCanWrite, OwnerKey, OwnerKeyOnly
from billing.models import Charge
from projects.delivery import controls, orchestration
from projects.delivery.progress import project_progress
from projects.delivery.uat import UatReport, UatReportError
from projects.delivery.workflow import UAT_STEP
from projects.models import Event, Project, Quote, Run, Service, Story, Task, Workflow
from projects.requirements import RequirementsError
from projects.scoping import intake, quotes
from projects.scoping.payment_schedule import payment_offer
from success import acceptance
from success.access import get_story_for_decision
from success.decisions import CLOSING_KEYS
from success.models import DailySummary, WeeklyBriefing

# How long a consent reference of the API lives; the service's own token expires after an hour too.
CONSENT_SECONDS = 3600
CONSENT_REFERENCE = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def _client(request: Request) -> KeyClient:
    user = request.user
    assert isinstance(user, KeyClient)  # the permission classes let nothing else in
    return user


class ProjectScoped:
    """Views below ``projects/<pk>/``: the project of this company, or 404."""

    kwargs: dict[str, Any]

    @property
    def project(self) -> Project:
        cached: Project | None = getattr(self, "_project", None)
        if cached is None:
            cached = self._project = get_project_for_key(int(self.kwargs["pk"]))
        return cached


# --- projects ---------------------------------------------------------------------------------


class ProjectList(generics.ListAPIView[Project]):
    """The company's projects, newest first; a write key creates an MVP project from requirements."""

    serializer_class = serializers.ProjectSerializer
    permission_classes = [KeyCanWrite]

    def get_queryset(self) -> QuerySet[Project]:
        return Project.objects.order_by("-created_at", "-pk")

    @extend_schema(request=serializers.ProjectCreateSerializer, responses={201: serializers.ProjectDetailSerializer})
    def post(self, request: Request) -> Response:
        data = serializers.ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                project = intake.project_create(
                    name=data.validated_data["name"], service=Service.MVP, user=_client(request).creator
                )
                intake.requirements_submit(project=project, text=data.validated_data["requirements_text"])
        except RequirementsError as exc:
            raise ValidationError({"requirements_text": [str(exc)]}) from exc
        except intake.ScopingError as exc:
            raise Conflict(str(exc)) from exc
        project.refresh_from_db()
        return Response(_detail(project), status=status.HTTP_201_CREATED)


def _detail(project: Project) -> dict[str, Any]:
    workflow = Workflow.objects.filter(project=project).first()
    project.progress_percent = project_progress(project) if workflow is not None else None  # type: ignore[attr-defined]
    project.workflow_status = workflow.status if workflow is not None else None  # type: ignore[attr-defined]
    return dict(serializers.ProjectDetailSerializer(project).data)


class ProjectDetail(ProjectScoped, APIView):
    @extend_schema(responses=serializers.ProjectDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(self.project))


# --- stories and their acceptance -------------------------------------------------------------


class StoryList(ProjectScoped, generics.ListAPIView[Story]):
    serializer_class = serializers.StorySerializer

    def get_queryset(self) -> QuerySet[Story]:
        return Story.objects.filter(project=self.project).order_by("position", "pk")


class StoryAccept(ProjectScoped, APIView):
    permission_classes = [KeyCanWrite]

    @extend_schema(request=None, responses={201: serializers.DecisionSerializer})
    def post(self, request: Request, pk: int, story_pk: int) -> Response:
        story = get_story_for_decision(request._request, self.project, story_pk)
        try:
            decision = acceptance.story_accept(story=story, user=_client(request).creator)
        except acceptance.AcceptanceError as exc:
            raise Conflict(str(exc)) from exc
        return Response(serializers.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class StoryReject(ProjectScoped, APIView):
    permission_classes = [KeyCanWrite]

    @extend_schema(request=serializers.RejectionSerializer, responses={201: serializers.DecisionSerializer})
    def post(self, request: Request, pk: int, story_pk: int) -> Response:
        story = get_story_for_decision(request._request, self.project, story_pk)
        data = serializers.RejectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            decision = acceptance.story_reject(
                story=story,
                user=_client(request).creator,
                comment=data.validated_data["comment"],
                unmet_criteria=data.validated_data["unmet_criteria"],
            )
        except acceptance.AcceptanceError as exc:
            raise Conflict(str(exc)) from exc
        return Response(serializers.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class AcceptanceMatrix(ProjectScoped, APIView):
    @extend_schema(responses=serializers.AcceptanceMatrixSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(serializers.AcceptanceMatrixSerializer(selectors.acceptance_matrix(self.project)).data)


# --- quotes -----------------------------------------------------------------------------------


class QuoteList(ProjectScoped, generics.ListAPIView[Quote]):
    """The project's quote versions, newest first; a write key freezes the current scope as the next."""

    serializer_class = serializers.QuoteSerializer
    permission_classes = [KeyCanWrite]

    def get_queryset(self) -> QuerySet[Quote]:
        return Quote.objects.filter(project=self.project).order_by("-number")

    @extend_schema(request=None, responses={201: serializers.QuoteSerializer})
    def post(self, request: Request, pk: int) -> Response:
        try:
            quote = quotes.quote_create(project=self.project)
        except (intake.ScopingError, RequirementsError) as exc:
            raise Conflict(str(exc)) from exc
        return Response(serializers.QuoteSerializer(quote).data, status=status.HTTP_201_CREATED)


class QuoteDetail(ProjectScoped, APIView):
    @extend_schema(responses=serializers.QuoteSerializer)
    def get(self, request: Request, pk: int, number: int) -> Response:
        return Response(serializers.QuoteSerializer(get_quote_for_key(self.project, number)).data)


class QuoteAccept(ProjectScoped, APIView):
    """Accept the latest quote version and authorise its payments, as the portal's owner does, in
    two requests: GET is the consent step (the amount due now, the card, the later charges and a
    consent reference); POST with that reference and ``authorise: true`` accepts. The service
    refuses when the quote, the amount or the card changed since the consent step.

    The service's consent token names the card's Stripe id; it stays on the server (the cache,
    under a random reference bound to the asking key) and never goes out through the API."""

    permission_classes = [OwnerKeyOnly]

    def _consent_key(self, request: Request, reference: str) -> str:
        return f"api-consent:{_client(request).key.pk}:{reference}"

    @extend_schema(responses={200: serializers.PaymentOfferSerializer})
    def get(self, request: Request, pk: int, number: int) -> Response:
        quote = get_quote_for_key(self.project, number)
        if quote.accepted_at is not None:
            raise Conflict(f"Quote v{quote.number} is already accepted.")
        try:
            quotes.quote_acceptable(quote=quote, project=self.project)
        except intake.ScopingError as exc:
            raise Conflict(str(exc)) from exc
        offer = payment_offer(quote=quote, customer=_client(request).customer)
        reference = secrets.token_urlsafe(24)
        cache.set(self._consent_key(request, reference), offer.token, CONSENT_SECONDS)
        data = {
            "quote": quote,
            "due_now_cents": offer.due_now_cents,
            "card": str(offer.card) if offer.card is not None else None,
            "now": offer.now,
            "later": offer.later,
            "consent": reference,
        }
        return Response(serializers.PaymentOfferSerializer(data).data)

    @extend_schema(request=serializers.QuoteAcceptSerializer, responses={200: serializers.QuoteSerializer})
    def post(self, request: Request, pk: int, number: int) -> Response:
        quote = get_quote_for_key(self.project, number)
        data = serializers.QuoteAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["authorise"]:
            raise ValidationError({"authorise": ["Authorise the payments of the consent step to accept the quote."]})
        reference = data.validated_data["consent"]
        consent_key = self._consent_key(request, reference)
        # Only a reference this view could have made is looked up; anything else consents to nothing.
        token = cache.get(consent_key) if CONSENT_REFERENCE.fullmatch(reference) else None
        try:
            quote = quotes.quote_accept(quote=quote, user=_client(request).creator, consent=token or "")
        except intake.ScopingError as exc:
            raise Conflict(str(exc)) from exc
        cache.delete(consent_key)
        return Response(serializers.QuoteSerializer(quote).data)


# --- delivery: tasks, approvals, runs, events, gates ----------------------------------------------


class TaskList(ProjectScoped, generics.ListAPIView[Task]):
    serializer_class = serializers.TaskSerializer

    def get_queryset(self) -> QuerySet[Task]:
        return (
            Task.objects.filter(project=self.project)
            .select_related("phase")
            .prefetch_related("depends_on")
            .order_by("phase__position", "position", "pk")
        )


class ApprovalList(TaskList):
    """The tasks waiting for the owner's approval (the plan, the preview, the delivery)."""

    def get_queryset(self) -> QuerySet[Task]:
        return super().get_queryset().filter(status=Task.Status.AWAITING_APPROVAL)


class TaskApprove(ProjectScoped, APIView):
    permission_classes = [OwnerKey]

    @extend_schema(request=serializers.TaskApproveSerializer, responses={200: serializers.TaskSerializer})
    def post(self, request: Request, pk: int, task_pk: int) -> Response:
        task = get_task_for_key(self.project, task_pk)
        data = serializers.TaskApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if task.key in CLOSING_KEYS and not data.validated_data["confirm"]:
            raise ValidationError(
                {"confirm": ["Accepting the delivery closes it and charges its last milestone: send confirm: true."]}
            )
        report = _uat_report(task, data.validated_data)
        try:
            task = controls.task_approve(task=task, user=_client(request).creator, uat=report)
        except orchestration.WorkflowError as exc:
            raise Conflict(str(exc)) from exc
        return Response(serializers.TaskSerializer(task).data)


def _uat_report(task: Task, data: dict[str, Any]) -> UatReport | None:
    """The report a user acceptance testing step is given with (``projects.delivery.uat``)."""
    if task.key != UAT_STEP:
        return None
    if "uat_testers" not in data or "uat_satisfied" not in data:
        needed = "User acceptance testing is reported: send uat_testers and uat_satisfied."
        raise ValidationError({"uat_testers": [needed]})
    try:
        return UatReport(data["uat_testers"], data["uat_satisfied"], data.get("uat_findings", ""))
    except UatReportError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from exc


class RunList(ProjectScoped, generics.ListAPIView[Run]):
    serializer_class = serializers.RunSerializer

    def get_queryset(self) -> QuerySet[Run]:
        return Run.objects.filter(task__project=self.project).order_by("pk")


class EventList(ProjectScoped, generics.ListAPIView[Event]):
    """The project's event stream, oldest first, paged by cursor: keep the last ``next`` link to
    read what happened since."""

    serializer_class = serializers.EventSerializer
    pagination_class = EventCursor

    def get_queryset(self) -> QuerySet[Event]:
        return Event.objects.filter(project=self.project)


class GateList(ProjectScoped, APIView):
    @extend_schema(responses=serializers.PhaseGatesSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        return Response(serializers.PhaseGatesSerializer(selectors.project_gates(self.project), many=True).data)


# --- reports and money --------------------------------------------------------------------------


class DailySummaryList(generics.ListAPIView[DailySummary]):
    serializer_class = serializers.DailySummarySerializer

    @extend_schema(parameters=[OpenApiParameter("project", int, description="only this project's summaries")])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[DailySummary]:
        rows = DailySummary.objects.select_related("project").order_by("-day", "project_id")
        project = self.request.query_params.get("project")
        if project is not None:
            if not project.isdigit() or len(project) > 18:
                raise ValidationError({"project": ["A project id."]})
            rows = rows.filter(project_id=int(project))
        return rows


class WeeklyBriefingList(generics.ListAPIView[WeeklyBriefing]):
    serializer_class = serializers.WeeklyBriefingSerializer

    def get_queryset(self) -> QuerySet[WeeklyBriefing]:
        return WeeklyBriefing.objects.defer("pdf").order_by("-week_start")


class ChargeList(generics.ListAPIView[Charge]):
    """The company's own charges from the payment ledger, newest first."""

    serializer_class = serializers.ChargeSerializer

    def get_queryset(self) -> QuerySet[Charge]:
        return Charge.objects.filter(customer=_client(self.request).customer).order_by("-created_at", "-pk")
