"""The same-origin rule of the websocket middleware (tenants/websockets.py); the whole handshake
is tested through the ASGI stack in tests/success/test_consumer.py."""

from __future__ import annotations

import pytest

from tenants.websockets import origin_matches_host


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://alpha.hive.localhost", "alpha.hive.localhost"),
        ("http://alpha.hive.localhost:8000", "alpha.hive.localhost:8000"),
        ("https://alpha.hive.localhost", "alpha.hive.localhost:443"),
        ("HTTP://Alpha.Hive.Localhost", "alpha.hive.localhost"),
    ],
)
def test_it_accepts_the_portals_own_origin(origin: str, host: str) -> None:
    assert origin_matches_host(origin, host)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://beta.hive.localhost", "alpha.hive.localhost"),  # a sibling portal
        ("http://hive.localhost", "alpha.hive.localhost"),  # the apex
        ("http://alpha.hive.localhost.evil.test", "alpha.hive.localhost"),
        ("http://alpha.hive.localhost:8001", "alpha.hive.localhost:8000"),
        ("https://alpha.hive.localhost", "alpha.hive.localhost:80"),  # 443 is not 80
        ("null", "alpha.hive.localhost"),
        ("file://alpha.hive.localhost", "alpha.hive.localhost"),
        ("http://alpha.hive.localhost:99999", "alpha.hive.localhost"),
        (None, "alpha.hive.localhost"),
        ("http://alpha.hive.localhost", None),
    ],
)
def test_it_refuses_any_other_origin(origin: str | None, host: str | None) -> None:
    assert not origin_matches_host(origin, host)
