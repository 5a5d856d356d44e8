"""Dashboard tests keep the rendered-state cache in this process's memory."""

from __future__ import annotations

import pytest

from tests.success.memory_cache import MEMORY_CACHES


@pytest.fixture(autouse=True)
def _memory_cache(settings: pytest.FixtureRequest) -> None:
    settings.CACHES = MEMORY_CACHES  # type: ignore[attr-defined]
