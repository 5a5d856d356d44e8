"""The shapes of the API: what each row looks like to a client, and the inputs of the writes.

Fields are listed one by one, never ``__all__``: what the platform keeps for itself (Stripe ids and
idempotency keys, agents' raw outputs and errors, task inputs, worker names, the requirements
document) stays out of every answer.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.models import Charge
from projects.models import Event, Phase, Project, Quote, Run, Story, Task
from projects.requirements import MAX_REQUIREMENTS_CHARS
from success.models import DailySummary, GateResult, GateRun, GateWaiver, StoryDecision, WeeklyBriefing
from tenants.text import refuse_control_characters

MAX_COMMENT_CHARS = 5_000


class ProjectSerializer(serializers.ModelSerializer[Project]):
    class Meta:
        model = Project
        fields = ["id", "name", "service", "status", "created_at", "requirements_source", "payment_issue"]


class ProjectDetailSerializer(ProjectSerializer):
    progress_percent = serializers.FloatField(read_only=True, allow_null=True)
    workflow_status = serializers.CharField(read_only=True, allow_null=True)

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "progress_percent", "workflow_status"]


class ProjectCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=160, trim_whitespace=True, validators=[refuse_control_characters])
    requirements_text = serializers.CharField(max_length=MAX_REQUIREMENTS_CHARS, trim_whitespace=False)


class StorySerializer(serializers.ModelSerializer[Story]):
    acceptance_criteria = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Story
        fields = [
            "id",
            "position",
            "epic",
            "title",
            "as_a",
            "i_want",
            "so_that",
            "priority",
            "points",
            "acceptance_criteria",
            "dropped",
        ]


class QuoteSerializer(serializers.ModelSerializer[Quote]):
    snapshot = serializers.DictField(read_only=True, help_text="the frozen scope and terms, as the quote page shows")

    class Meta:
        model = Quote
        fields = ["number", "created_at", "price_cents", "accepted_at", "accepted_by_email", "snapshot"]


class ScheduledLineSerializer(serializers.Serializer[Any]):
    """One milestone of a quote's payment schedule, as the consent step shows it."""

    key = serializers.CharField(source="milestone.key")
    description = serializers.CharField(source="milestone.label")
    amount_cents = serializers.IntegerField(source="milestone.amount_cents")
    trigger = serializers.CharField()
    when = serializers.CharField()


class PaymentOfferSerializer(serializers.Serializer[Any]):
    """The consent step of a quote: what is charged now, on which card, what comes later."""

    quote_number = serializers.IntegerField(source="quote.number")
    due_now_cents = serializers.IntegerField()
    card = serializers.CharField(allow_null=True, help_text="the default card, e.g. visa •••• 4242; none: add one")
    now = ScheduledLineSerializer(many=True)
    later = ScheduledLineSerializer(many=True)
    consent = serializers.CharField(help_text="send it back to accept; valid for an hour and for this key only")


class QuoteAcceptSerializer(serializers.Serializer[Any]):
    consent = serializers.CharField(max_length=100, help_text="from the consent step (GET of this URL)")
    authorise = serializers.BooleanField(help_text="true: authorise the payments the consent step shows")


class TaskApproveSerializer(serializers.Serializer[Any]):
    confirm = serializers.BooleanField(
        default=False,
        help_text=(
            "true: you read what this approval closes. Required to accept the delivery (task key "
            '"accept"): it ends the delivery, opens the 30-day guarantee window, stops the preview and '
            "charges the milestone due on acceptance (GET /approvals/ and the portal's decision page "
            "list these). Without it that approval is refused with 400."
        ),
    )
    uat_testers = serializers.IntegerField(
        required=False, min_value=1, help_text='User acceptance testing (task key "uat"): how many people tested it.'
    )
    uat_satisfied = serializers.IntegerField(
        required=False, min_value=0, help_text="User acceptance testing: how many of the testers were satisfied."
    )
    uat_findings = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="User acceptance testing: what the testers found."
    )


class TaskSerializer(serializers.ModelSerializer[Task]):
    phase_key = serializers.CharField(source="phase.key", read_only=True)
    depends_on = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "phase_id",
            "phase_key",
            "position",
            "key",
            "title",
            "kind",
            "role",
            "status",
            "held",
            "attempts",
            "depends_on",
            "ready_at",
            "started_at",
            "finished_at",
            "blocked_since",
            "blocked_reason",
        ]

    def get_depends_on(self, task: Task) -> list[int]:
        return sorted(other.pk for other in task.depends_on.all())


class RunSerializer(serializers.ModelSerializer[Run]):
    class Meta:
        model = Run
        fields = [
            "id",
            "task_id",
            "attempt",
            "agent_name",
            "provider",
            "status",
            "started_at",
            "finished_at",
            "usage_seconds",
            "usage_tokens",
            "usage_cost",
        ]


