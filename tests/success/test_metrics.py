"""Success metrics are made for every service's guarantee conditions, with their whole unit and
target: an augmentation project's "backlog items per week" once overflowed a 20-character column,
and every page that made the metrics (approving a review, the success page) answered 500."""

from __future__ import annotations

import pytest
from django.db.models import CharField
from django_tenants.utils import schema_context

from billing.catalog import guarantee_conditions
from projects.models import Project, Service
from success.metrics import BASELINE_UNITS, JUDGED_UNIT, metrics_ensure
from success.models import SuccessMetric

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("service", [choice.value for choice in Service])
def test_it_makes_every_metric_of_each_service_with_its_whole_unit(world, service: str) -> None:
    with schema_context("alpha"):
        project = Project.objects.create(name=f"Metrics {service}", service=service)
        metrics = metrics_ensure(project)
        conditions = guarantee_conditions(service)
        assert set(metrics) == {criterion.code for criterion in conditions}
        for criterion in conditions:
            stored = SuccessMetric.objects.get(pk=metrics[criterion.code].pk)
            expected = BASELINE_UNITS.get(criterion.code) or (
                criterion.threshold.unit if criterion.threshold else JUDGED_UNIT
            )
            assert stored.unit == expected
            assert stored.target == (criterion.threshold.label if criterion.threshold else "met")
            assert stored.description == criterion.description


def test_the_metric_columns_hold_every_unit_target_and_description_the_catalog_declares() -> None:
    fields: dict[str, int] = {}
    for name in ("unit", "target", "description", "code"):
        field = SuccessMetric._meta.get_field(name)
        assert isinstance(field, CharField) and field.max_length is not None
        fields[name] = field.max_length
    for service in Service:
        for criterion in guarantee_conditions(service.value):
            unit = BASELINE_UNITS.get(criterion.code) or (
                criterion.threshold.unit if criterion.threshold else JUDGED_UNIT
            )
            target = criterion.threshold.label if criterion.threshold else "met"
            assert len(unit) <= fields["unit"], (service, criterion.code, unit)
            assert len(target) <= fields["target"], (service, criterion.code, target)
            assert len(criterion.description) <= fields["description"], criterion.code
            assert len(criterion.code) <= fields["code"], criterion.code
