"""A customer uploads a code base for modernization in Chromium and reads its assessment (issue
#18): the per-module table (lines, complexity, maintainability, fan-in/out, phase), the dependency
graph drawn as SVG by the server, hotspot scores with their unit, the one timeline, each phase's
share and price, and the import cycle split with its reason. A module whose name is markup is
shown as text: nothing of it runs (and the page keeps its Content-Security-Policy)."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context
from pytest_django.fixtures import Settings as SettingsWrapper

from projects.models import Assessment, Project
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "legacy_cycle"
HOSTILE = 'ledgerkit/x"><img src=x onerror="window.__pwned=1">.py'


def _archive(path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(FIXTURE.rglob("*.py")):
            archive.write(file, file.relative_to(FIXTURE).as_posix())
        archive.writestr(HOSTILE, "def hostile(n: int) -> int:\n    return n + 1\n")
    path.write_bytes(buffer.getvalue())
    return path


def test_the_assessment_page_shows_modules_graph_hotspots_and_a_balanced_plan(
    page: Any, site: str, world: World, tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path / "storage"
    settings.HIVE_MODERNIZATION_MIN_LINES = 0  # the fixture is small: read the fixed schedule's phase prices
    page.goto(site + "/login/")
    page.fill("#id_username", "alpha-member@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://alpha.hive.localhost:*/")
    name = f"Ledger rewrite {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("new-project").click()
    page.fill("#id_name", name)
    page.check("input[name=service][value=modernization]")
    page.get_by_role("button", name="Continue").click()
    page.set_input_files("input[name=archive]", str(_archive(tmp_path / "ledgerkit.zip")))
    page.get_by_role("button", name="Analyse the code").click()

    assessment = page.get_by_test_id("assessment")
    assessment.wait_for()
    with schema_context("alpha"):
        result = Assessment.objects.get(project=Project.objects.get(name=name)).result
    rows = page.get_by_test_id("module-row")
    assert rows.count() == len(result["modules"]) == 11
    money = next(m for m in result["modules"] if m["path"] == "ledgerkit/money.py")
    row = rows.filter(has_text="ledgerkit/money.py").inner_text().split("\t")
    assert row[1:] == [
        str(money["code"]),
        f"{money['total_complexity']} / {money['max_complexity']}",
        f"{money['maintainability_index']:.1f}",
        str(money["fan_in"]),
        str(money["fan_out"]),
        str(money["phase"]),
    ]
    # The graph: an SVG element with one node per module, the cut import drawn with its reason.
    graph = page.locator("svg[data-testid=dependency-graph]")
    assert graph.is_visible()
    assert graph.locator("g[data-module]").count() == 11
    assert graph.locator('g[data-module="ledgerkit/core.py"]').count() == 1
    assert "ledgerkit/core.py imports ledgerkit/__init__.py (cut:" in graph.inner_html()
    # The hostile module name is text in the table and the drawing; its markup never ran.
    assert rows.filter(has_text='x"><img src=x').count() == 1
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.__pwned") is None
    # Hotspots with their unit, one timeline, and each phase within 15–25 % with its price.
    assert (
        "Unit: complexity points × code lines × (1 + fan-in)." in page.get_by_test_id("hotspot-explained").inner_text()
    )
    assert "from the size class: the COCOMO II schedule" in page.get_by_test_id("timeline").inner_text()
    for phase in result["plan"]["phases"]:
        cells = page.get_by_test_id(f"phase-{phase['number']}").inner_text().split("\t")
        assert 15 <= float(cells[1].rstrip(" %")) <= 25 and cells[4].startswith("$")
    assert "weakest" in page.get_by_test_id("cut-edges").inner_text()
