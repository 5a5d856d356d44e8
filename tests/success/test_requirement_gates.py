"""A page-load target from the customer's requirements is the project's quality standard and its
preview gate: 1.8 s passes the catalog's < 2 s but fails the < 1.5 s the customer asked for."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Phase, Task
from projects.requirements import analyse_requirements
from projects.scoping.scope_snapshot import project_quality_standards
from success.gates import FIX_KEY
from success.models import GateResult
from tests.success.success_world import committed, finish, mvp_project, run_until
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]


def test_the_page_load_the_customer_asked_for_is_the_preview_gate(world: World) -> None:
    analysis = analyse_requirements(
        "- Buyers can order parts\n\nPages must load in under 1.5 seconds on mobile. Data stays in the EU."
    )
    with schema_context("alpha"):
        project = mvp_project("Fast shop")
        project.non_functional = [item.to_json() for item in analysis.non_functional]
        project.save(update_fields=["non_functional"])
        standards = {c.code: c for c in project_quality_standards(project)}
        assert standards["page_load"].threshold is not None and standards["page_load"].threshold.label == "< 1.5 s"
        assert standards["data_location"].description == "Data stored in the EU"
        with committed():
            project_start(project=project, user=world.users["alpha_owner"])

        quality = run_until(project, "quality", world.users["alpha_owner"])
        measured = {"coverage_percent": 99.0, "tests_passed": 3, "tests_failed": 0, "security_high_findings": 0}
        finish(Task.objects.get(phase=quality, key="quality", status=Task.Status.READY), measured)
        phase = run_until(project, "preview", world.users["alpha_owner"])
        finish(Task.objects.get(phase=phase, key="preview"), {"page_load_p95_ms": 1800})

        phase.refresh_from_db()
        assert phase.status == Phase.Status.BLOCKED
        result = GateResult.objects.get(run__phase=phase, code="page_load")
        assert result.state == "failed" and result.target == "< 1.5 s"
        fix = Task.objects.get(phase=phase, key=FIX_KEY)
        assert fix.inputs["gate"] == "page_load" and "to < 1.5 s" in str(fix.inputs)
