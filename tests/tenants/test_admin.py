"""Account managers run customers from Django admin on the main domain."""

from __future__ import annotations

import pytest

from tenants.models import Customer
from tests.world import World

pytestmark = pytest.mark.django_db


def test_staff_see_customers_with_status_domain_and_members(world: World) -> None:
    response = world.client("staff").get("/admin/tenants/customer/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha Industries" in body and "alpha.hive.localhost" in body and "Active" in body


def test_staff_suspend_and_reactivate_from_admin(world: World) -> None:
    admin = world.client("staff")
    alpha = world.customers["alpha"]

    admin.post("/admin/tenants/customer/", {"action": "suspend", "_selected_action": [alpha.pk]})
    assert Customer.objects.get(pk=alpha.pk).status == Customer.Status.SUSPENDED
    assert world.client("alpha_owner", on="alpha").get("/").status_code == 403

    admin.post("/admin/tenants/customer/", {"action": "reactivate", "_selected_action": [alpha.pk]})
    assert Customer.objects.get(pk=alpha.pk).status == Customer.Status.ACTIVE
    assert world.client("alpha_owner", on="alpha").get("/").status_code == 200


def test_customers_and_their_users_cannot_open_the_admin(world: World) -> None:
    assert world.client("alpha_owner").get("/admin/").status_code == 302
    assert world.client("alpha_owner", on="alpha").get("/admin/").status_code == 404
