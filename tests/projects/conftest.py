"""``hive``: the set-up of every test that runs projects on real workers — fast timings, a private
storage root, a flushed test broker, reset pools, no workflow of an earlier test still running,
and afterwards no workflow and no app preview left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.previews import previews_stop_all
from tests.workers import TIMINGS, broker_flush, pools_reset, use_test_broker, workflows_stop
from tests.world import World


@pytest.fixture
def hive(world: World, settings: Any, tmp_path: Path) -> Iterator[World]:
    settings.HIVE_STORAGE_ROOT = tmp_path
    for name, value in TIMINGS.items():
        setattr(settings, name, float(value))
    workflows_stop("alpha", "beta")
    use_test_broker()
    broker_flush()
    pools_reset()
    yield world
    workflows_stop("alpha", "beta")
    previews_stop_all(tmp_path)  # a failed run leaves no server behind
