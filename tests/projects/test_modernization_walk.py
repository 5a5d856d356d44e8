"""Issue #18's Done means, walked as a customer on real workers: the fixture code base of our own
(tests/data/legacy_cycle/ledgerkit — ten modules, one import cycle, no tests) uploaded as a zip,
assessed into phases of 15–25 % each, the migration plan approved, characterization tests written
in the sandbox and passing on the legacy code as the baseline, every segment modernized, parity
measured against that baseline (100 %), user acceptance testing reported on its decision page,
performance measured, each phase's gates run at most three times, the customer accepting, the
project complete and its guarantee open — with every page answering on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Assessment, Task
from success.models import GateResult, GateRun, GateState, Guarantee
from tests.projects.progress import wait_while_progressing
from tests.projects.walker import Walker, legacy_project
from tests.workers import thread_worker
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

LEDGERKIT = Path(__file__).parents[1] / "data" / "legacy_cycle" / "ledgerkit"


def test_a_legacy_code_base_without_tests_is_modernized_end_to_end(hive: World) -> None:
    with thread_worker(concurrency=4), schema_context("alpha"):
        project = legacy_project("Ledgerkit", LEDGERKIT, package="ledgerkit")
        plan = Assessment.objects.get(project=project).result["plan"]
        shares = [phase["share"] for phase in plan["phases"]]
        assert len(shares) == 5 and all(0.15 <= share <= 0.25 for share in shares), shares
        walker = Walker(hive, project)
        project_start(project=project, user=hive.users["alpha_owner"])
        wait_while_progressing(walker.step, project_id=project.pk, what="the modernization to complete", cap=1500)
        walker.pages()

        analysis = Task.objects.get(project=project, key="legacy_analysis").output["data"]
        assert analysis["tests_generated"] >= 30 and analysis["baseline_passed"] == analysis["baseline_tests"]
        segments = Task.objects.filter(project=project, key="segment")
        assert segments.count() == 5
        assert all(task.output["data"]["parity_percent"] == 100.0 for task in segments)
        parity = GateResult.objects.filter(run__project=project, code="functional_parity").order_by("-run__number")
        latest = parity.first()
        assert latest is not None and latest.state == GateState.PASSED
        assert GateResult.objects.filter(run__project=project, code="uat_satisfaction", state=GateState.PASSED).exists()
        assert (
            GateResult.objects.filter(run__project=project, code="performance_vs_legacy").exclude(value=None).exists()
        )
        for phase_id in GateRun.objects.filter(project=project).values_list("phase_id", flat=True).distinct():
            assert GateRun.objects.filter(phase_id=phase_id).count() <= 3
        assert walker.uat_reports == 1
        assert Guarantee.objects.filter(project=project).exists()
