"""Continuous augmentation as a monthly Stripe Subscription: started, invoiced into the ledger,
cancelled at period end, ended, and paused when a renewal fails."""

from __future__ import annotations

import pytest

from billing import exports, gateway, services, webhooks
from billing.models import Charge, Subscription, WebhookEvent
from projects.models import Service
from tests.billing.billing_world import DECLINES_CHARGES, accepted_project, card_add, event_payload, signed
from tests.billing.conftest import Sent, wait_for
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)


def _start(world: World) -> Subscription:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"], service=Service.AUGMENTATION)
    return services.subscription_start(
        customer=world.customers["alpha"], project_id=project.pk, project_name=project.name
    )


def test_a_subscription_is_created_invoiced_and_cancelled_at_period_end(
    world: World, webhooks_delivered: str, sent: Sent
) -> None:
    subscription = _start(world)

    assert subscription.status == Subscription.Status.ACTIVE and subscription.amount_cents == 7_500_000
    remote = gateway.subscription_retrieve(subscription.stripe_subscription_id)
    assert remote.status == "active" and remote.metadata.to_dict()["project_id"] == str(subscription.project_id)
    invoice_row = Charge.objects.get(kind=Charge.Kind.SUBSCRIPTION)
    assert invoice_row.amount_cents == 7_500_000 and invoice_row.status == Charge.Status.SUCCEEDED
    assert exports.mrr_cents() == 7_500_000
    wait_for(
        lambda: WebhookEvent.objects.filter(type="invoice.payment_succeeded", processed_at__isnull=False).exists(),
        what="the invoice webhook",
    )
    assert Charge.objects.filter(kind=Charge.Kind.SUBSCRIPTION).count() == 1  # stored once, either way
    assert (
        services.subscription_start(
            customer=world.customers["alpha"], project_id=subscription.project_id, project_name="again"
        ).pk
        == subscription.pk
    )

    cancelled = services.subscription_cancel(subscription=subscription)

    assert cancelled.cancel_at_period_end and cancelled.status == Subscription.Status.ACTIVE
    assert gateway.subscription_retrieve(subscription.stripe_subscription_id).cancel_at_period_end is True
    assert exports.mrr_cents() == 0

    # At the period's end Stripe ends it and says so.
    gateway.client().v1.subscriptions.cancel(subscription.stripe_subscription_id)
    wait_for(
        lambda: Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.CANCELED,
        what="customer.subscription.deleted to end the subscription",
    )
    assert sent.of("subscription_canceled") == [
        {"schema_name": "alpha", "project_id": subscription.project_id, "subscription_id": subscription.pk}
    ]


def test_a_failed_renewal_pauses_the_engagement_once(world: World, stripe_emulator: str, sent: Sent) -> None:
    subscription = _start(world)
    services.payment_method_set_default(payment_method=card_add(world.customers["alpha"], DECLINES_CHARGES))
    client = gateway.client()
    renewal = client.v1.invoices.create(
        params={
            "customer": subscription.customer.stripe_customer.stripe_id,
            "subscription": subscription.stripe_subscription_id,
        }  # type: ignore[typeddict-unknown-key]
    )
    client.v1.invoices.pay(renewal.id)
    assert gateway.invoice_retrieve(renewal.id).status == "open"

    # localstripe does not send invoice.payment_failed for a renewal it was asked to pay; Stripe would.
    payload = event_payload("invoice.payment_failed", {"id": renewal.id, "object": "invoice"})
    for _ in range(2):  # Stripe retries and sends it again
        event, _new = webhooks.event_receive(payload=payload, signature=signed(payload))
        webhooks.event_process(event_pk=event.pk)
        payload = event_payload("invoice.payment_failed", {"id": renewal.id, "object": "invoice"})

    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.PAST_DUE
    assert sent.of("subscription_renewal_failed") == [
        {
            "schema_name": "alpha",
            "project_id": subscription.project_id,
            "subscription_id": subscription.pk,
            "failure_message": "The monthly payment for continuous augmentation failed.",
        }
    ]
    assert Charge.objects.filter(kind=Charge.Kind.SUBSCRIPTION).count() == 1  # the unpaid renewal is no income


def test_a_subscription_needs_a_card(world: World, stripe_emulator: str) -> None:
    project = accepted_project("alpha", world.users["alpha_owner"], service=Service.AUGMENTATION)
    with pytest.raises(services.BillingError, match="Add a card"):
        services.subscription_start(customer=world.customers["alpha"], project_id=project.pk, project_name=project.name)
