"""A member's own account pages (open paths: two-factor, re-authentication, e-mail) know who they
are: no "Staff visit" banner for the company's own people, and the header shows their role."""

from __future__ import annotations

import pytest

from tests.world import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("user", ["alpha_owner", "alpha_member"])
def test_a_members_account_page_is_not_a_staff_visit(world: World, user: str) -> None:
    page = world.client(user, on="alpha").get("/account/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "Staff visit" not in content
    assert ("Audit log" in content) == (user == "alpha_owner")


def test_staff_on_a_portal_is_still_announced(world: World) -> None:
    content = world.client("staff", on="alpha").get("/account/").content.decode()
    assert "Staff visit" in content
