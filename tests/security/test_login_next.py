"""Where a login sends the person next (red-team finding: plain http:// on a portal host was
allowed after an https login, so an on-path attacker could read the first page after login)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db

CREDENTIALS = {"username": "alpha-member@example.test", "password": PASSWORD}


def _login_to(world: World, target: str, *, secure: bool) -> str:
    response = world.client().post("/login/", {**CREDENTIALS, "next": target}, secure=secure)
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


@pytest.mark.parametrize(
    "target",
    [
        "http://alpha.{domain}/projects/",  # a downgrade of the portal to plain http
        "http://{domain}/",
        "//evil.example/",
        "https://evil.example/",
        "https://alpha.{domain}.evil.example/",
        "https://evil.example\\@alpha.{domain}/",
        "https://user:pw@alpha.{domain}/",
        "javascript:alert(1)//alpha.{domain}/",
        "https://[::1/",
    ],
)
def test_an_https_login_never_sends_the_person_to_an_unsafe_address(world: World, target: str) -> None:
    location = _login_to(world, target.format(domain=settings.HIVE_DOMAIN), secure=True)
    assert location == f"https://alpha.{settings.HIVE_DOMAIN}/"  # the portal of the person's one company


@pytest.mark.parametrize(
    ("target", "secure"),
    [
        ("https://alpha.{domain}/projects/", True),
        ("http://alpha.{domain}/projects/", False),  # a development install without TLS
        ("/account/", True),
        ("https://{domain}/account/", True),
    ],
)
def test_a_login_follows_a_safe_next(world: World, target: str, secure: bool) -> None:
    target = target.format(domain=settings.HIVE_DOMAIN)
    assert _login_to(world, target, secure=secure) == target
