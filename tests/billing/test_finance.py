"""Finance: the CSV of a period totals what Stripe took; MRR and revenue by service in admin;
``billing_reconcile`` finds a difference planted in the ledger."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from billing import services
from billing.milestones import acceptance_milestone, mvp_milestones
from billing.models import Charge
from projects.models import Service
from tests.billing.billing_world import accepted_project, card_add, stripe_charges
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)


def _activity(world: World) -> None:
    """Two tenants: an MVP paid in full with a partial refund, an assessment, a subscription."""
    for slug in ("alpha", "beta"):
        card_add(world.customers[slug])
    mvp = accepted_project("alpha", world.users["alpha_owner"])
    paid = [
        services.milestone_charge(
            customer=world.customers["alpha"], project_id=mvp.pk, project_name=mvp.name, service="mvp", milestone=m
        )
        for m in mvp_milestones(7_500_000)
    ]
    services.refund_partial(charge=paid[1], amount_cents=12_345, reason="late", user=None)
    legacy = accepted_project("beta", world.users["beta_owner"], service=Service.MODERNIZATION, price_cents=6_000_000)
    milestone = acceptance_milestone(service="modernization", price_cents=6_000_000)
    assert milestone is not None
    services.milestone_charge(
        customer=world.customers["beta"],
        project_id=legacy.pk,
        project_name=legacy.name,
        service="modernization",
        milestone=milestone,
    )
    augmentation = accepted_project("beta", world.users["beta_owner"], service=Service.AUGMENTATION)
    services.subscription_start(
        customer=world.customers["beta"], project_id=augmentation.pk, project_name=augmentation.name
    )


def test_the_csv_of_a_period_totals_what_stripe_took(world: World, stripe_emulator: str) -> None:
    _activity(world)
    today = date.today().isoformat()

    response = world.client("staff").get("/admin/billing/charge/export/", {"start": today, "end": today})

    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    lines, total = rows[:-1], rows[-1]
    assert total["date"] == "TOTAL"
    stripe_net = sum(c.amount - c.amount_refunded for c in stripe_charges())
    assert stripe_net == 7_500_000 - 12_345 + 6_000_000 + 7_500_000
    assert round(sum(float(r["amount_usd"]) for r in lines) * 100) == stripe_net
    assert round(float(total["amount_usd"]) * 100) == stripe_net
    assert {r["tenant"] for r in lines} == {"Alpha Industries", "Beta Logistics"}
    assert sum(1 for r in lines if r["entry"].startswith("refund")) == 1


def test_admin_shows_mrr_and_revenue_by_service(world: World, stripe_emulator: str) -> None:
    _activity(world)
    response = world.client("staff").get("/admin/billing/charge/summary/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "$75,000" in content  # MRR: one continuous augmentation
    assert "$74,876.55" in content  # MVP net of the refund
    assert "$60,000" in content and "$75,000" in content
    assert world.client("staff").get("/admin/billing/charge/?status__exact=succeeded").status_code == 200


def test_reconciliation_finds_a_difference_planted_in_the_ledger(world: World, stripe_emulator: str) -> None:
    _activity(world)
    out = io.StringIO()
    call_command("billing_reconcile", stdout=out)
    assert "matches Stripe" in out.getvalue()

    planted = Charge.objects.filter(milestone="mvp-deposit").get()
    Charge.objects.filter(pk=planted.pk).update(amount_cents=planted.amount_cents + 100)
    missing = Charge.objects.filter(milestone="assessment").get()
    Charge.objects.filter(pk=missing.pk).delete()

    out = io.StringIO()
    with pytest.raises(CommandError, match="2 difference"):
        call_command("billing_reconcile", stdout=out)
    report = out.getvalue()
    assert f"ledger #{planted.pk}" in report and "amount: ledger $37,501, Stripe $37,500" in report
    assert "Stripe took $60,000 that the ledger does not record" in report