class EventSerializer(serializers.ModelSerializer[Event]):
    class Meta:
        model = Event
        fields = ["id", "kind", "created_at", "actor", "message", "phase_id", "task_id", "run_id"]


class GateResultSerializer(serializers.ModelSerializer[GateResult]):
    class Meta:
        model = GateResult
        fields = ["code", "description", "target", "value", "unit", "state", "evidence", "measured_at"]


class GateRunSerializer(serializers.ModelSerializer[GateRun]):
    results = GateResultSerializer(many=True, read_only=True)

    class Meta:
        model = GateRun
        fields = ["number", "verdict", "evaluated_at", "actor", "results"]


class GateWaiverSerializer(serializers.ModelSerializer[GateWaiver]):
    class Meta:
        model = GateWaiver
        fields = ["code", "description", "reason", "waived_by_email", "created_at"]


class PhaseGatesSerializer(serializers.Serializer[Any]):
    """A gated phase with every evaluation of its gates (newest first) and its waivers."""

    phase_id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Phase.Status.choices)
    gate_note = serializers.CharField(allow_blank=True)
    runs = GateRunSerializer(many=True)
    waivers = GateWaiverSerializer(many=True)


class DecisionSerializer(serializers.ModelSerializer[StoryDecision]):
    class Meta:
        model = StoryDecision
        fields = [
            "id",
            "story_id",
            "decision",
            "comment",
            "unmet_criteria",
            "decided_by_email",
            "decided_at",
            "fix_task_id",
        ]


class RejectionSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(max_length=MAX_COMMENT_CHARS)
    unmet_criteria = serializers.ListField(
        child=serializers.CharField(max_length=1000), max_length=100, required=False, default=list
    )


class CriterionCheckSerializer(serializers.Serializer[Any]):
    """An acceptance criterion as a check: unverified is unknown, never pass."""

    index = serializers.IntegerField()
    criterion = serializers.CharField()
    derived = serializers.BooleanField(help_text="written by the agents: the story had no criteria")
    result = serializers.ChoiceField(choices=["pass", "fail", "unverified", "waived", "evidenced"])
    test = serializers.CharField(help_text="the test that checks it (empty: no executable check)")
    commit = serializers.CharField()
    checked_at = serializers.DateTimeField(allow_null=True)
    waived_reason = serializers.CharField(help_text="the account manager's reason, when waived")
    evidence = serializers.CharField(help_text="evidence the account manager attached")


class AcceptanceGateSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=["passed", "passed_with_waivers", "open"])
    total = serializers.IntegerField()
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    unverified = serializers.IntegerField()
    waived = serializers.IntegerField()


class StoryAcceptanceSerializer(serializers.Serializer[Any]):
    """A story of the scope and where its acceptance stands (as the project's success page shows)."""

    story_id = serializers.IntegerField()
    title = serializers.CharField()
    acceptance_criteria = serializers.ListField(child=serializers.CharField())
    implemented = serializers.BooleanField(help_text="its development task is done")
    fixing = serializers.BooleanField(help_text="a fix after a rejection is under way")
    status = serializers.ChoiceField(choices=["undecided", *StoryDecision.Decision.values])
    unmet_criteria = serializers.ListField(child=serializers.CharField(), help_text="of the latest rejection")
    decisions = DecisionSerializer(many=True)
    checks = CriterionCheckSerializer(many=True)


class AcceptanceSummarySerializer(serializers.Serializer[Any]):
    stories = serializers.IntegerField()
    decided = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    first_pass_accepted = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    first_pass_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    criteria_met = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    on_target = serializers.BooleanField(allow_null=True)
    target = serializers.DecimalField(max_digits=5, decimal_places=1)


class AcceptanceMatrixSerializer(serializers.Serializer[Any]):
    summary = AcceptanceSummarySerializer()
    gate = AcceptanceGateSerializer(help_text="every criterion of the scope as a check")
    stories = StoryAcceptanceSerializer(many=True)


class DailySummarySerializer(serializers.ModelSerializer[DailySummary]):
    project_name = serializers.CharField(source="project.name", read_only=True)
    numbers = serializers.DictField(read_only=True)

    class Meta:
        model = DailySummary
        fields = ["id", "project_id", "project_name", "day", "created_at", "numbers", "text"]


class WeeklyBriefingSerializer(serializers.ModelSerializer[WeeklyBriefing]):
    numbers = serializers.DictField(read_only=True, help_text="the numbers the briefing PDF shows")

    class Meta:
        model = WeeklyBriefing
        fields = ["id", "week_start", "created_at", "numbers"]


class ChargeSerializer(serializers.ModelSerializer[Charge]):
    class Meta:
        model = Charge
        fields = [
            "id",
            "kind",
            "project_id",
            "project_name",
            "service",
            "milestone",
            "description",
            "amount_cents",
            "currency",
            "status",
            "created_at",
            "paid_at",
            "failed_at",
            "failure_message",
        ]
