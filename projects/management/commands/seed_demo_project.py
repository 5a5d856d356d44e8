"""Create and start the demo customer's demo MVP (``projects.delivery.demo``); run after ``seed_demo``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from projects.delivery.demo import demo_project_ensure
from tenants.management.commands.seed_demo import DEMO_OWNER
from tenants.models import User


class Command(BaseCommand):
    help = "Create the demo MVP project of the demo customer and start its workflow (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        project = demo_project_ensure(owner=User.objects.get(email=DEMO_OWNER))
        self.stdout.write(f"demo project “{project.name}” (id {project.pk}) is in delivery")
