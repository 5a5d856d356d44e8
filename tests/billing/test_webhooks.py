"""The webhook endpoint: verified by signature on the raw body, stored once, processed by Celery;
forged, stale and replayed deliveries refused; events in any order."""

from __future__ import annotations

import json
import logging
import time

import pytest
import stripe

from billing import gateway, services, webhooks
from billing.milestones import acceptance_milestone
from billing.models import Charge, WebhookEvent
from tests.billing.billing_world import DECLINES_CHARGES, accepted_project, card_add, event_payload, signed
from tests.billing.conftest import Sent, wait_for
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/stripe/webhook/"


def _post(world: World, payload: bytes, signature: str) -> tuple[int, str]:
    response = world.client().post(URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
    return response.status_code, response.content.decode()


def _paid_charge(world: World) -> Charge:
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"])
    milestone = acceptance_milestone(service="mvp", price_cents=7_500_000)
    assert milestone is not None
    return services.milestone_charge(
        customer=world.customers["alpha"],
        project_id=project.pk,
        project_name=project.name,
        service="mvp",
        milestone=milestone,
    )


def test_a_forged_event_is_refused_logged_and_not_stored(
    world: World, stripe_emulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_forged"})
    with caplog.at_level(logging.WARNING, logger="billing.webhooks"):
        status, body = _post(world, payload, signed(payload, secret="whsec_somebody_else"))
    assert status == 400 and "refused" in body
    assert "webhook refused" in caplog.text
    assert _post(world, payload, "")[0] == 400
    assert _post(world, b"not json", signed(b"not json"))[0] == 400
    assert not WebhookEvent.objects.exists()


def test_a_stale_event_is_refused(world: World, stripe_emulator: str) -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_old"})
    status, body = _post(world, payload, signed(payload, timestamp=int(time.time()) - 3600))
    assert status == 400 and "tolerance" in body
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("ahead", [24 * 3600, 400])
def test_an_event_signed_in_the_future_beyond_the_tolerance_is_refused(
    world: World, stripe_emulator: str, ahead: int
) -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_future"})
    status, body = _post(world, payload, signed(payload, timestamp=int(time.time()) + ahead))
    assert status == 400 and "tolerance" in body
    assert not WebhookEvent.objects.exists()


def test_an_event_signed_slightly_ahead_within_the_tolerance_is_accepted(world: World, stripe_emulator: str) -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_skewed"})
    status, _ = _post(world, payload, signed(payload, timestamp=int(time.time()) + 60))
    assert status == 200
    assert WebhookEvent.objects.count() == 1


def test_a_live_event_is_refused_with_test_keys(world: World, stripe_emulator: str) -> None:
    event = json.loads(event_payload("payment_intent.succeeded", {"id": "pi_live"}))
    payload = json.dumps({**event, "livemode": True}).encode()
    assert _post(world, payload, signed(payload))[0] == 400


def test_a_replayed_event_is_stored_once_and_processed_once(
    world: World, stripe_emulator: str, sent: Sent, django_capture_on_commit_callbacks: object
) -> None:
    charge = _paid_charge(world)
    assert len(sent.of("milestone_paid")) == 1
    intent = gateway.payment_intent_retrieve(charge.stripe_payment_intent_id)
    payload = event_payload("payment_intent.succeeded", intent.to_dict())

    first = webhooks.event_receive(payload=payload, signature=signed(payload))
    replay = _post(world, payload, signed(payload))

    assert first[1] is True
    assert replay == (200, "already received")
    stored = WebhookEvent.objects.get()
    assert stored.deliveries == 2
    webhooks.event_process(event_pk=stored.pk)
    webhooks.event_process(event_pk=stored.pk)
    assert WebhookEvent.objects.get().attempts == 1
    assert len(sent.of("milestone_paid")) == 1


def test_events_in_any_order_end_in_stripes_current_state(world: World, stripe_emulator: str, sent: Sent) -> None:
    """A failure of attempt 1 arriving after attempt 2 succeeded changes nothing: handlers re-read."""
    card_add(world.customers["alpha"], DECLINES_CHARGES)
    project = accepted_project("alpha", world.users["alpha_owner"])
    milestone = acceptance_milestone(service="mvp", price_cents=7_500_000)
    assert milestone is not None
    kwargs = {
        "customer": world.customers["alpha"],
        "project_id": project.pk,
        "project_name": project.name,
        "service": "mvp",
        "milestone": milestone,
    }
    failed = services.milestone_charge(**kwargs)  # type: ignore[arg-type]
    first_intent = failed.stripe_payment_intent_id
    services.payment_method_set_default(payment_method=card_add(world.customers["alpha"]))
    paid = services.milestone_charge(**kwargs)  # type: ignore[arg-type]
    assert paid.status == Charge.Status.SUCCEEDED

    late = event_payload("payment_intent.payment_failed", {"id": first_intent})
    stored, _ = webhooks.event_receive(payload=late, signature=signed(late))
    webhooks.event_process(event_pk=stored.pk)

    assert Charge.objects.get().status == Charge.Status.SUCCEEDED
    assert len(sent.of("milestone_failed")) == 1 and len(sent.of("milestone_paid")) == 1


def test_a_lost_answer_is_settled_by_the_webhook(
    world: World, webhooks_delivered: str, sent: Sent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe charged but our worker never recorded it: the webhook alone settles the ledger."""
    card_add(world.customers["alpha"])
    project = accepted_project("alpha", world.users["alpha_owner"])
    real_create = gateway.payment_intent_create_off_session

    def answer_lost(**kwargs: object) -> object:
        real_create(**kwargs)  # type: ignore[arg-type]
        raise stripe.APIConnectionError("connection reset")  # type: ignore[no-untyped-call]

    monkeypatch.setattr(gateway, "payment_intent_create_off_session", answer_lost)
    milestone = acceptance_milestone(service="mvp", price_cents=7_500_000)
    assert milestone is not None
    charge = services.milestone_charge(
        customer=world.customers["alpha"],
        project_id=project.pk,
        project_name=project.name,
        service="mvp",
        milestone=milestone,
    )
    assert charge.status == Charge.Status.PROCESSING

    wait_for(lambda: Charge.objects.get().status == Charge.Status.SUCCEEDED, what="the webhook to settle the charge")
    assert len(sent.of("milestone_paid")) == 1
