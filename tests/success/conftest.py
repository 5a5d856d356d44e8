"""Success tests keep the dashboard's rendered-state cache in this process's memory, receive
email on a local SMTP server, and run workflows without any agent to dispatch to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.pools import pools_ensure
from agents.roles import ROLES
from tests.asgi_errors import asgi_errors  # noqa: F401  (autouse: fails a test whose ASGI server logged an error)
from tests.success.memory_cache import MEMORY_CACHES
from tests.success.success_world import Mailbox, smtp_server
from tests.world import World


@pytest.fixture(autouse=True)
def _memory_cache(settings: pytest.FixtureRequest) -> None:
    settings.CACHES = MEMORY_CACHES  # type: ignore[attr-defined]


@pytest.fixture
def mailbox(settings: pytest.FixtureRequest) -> Iterator[Mailbox]:
    """A local SMTP server; Django's SMTP backend sends to it."""
    with smtp_server() as (box, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port  # type: ignore[attr-defined]
        settings.EMAIL_USE_TLS = False  # type: ignore[attr-defined]
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""  # type: ignore[attr-defined]
        yield box


@pytest.fixture
def no_free_agents(world: World) -> None:
    """Every pool empty: tasks become ready but nothing is sent to a broker (no worker runs here)."""
    pools_ensure(sizes={role.value: 0 for role in ROLES})


@pytest.fixture
def managed(world: World) -> World:
    """Alpha's account manager is the staff user."""
    alpha = world.customers["alpha"]
    alpha.account_manager = world.users["staff"]
    alpha.save(update_fields=["account_manager"])
    return world
