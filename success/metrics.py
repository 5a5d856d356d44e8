"""Success metrics of a project: one per guarantee condition of its service, with a baseline where
the condition is an improvement, and measurements over time with their source.

Most values are derived from the records (the timeline, gate runs, story decisions, survey answers,
the agents' measurements) and are appended as a new measurement whenever they change
(``metrics_snapshot``, called by the daily summaries and by every guarantee assessment). What no
record can say is entered by an account manager with its source (``measurement_record``): a
baseline such as the team's velocity before the engagement, a count of disruption incidents, or a
judgement (1 = met, 0 = not met) for conditions the seed leaves to judgement, such as "seamless
team integration achieved".
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.catalog import guarantee_conditions
from projects.models import Project
from success.models import Measurement, SuccessMetric
from tenants.models import User

# Conditions whose value is an improvement over a baseline, and the unit the baseline is in.
BASELINE_UNITS = {
    "velocity_improvement": "backlog items per week",
    "security_findings_reduction": "security findings",
}
# Judged conditions: an account manager records 1 (met) or 0 (not met) when no record decides them.
JUDGED_UNIT = "1 = met, 0 = not met"


class MetricError(Exception):
    """The measurement cannot be recorded; the message says why."""


def metrics_ensure(project: Project) -> dict[str, SuccessMetric]:
    """The project's metrics by code, made on first use from its service's guarantee conditions."""
    existing = {metric.code: metric for metric in SuccessMetric.objects.filter(project=project)}
    for criterion in guarantee_conditions(project.service):
        if criterion.code in existing:
            continue
        threshold = criterion.threshold
        unit = BASELINE_UNITS.get(criterion.code) or (threshold.unit if threshold else JUDGED_UNIT)
        try:
            with transaction.atomic():
                existing[criterion.code] = SuccessMetric.objects.create(
                    project=project,
                    code=criterion.code,
                    description=criterion.description,
                    unit=unit,
                    target=threshold.label if threshold else "met",
                )
        except IntegrityError:
            existing[criterion.code] = SuccessMetric.objects.get(project=project, code=criterion.code)
    return existing


def latest_measurements(project: Project) -> dict[str, Measurement]:
    """The newest measurement of each of the project's metrics, by code (one query)."""
    latest: dict[str, Measurement] = {}
    rows = Measurement.objects.filter(metric__project=project).select_related("metric").order_by("-measured_at", "-pk")
    for measurement in rows:
        latest.setdefault(measurement.metric.code, measurement)
    return latest


def measurement_record(
    *, metric: SuccessMetric, value: Decimal, source: str, user: User | None = None, baseline: bool = False
) -> SuccessMetric | Measurement:
    """Record a value of ``metric`` (or, with ``baseline``, its baseline) with where it came from."""
    source = source.strip()
    if not source:
        raise MetricError("Say where the number comes from.")
    who = user.email if user is not None else "system"
    if baseline:
        metric.baseline, metric.baseline_source = value, f"{source} (recorded by {who})"[:300]
        metric.save(update_fields=["baseline", "baseline_source"])
        return metric
    return Measurement.objects.create(metric=metric, value=value, source=source[:300], recorded_by_email=who)


def metrics_snapshot(project: Project, values: Mapping[str, tuple[Decimal, str]]) -> list[Measurement]:
    """Append the derived ``values`` (code → value, source) that differ from the latest ones."""
    metrics = metrics_ensure(project)
    latest = latest_measurements(project)
    now = timezone.now()
    added = []
    for code, (value, source) in values.items():
        metric = metrics.get(code)
        if metric is None:
            continue
        previous = latest.get(code)
        if previous is not None and previous.value == value:
            continue
        added.append(Measurement(metric=metric, value=value, measured_at=now, source=source[:300]))
    return Measurement.objects.bulk_create(added)
