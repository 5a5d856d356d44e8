"""The team page (tenants/views_portal.py): removing a member asks first."""

from __future__ import annotations

import pytest

from tenants.models import Membership
from tests.world import World

pytestmark = pytest.mark.django_db


def test_removing_a_member_asks_first_and_says_what_it_does(world: World) -> None:
    member = Membership.objects.get(user=world.users["alpha_member"], customer=world.customers["alpha"])
    page = world.client("alpha_owner", on="alpha").get("/members/").content.decode()
    form = page.split(f'<form method="post" action="/members/{member.pk}/remove/"', 1)[1].split(">", 1)[0]
    assert 'hx-boost="true"' in form
    assert 'hx-confirm="Remove alpha-member@example.test from Alpha Industries? They lose access at once' in form
