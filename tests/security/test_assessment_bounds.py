"""A legacy upload whose assessment would take minutes is refused within its limits, while the
portal keeps answering (found by the red team: 45,000 lines with large data tables held a web
worker at full CPU for over fifteen minutes — radon's raw metrics are super-linear on long
literals). The assessment runs in a child interpreter (projects.scoping.assessment_limits)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from pytest_django.fixtures import Settings as SettingsWrapper

from projects.models import Assessment, Service
from tests.projects.portal import new_project, text_of, url
from tests.world import World

pytestmark = pytest.mark.django_db


def test_an_assessment_over_its_limits_is_refused_with_a_message_and_nothing_saved(
    world: World, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path / "storage"
    settings.HIVE_ASSESSMENT_WALL_SECONDS = 4
    settings.HIVE_ASSESSMENT_CPU_SECONDS = 3
    owner = world.client("alpha_owner", on="alpha")
    project = new_project(owner, Service.MODERNIZATION, name="Tables")
    table = "TABLE = [\n" + "".join(f"    {n},\n" for n in range(6000)) + "]\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("tables/__init__.py", "")
        bundle.writestr("tables/data.py", table)
    buffer.seek(0)
    buffer.name = "tables.zip"
    started = time.monotonic()
    answer = owner.post(url("legacy_submit", project.pk), {"archive": buffer, "git_path": ""}, follow=True)
    elapsed = time.monotonic() - started
    assert elapsed < 15, elapsed
    assert "nothing was saved" in text_of(answer)
    with schema_context("alpha"):
        assert not Assessment.objects.filter(project=project).exists()
    # The portal answered meanwhile and still does.
    assert owner.get(url("project_detail", project.pk)).status_code == 200
