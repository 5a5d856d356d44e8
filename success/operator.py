"""The account managers' numbers across customers: success rate, timeline adherence, gate pass
rate, acceptance and satisfaction per customer and in total, what waits for a decision, and the
agent pools' utilization.

Each customer's numbers are read inside its schema (a fixed number of queries per customer) and
kept as raw counts, so the totals are sums of counts, never means of percentages.

* success rate — guarantees met / guarantees decided;
* timeline adherence — started projects with a plan that are (or were delivered) on plan / all
  started projects with a plan;
* gate pass rate — gate runs that passed / gate runs;
* acceptance — stories accepted / stories decided (latest decisions);
* satisfaction — mean score, and NPS over every answered survey.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from agents.models import AgentPool, UtilizationSample
from projects.models import Phase
from success.acceptance import acceptance_summaries
from success.dashboard import project_summaries
from success.models import Escalation, GateRun, Guarantee
from success.satisfaction import SatisfactionSummary, satisfaction_scores, satisfaction_summary
from tenants.models import Customer


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


@dataclass
class CustomerNumbers:
    customer: Customer
    projects: int = 0
    active: int = 0
    delivered: int = 0
    guarantees_met: int = 0
    guarantees_decided: int = 0
    planned: int = 0
    on_plan: int = 0
    gate_runs: int = 0
    gate_runs_passed: int = 0
    stories_decided: int = 0
    stories_accepted: int = 0
    scores: list[int] = field(default_factory=list)
    open_escalations: int = 0

    @property
    def success_rate(self) -> Decimal | None:
        return _percent(self.guarantees_met, self.guarantees_decided)

    @property
    def timeline_adherence(self) -> Decimal | None:
        return _percent(self.on_plan, self.planned)

    @property
    def gate_pass_rate(self) -> Decimal | None:
        return _percent(self.gate_runs_passed, self.gate_runs)

    @property
    def acceptance_rate(self) -> Decimal | None:
        return _percent(self.stories_accepted, self.stories_decided)

    @property
    def satisfaction(self) -> SatisfactionSummary:
        return satisfaction_summary(self.scores)

    def add(self, other: CustomerNumbers) -> None:
        for name in (
            "projects",
            "active",
            "delivered",
            "guarantees_met",
            "guarantees_decided",
            "planned",
            "on_plan",
            "gate_runs",
            "gate_runs_passed",
            "stories_decided",
            "stories_accepted",
            "open_escalations",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.scores += other.scores


@dataclass(frozen=True, slots=True)
class Attention:
    """Something in a customer's schema that waits for an account manager."""

    customer: Customer
    project_id: int
    project_name: str
    what: str


DECIDED = [Guarantee.Status.PASSED, Guarantee.Status.FAILED, Guarantee.Status.REFUNDED, Guarantee.Status.DECLINED]


def customer_numbers(customer: Customer, *, now: datetime | None = None) -> tuple[CustomerNumbers, list[Attention]]:
    """One customer's numbers and the items that wait for a decision (call in its schema)."""
    numbers = CustomerNumbers(customer)
    for summary in project_summaries(now=now):
        if summary.workflow is None:
            continue
        numbers.projects += 1
        numbers.active += summary.workflow.is_active
        numbers.delivered += summary.workflow.status == summary.workflow.Status.COMPLETED
        if summary.delay is not None:
            numbers.planned += 1
            numbers.on_plan += summary.delay <= timedelta(0)
    guarantees = Guarantee.objects.aggregate(
        met=Count("pk", filter=Q(status=Guarantee.Status.PASSED)), decided=Count("pk", filter=Q(status__in=DECIDED))
    )
    numbers.guarantees_met, numbers.guarantees_decided = guarantees["met"], guarantees["decided"]
    runs = GateRun.objects.aggregate(total=Count("pk"), passed=Count("pk", filter=~Q(verdict=GateRun.Verdict.BLOCKED)))
    numbers.gate_runs, numbers.gate_runs_passed = runs["total"], runs["passed"]
    for story_numbers in acceptance_summaries().values():
        numbers.stories_decided += story_numbers.decided
        numbers.stories_accepted += story_numbers.accepted
    numbers.scores = [score for scores in satisfaction_scores().values() for score in scores]
    numbers.open_escalations = Escalation.objects.exclude(status=Escalation.Status.RESOLVED).count()
    attention = [
        Attention(customer, phase.project_id, phase.project.name, f"{phase.name} is blocked by its quality gates")
        for phase in Phase.objects.filter(status=Phase.Status.BLOCKED).select_related("project")
    ]
    attention += [
        Attention(customer, g.project_id, g.project.name, f"guarantee: {g.get_status_display().lower()}")
        for g in Guarantee.objects.filter(
            status__in=[Guarantee.Status.FAILED, Guarantee.Status.PENDING]
        ).select_related("project")
    ]
    return numbers, attention


@dataclass(frozen=True, slots=True)
class PoolUtilization:
    role: str
    size: int
    latest: float | None
    day_mean: float | None
    samples: int


def pool_utilization(*, now: datetime | None = None) -> list[PoolUtilization]:
    """Per pool: the latest whole-pool utilization sample and the mean over the last 24 hours."""
    now = now or timezone.now()
    since = now - timedelta(hours=24)
    rows = []
    for pool in AgentPool.objects.order_by("role"):
        samples = UtilizationSample.objects.filter(pool=pool, agent__isnull=True, utilization__isnull=False)
        latest = samples.order_by("-taken_at").values_list("utilization", flat=True).first()
        day = samples.filter(taken_at__gte=since).aggregate(mean=Avg("utilization"), n=Count("pk"))
        rows.append(PoolUtilization(pool.role, pool.size, latest, day["mean"], day["n"]))
    return rows


@dataclass
class OperatorView:
    rows: list[CustomerNumbers]
    total: CustomerNumbers
    attention: list[Attention]
    pools: list[PoolUtilization]


def operator_view(*, now: datetime | None = None) -> OperatorView:
    """Every customer's numbers, the totals, what waits for a decision, and the pools."""
    rows: list[CustomerNumbers] = []
    attention: list[Attention] = []
    total = CustomerNumbers(Customer(name="All customers"))
    for customer in Customer.objects.exclude(schema_name=get_public_schema_name()).order_by("name"):
        with schema_context(customer.schema_name):
            numbers, waiting = customer_numbers(customer, now=now)
        rows.append(numbers)
        attention += waiting
        total.add(numbers)
    return OperatorView(rows=rows, total=total, attention=attention, pools=pool_utilization(now=now))
