"""Refunds reach Stripe: the whole project after a failed guarantee, part of a charge by an
account manager with a reason; never more than was paid."""

from __future__ import annotations

import pytest

from billing import gateway, services
from billing.milestones import mvp_milestones
from billing.models import Charge, Refund
from tests.billing.billing_world import accepted_project, card_add
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)


def _paid_project(world: World) -> tuple[int, list[Charge]]:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"])
    charges = [
        services.milestone_charge(
            customer=world.customers["alpha"],
            project_id=project.pk,
            project_name=project.name,
            service="mvp",
            milestone=m,
        )
        for m in mvp_milestones(7_500_000)
    ]
    return project.pk, charges


def test_a_failed_guarantee_refunds_every_charge_of_the_project_in_stripe(world: World, stripe_emulator: str) -> None:
    project_id, charges = _paid_project(world)

    refunds = services.refund_full(schema_name="alpha", project_id=project_id, reason="30-day guarantee failed")

    assert [r.status for r in refunds] == [Refund.Status.SUCCEEDED] * 2
    assert sum(r.amount_cents for r in refunds) == 7_500_000
    for charge in charges:
        remote = gateway.charge_retrieve(charge.stripe_charge_id)
        assert remote.amount_refunded == charge.amount_cents and remote.refunded is True
    assert services.refund_full(schema_name="alpha", project_id=project_id, reason="again") == []
    assert Refund.objects.count() == 2


def test_an_account_manager_refunds_part_of_a_charge_with_a_reason(world: World, stripe_emulator: str) -> None:
    _, charges = _paid_project(world)
    charge = charges[0]
    client = world.client("staff")

    response = client.post(
        f"/admin/billing/charge/{charge.pk}/refund/", {"amount": "1000.50", "reason": "two days of delay"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.kind, refund.reason) == (100_050, "partial", "two days of delay")
    assert refund.created_by == world.users["staff"]
    remote = gateway.refund_retrieve(refund.stripe_refund_id)
    assert remote.amount == 100_050 and remote.to_dict()["metadata"]["reason"] == "two days of delay"

    too_much = client.post(f"/admin/billing/charge/{charge.pk}/refund/", {"amount": "37500.00", "reason": "all"})
    assert too_much.status_code == 200 and b"between $0.01 and $36,499.50" in too_much.content
    with pytest.raises(services.BillingError, match="reason"):
        services.refund_partial(charge=charge, amount_cents=100, reason=" ", user=None)
    assert Refund.objects.count() == 1
