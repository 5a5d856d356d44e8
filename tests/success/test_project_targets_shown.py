"""The quality targets shown to the customer are the project's own (issue: the dashboard said
"target < 2 s" while the customer asked for 1.5 s and the gate judged 1.5 s): the dashboard's
quality box, the daily report and the guarantee's performance condition all read
`project_quality_standards`."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from projects.models import Event
from projects.requirements import analyse_requirements
from success.dashboard import quality_read
from success.reports import daily_numbers, daily_text
from tenants.quality import Measure
from tests.success.success_world import mvp_project
from tests.world import World

pytestmark = pytest.mark.django_db


def test_the_page_load_target_shown_is_the_one_the_customer_asked_for(world: World) -> None:
    analysis = analyse_requirements("- Buyers can order parts\n\nPages must load in under 1.5 seconds on mobile.")
    with schema_context("alpha"):
        project = mvp_project("Fast shop")
        project.non_functional = [item.to_json() for item in analysis.non_functional]
        project.save(update_fields=["non_functional"])
        data = {"page_load_p95_ms": 1800, "coverage_percent": 91, "security_high_findings": 0}
        Event.objects.create(project=project, kind=Event.Kind.TASK_REPORT, data=data, message="measured")

        readings = {reading.metric.key: reading for reading in quality_read(project)}
        text = daily_text(project, daily_numbers(project, timezone.localdate()))

    page_load = readings[Measure.PAGE_LOAD_P95]
    assert (page_load.metric.target, page_load.ok) == ("< 1.5 s", False)  # 1.8 s passed the old < 2 s
    assert readings[Measure.HIGH_FINDINGS].metric.target == "none"
    assert "page_load_p95_ms" not in text and "coverage_percent" not in text
    assert "Page load (p95) 1,800 ms (target < 1.5 s)" in text

    client = world.client("alpha_viewer", on="alpha")
    html = client.get(reverse("project_dashboard", urlconf="hive.urls_tenant", args=[project.pk])).content.decode()
    assert "target &lt; 1.5 s" in html and "target &lt; 2 s" not in html
