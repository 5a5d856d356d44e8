"""Milestone charges on localstripe: paid → webhook → milestone_paid; declined → failure kept and
milestone_failed; never twice (double click, concurrent calls, a worker that died mid-call)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from billing import gateway, services
from billing.milestones import acceptance_milestone, mvp_milestones
from billing.models import Charge, StripeCustomer, WebhookEvent
from projects.models import Service
from tests.billing.billing_world import (
    DECLINED_AT_ONCE,
    DECLINES_CHARGES,
    accepted_project,
    card_add,
    stripe_charges,
)
from tests.billing.conftest import Sent, wait_for
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)


def _charge_first_milestone(world: World, project: Any) -> Charge:
    milestone = acceptance_milestone(service=project.service, price_cents=7_500_000)
    assert milestone is not None
    return services.milestone_charge(
        customer=world.customers["alpha"],
        project_id=project.pk,
        project_name=project.name,
        service=project.service,
        milestone=milestone,
    )


def test_accepting_a_quote_charges_half_and_the_webhook_announces_it(
    world: World, webhooks_delivered: str, sent: Sent
) -> None:
    alpha = world.customers["alpha"]
    card_add(alpha)
    project = accepted_project("alpha", world.users["alpha_owner"])

    charge = _charge_first_milestone(world, project)

    assert charge.status == Charge.Status.SUCCEEDED
    assert charge.amount_cents == 3_750_000 and charge.milestone == "mvp-deposit"
    intent = gateway.payment_intent_retrieve(charge.stripe_payment_intent_id)
    assert intent.status == "succeeded" and intent.amount == 3_750_000
    metadata = intent.metadata.to_dict()
    assert metadata["schema_name"] == "alpha" and metadata["project_id"] == str(project.pk)
    assert metadata["milestone"] == "mvp-deposit" and metadata["statement_descriptor"] == "MVP DEPOSIT"
    stripe_customer = StripeCustomer.objects.get(customer=alpha)
    assert (
        gateway.client().v1.customers.retrieve(stripe_customer.stripe_id).to_dict()["metadata"]["schema_name"]
        == "alpha"
    )

    event = wait_for(
        lambda: WebhookEvent.objects.filter(type="payment_intent.succeeded", processed_at__isnull=False).first(),
        what="the verified payment_intent.succeeded webhook to be processed",
    )
    assert event.payload["data"]["object"]["id"] == intent.id
    assert sent.of("milestone_paid") == [
        {
            "schema_name": "alpha",
            "project_id": project.pk,
            "milestone": "mvp-deposit",
            "charge_id": charge.pk,
            "amount_cents": 3_750_000,
        }
    ]
    assert sent.of("milestone_failed") == []


def test_the_mvp_is_paid_half_on_acceptance_and_half_on_customer_acceptance() -> None:
    deposit, final = mvp_milestones(15_000_001)
    assert (deposit.key, final.key) == ("mvp-deposit", "mvp-acceptance")
    assert deposit.amount_cents + final.amount_cents == 15_000_001
    assessment = acceptance_milestone(service="modernization", price_cents=9_000_000)
    sprint = acceptance_milestone(service="augmentation", price_cents=5_000_000, outcome="sprint")
    assert assessment is not None and assessment.key == "assessment"
    assert sprint is not None and (sprint.key, sprint.amount_cents) == ("sprint-1", 2_500_000)
    assert acceptance_milestone(service="augmentation", price_cents=7_500_000, outcome="continuous") is None


def test_a_declined_card_leaves_the_reason_and_tells_the_owner(
    world: World, webhooks_delivered: str, sent: Sent
) -> None:
    alpha = world.customers["alpha"]
    card_add(alpha, DECLINES_CHARGES)
    project = accepted_project("alpha", world.users["alpha_owner"])

    charge = _charge_first_milestone(world, project)

    assert charge.status == Charge.Status.FAILED
    assert charge.failure_code == "card_declined"
    assert charge.failure_message == "Your card was declined."
    assert charge.stripe_payment_intent_id
    failed = sent.of("milestone_failed")
    assert len(failed) == 1 and failed[0]["failure_message"] == "Your card was declined."
    assert failed[0]["project_id"] == project.pk
    assert [m.to for m in mail.outbox] == [["alpha-owner@example.test"]]
    assert "did not go through" in mail.outbox[0].subject and "Your card was declined." in mail.outbox[0].body

    wait_for(
        lambda: WebhookEvent.objects.filter(type="payment_intent.payment_failed", processed_at__isnull=False).exists(),
        what="the payment_failed webhook",
    )
    assert len(sent.of("milestone_failed")) == 1  # the webhook confirms; it does not announce twice
    assert sent.of("milestone_paid") == []

    # The owner adds a good card and the payment is retried: a new attempt, paid once.
    good = card_add(alpha)
    services.payment_method_set_default(payment_method=good)
    retried = _charge_first_milestone(world, project)
    assert retried.pk == charge.pk and retried.status == Charge.Status.SUCCEEDED and retried.attempts == 2
    assert len(sent.of("milestone_paid")) == 1
    assert len(stripe_charges()) == 1


def test_a_card_declined_at_once_is_refused_with_the_message(world: World, stripe_emulator: str) -> None:
    with pytest.raises(services.BillingError, match="declined"):
        card_add(world.customers["alpha"], DECLINED_AT_ONCE)
    assert not StripeCustomer.objects.get(customer=world.customers["alpha"]).payment_methods.exists()


def test_without_a_card_the_milestone_fails_with_a_clear_reason(world: World, stripe_emulator: str, sent: Sent) -> None:
    project = accepted_project("alpha", world.users["alpha_owner"])
    charge = _charge_first_milestone(world, project)
    assert charge.status == Charge.Status.FAILED
    assert charge.failure_message == "There is no card on file to charge."
    assert len(sent.of("milestone_failed")) == 1


def test_charging_the_same_milestone_twice_charges_once(world: World, stripe_emulator: str, sent: Sent) -> None:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"])

    first = _charge_first_milestone(world, project)
    second = _charge_first_milestone(world, project)

    assert first.pk == second.pk and second.status == Charge.Status.SUCCEEDED
    assert len(stripe_charges()) == 1
    assert Charge.objects.count() == 1
    assert len(sent.of("milestone_paid")) == 1


def test_concurrent_charges_of_one_milestone_charge_once(world: World, stripe_emulator: str, sent: Sent) -> None:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"])

    def click(_: int) -> str:
        try:
            return _charge_first_milestone(world, project).status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(click, range(6)))

    assert set(statuses) <= {Charge.Status.SUCCEEDED, Charge.Status.PROCESSING}
    assert len(stripe_charges()) == 1
    assert Charge.objects.get().status == Charge.Status.SUCCEEDED
    assert len(sent.of("milestone_paid")) == 1


def test_a_worker_that_died_after_stripe_charged_is_recovered_without_a_second_charge(
    world: World, stripe_emulator: str, sent: Sent, monkeypatch: pytest.MonkeyPatch
) -> None:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"])
    real_create = gateway.payment_intent_create_off_session

    class WorkerKilled(BaseException):
        pass

    def charge_then_die(**kwargs: Any) -> Any:
        real_create(**kwargs)
        raise WorkerKilled  # the process dies before the answer is recorded

    monkeypatch.setattr(gateway, "payment_intent_create_off_session", charge_then_die)
    with pytest.raises(WorkerKilled):
        _charge_first_milestone(world, project)
    monkeypatch.setattr(gateway, "payment_intent_create_off_session", real_create)

    lost = Charge.objects.get()
    assert lost.status == Charge.Status.PROCESSING and not lost.stripe_payment_intent_id
    # A retry while the attempt may still be running does nothing ...
    assert _charge_first_milestone(world, project).status == Charge.Status.PROCESSING
    assert len(stripe_charges()) == 1
    # ... and once it is stale, the retry adopts Stripe's payment instead of charging again.
    Charge.objects.filter(pk=lost.pk).update(call_started_at=timezone.now() - timedelta(hours=1))
    recovered = _charge_first_milestone(world, project)

    assert recovered.status == Charge.Status.SUCCEEDED and recovered.attempts == 1
    assert len(stripe_charges()) == 1
    assert recovered.stripe_payment_intent_id == stripe_charges()[0].payment_intent
    assert len(sent.of("milestone_paid")) == 1


def test_other_services_charge_their_own_first_milestone(world: World, stripe_emulator: str) -> None:
    card_add(world.customers["alpha"])
    project = accepted_project(
        "alpha", world.users["alpha_owner"], service=Service.MODERNIZATION, price_cents=9_000_000
    )
    milestone = acceptance_milestone(service="modernization", price_cents=9_000_000)
    assert milestone is not None
    charge = services.milestone_charge(
        customer=world.customers["alpha"],
        project_id=project.pk,
        project_name=project.name,
        service="modernization",
        milestone=milestone,
    )
    assert (charge.milestone, charge.amount_cents, charge.status) == ("assessment", 9_000_000, "succeeded")
