"""``manage.py billing_reconcile [--since YYYY-MM-DD]``: report every difference between the
ledger and Stripe; exits 1 when there is one, so a scheduler can alert finance."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.reconcile import ledger_reconcile


class Command(BaseCommand):
    help = "Compare the billing ledger with Stripe and report the differences."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat, help="only charges created on or after this day (UTC)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = datetime.combine(options["since"], time.min, tzinfo=UTC) if options["since"] else None
        differences = ledger_reconcile(since=since)
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(f"{len(differences)} difference(s) between the ledger and Stripe")
        self.stdout.write(self.style.SUCCESS("The ledger matches Stripe."))
