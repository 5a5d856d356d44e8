"""Money in the audit trail (billing.services → tenants.audit): every charge outcome and every
refund, once each, with the customer, the amount and who asked for it."""

from __future__ import annotations

import pytest

from billing import services
from billing.milestones import mvp_milestones
from billing.models import Charge, Refund
from tenants.audit import Action
from tenants.models import AuditEntry
from tests.billing.billing_world import DECLINES_CHARGES, accepted_project, card_add
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)


def _charge(world: World, card: str = "4242424242424242") -> Charge:
    card_add(world.customers["alpha"], card)
    project = accepted_project("alpha", world.users["alpha_owner"])
    return services.milestone_charge(
        customer=world.customers["alpha"],
        project_id=project.pk,
        project_name=project.name,
        service="mvp",
        milestone=mvp_milestones(7_500_000)[0],
    )


def test_a_successful_charge_is_recorded_once_for_its_customer(world: World, stripe_emulator: str) -> None:
    charge = _charge(world)
    assert charge.status == Charge.Status.SUCCEEDED
    services.charge_settle(payment_intent_id=charge.stripe_payment_intent_id)  # a webhook's re-read

    (entry,) = AuditEntry.objects.filter(action__startswith="charge.")
    assert (entry.action, entry.tenant, entry.object_type) == (
        Action.CHARGE_SUCCEEDED,
        world.customers["alpha"],
        "billing.charge",
    )
    assert entry.object_id == str(charge.pk) and entry.actor_label == "system"
    assert (
        entry.detail["amount_cents"] == 3_750_000
        and entry.detail["stripe_payment_intent"] == charge.stripe_payment_intent_id
    )


def test_a_declined_charge_is_recorded_with_the_reason(world: World, stripe_emulator: str) -> None:
    charge = _charge(world, DECLINES_CHARGES)
    assert charge.status == Charge.Status.FAILED

    (entry,) = AuditEntry.objects.filter(action__startswith="charge.")
    assert entry.action == Action.CHARGE_FAILED and entry.tenant == world.customers["alpha"]
    assert entry.detail["failure"] == charge.failure_message != ""


def test_a_partial_refund_is_recorded_with_the_account_manager_the_amount_and_the_reason(
    world: World, stripe_emulator: str
) -> None:
    charge = _charge(world)

    response = world.client("staff").post(
        f"/admin/billing/charge/{charge.pk}/refund/",
        {"amount": "1000.50", "reason": "two days of delay"},
        REMOTE_ADDR="192.0.2.77",
    )

    assert response.status_code == 302
    refund = Refund.objects.get()
    (entry,) = AuditEntry.objects.filter(action=Action.REFUND_ISSUED)
    assert (entry.actor, entry.tenant, entry.ip) == (world.users["staff"], world.customers["alpha"], "192.0.2.77")
    assert (entry.object_type, entry.object_id) == ("billing.refund", str(refund.pk))
    assert entry.detail == {
        "charge_id": charge.pk,
        "project_id": charge.project_id,
        "kind": "partial",
        "amount_cents": 100_050,
        "reason": "two days of delay",
    }


def test_a_guarantee_refund_is_recorded_once_per_charge(world: World, stripe_emulator: str) -> None:
    charge = _charge(world)
    assert charge.project_id is not None

    services.refund_full(schema_name="alpha", project_id=charge.project_id, reason="30-day guarantee failed")
    services.refund_full(schema_name="alpha", project_id=charge.project_id, reason="again")

    (entry,) = AuditEntry.objects.filter(action=Action.REFUND_ISSUED)
    assert entry.actor is None and entry.actor_label == "system" and entry.tenant == world.customers["alpha"]
    assert entry.detail["kind"] == "guarantee" and entry.detail["amount_cents"] == charge.amount_cents
