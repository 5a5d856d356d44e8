"""The modernization project page lists each migrated segment's changes, before/after metrics,
parity and what was not modernized (from the modernization developer's task output); module names
and texts from the customer's code are shown as text; another tenant's user gets 404."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.models import Phase, Service, Task
from tests.projects.portal import by_testid, new_project, text_of
from tests.world import World

pytestmark = pytest.mark.django_db

HOSTILE = 'pkg/<script>alert("x")</script>.py'


def test_the_project_page_lists_each_segments_changes_metrics_and_parity(world: World) -> None:
    member = world.client("alpha_member", on="alpha")
    project = new_project(member, Service.MODERNIZATION, name="Ledger rewrite")
    data = {
        "segment": 2,
        "parity_kept": True,
        "parity_percent": 100.0,
        "changes": [
            {"module": HOSTILE, "tools": ["pyupgrade", "type hints"], "rewrites": ["line 3: .warn( → .warning("]}
        ],
        "cannot": ["pkg/a.py:9: datetime.utcnow — returns a naive datetime"],
        "before": {"complexity": 40, "maintainability": 61.2, "high_findings": 0, "test_seconds": 2.5},
        "after": {"complexity": 38, "maintainability": 63.0, "high_findings": 0, "test_seconds": 2.4},
    }
    with schema_context("alpha"):
        phase = Phase.objects.create(project=project, position=1, key="migration", name="Migration")
        Task.objects.create(
            project=project,
            phase=phase,
            key="segment",
            title="Migrate segment 2",
            status=Task.Status.DONE,
            output={"summary": "segment 2", "artifacts": [], "data": data},
        )
        Task.objects.create(project=project, phase=phase, key="segment", title="Migrate segment 3", position=1)
    page = member.get(f"/projects/{project.pk}/")
    assert page.status_code == 200
    section = by_testid(page, "segment-2")
    assert section.startswith("Segment 2: parity 100.0 %")
    assert "Cyclomatic complexity 40 38" in section and "Maintainability index (mean) 61.2 63.0" in section
    assert "Test time (s, the tests' own time) 2.5 2.4" in section
    assert f"{HOSTILE} pyupgrade, type hints line 3: .warn( → .warning(" in section
    assert "Not modernized: pkg/a.py:9: datetime.utcnow" in section
    html = page.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert 'data-testid="segment-3"' not in html  # not finished: not listed
    assert "Migrated segments" in text_of(page)
    assert world.client("beta_owner", on="alpha").get(f"/projects/{project.pk}/").status_code == 404
