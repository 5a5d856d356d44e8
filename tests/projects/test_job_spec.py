"""What a provider is told at run time: the model budget is the project's, not the run's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from projects.delivery.job_spec import job_spec
from projects.models import Phase, Project, Run, Service, Task
from tests.world import World

pytestmark = pytest.mark.django_db


def test_it_passes_what_earlier_runs_of_the_project_spent(world: World) -> None:
    with schema_context("alpha"):
        project = Project.objects.create(name="Budgeted", service=Service.MVP)
        phase = Phase.objects.create(project=project, position=1, key="dev", name="Development")
        first = Task.objects.create(project=project, phase=phase, key="story", title="One", role="fullstack_developer")
        second = Task.objects.create(project=project, phase=phase, key="story", title="Two", role="fullstack_developer")
        Run.objects.create(task=first, attempt=1, provider="llm", usage_tokens=1200, usage_cost=Decimal("0.42"))
        Run.objects.create(task=first, attempt=2, provider="llm", usage_tokens=300, usage_cost=Decimal("0.08"))

        spec = job_spec(Task.objects.select_related("project").get(pk=second.pk))

    assert spec.inputs["llm"]["spent_tokens"] == 1500
    assert Decimal(spec.inputs["llm"]["spent_cost"]) == Decimal("0.50")
