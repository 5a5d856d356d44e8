"""The public landing page sells from the catalog: every tier and price, and a way to start."""

from __future__ import annotations

import pytest

from billing.catalog import AUGMENTATION_PLANS, MVP_TIERS
from tests.world import World

pytestmark = pytest.mark.django_db


def test_it_shows_every_tier_and_price_with_a_call_to_action(world: World) -> None:
    body = world.client().get("/").content.decode()

    for tier in MVP_TIERS:
        assert tier.name in body and tier.price_label in body and tier.timeline.label in body
    for plan in AUGMENTATION_PLANS:
        assert plan.name in body and plan.price_label in body
    assert "$50,000–$150,000" in body and "$500,000–$2,000,000" in body
    assert 'href="/signup/"' in body and "Start a project" in body


def test_a_logged_in_member_sees_links_to_their_portals(world: World) -> None:
    body = world.client("alpha_member").get("/").content.decode()
    assert 'href="http://alpha.hive.localhost/"' in body
    assert "beta.hive.localhost" not in body
