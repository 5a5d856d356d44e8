"""Create (or refresh) the demo customer ``demo`` with an owner, and an account-manager login.

Idempotent: a second run finds everything in place and only resets the two passwords to the
ones given, so the login ``make run`` prints always works.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tenants import services
from tenants.models import Customer, Membership, Role, User

DEMO_SLUG = "demo"
DEMO_OWNER = "owner@demo.example"
DEMO_MANAGER = "manager@hive.example"


class Command(BaseCommand):
    help = "Create the demo customer and logins (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", required=True, help="Password for the demo owner and the account manager")

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = options["password"]
        customer = Customer.objects.filter(schema_name=DEMO_SLUG).first()
        if customer is None:
            # The demo's addresses are ours: confirmed, so the demo owner can accept and pay.
            customer, owner = services.customer_signup(
                company_name="Demo Company",
                subdomain=DEMO_SLUG,
                email=DEMO_OWNER,
                password=password,
                email_verified_at=timezone.now(),
            )
            self.stdout.write(f"created customer {customer.name} at {DEMO_SLUG}.{settings.HIVE_DOMAIN}")
        else:
            owner = User.objects.get(email=DEMO_OWNER)
            owner.set_password(password)
            owner.save(update_fields=["password"])
            Membership.objects.get_or_create(user=owner, customer=customer, defaults={"role": Role.OWNER})
        manager = User.objects.filter(email=DEMO_MANAGER).first() or User.objects.create_superuser(
            email=DEMO_MANAGER, password=password, full_name="Demo Account Manager"
        )
        manager.set_password(password)
        manager.email_verified_at = manager.email_verified_at or timezone.now()
        manager.save(update_fields=["password", "email_verified_at"])
        if customer.account_manager_id != manager.pk:
            customer.account_manager = manager
            customer.save(update_fields=["account_manager"])
