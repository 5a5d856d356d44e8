"""Re-encrypt every stored repository credential with the first of HIVE_SECRET_KEYS (step two of
a key rotation: put the new key first, run this, then drop the old key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from projects.delivery.repository import secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored repository credential with the first key of HIVE_SECRET_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated, unreadable = secrets_rotate()
        self.stdout.write(f"{rotated} credential(s) re-encrypted with the first key.")
        for row in unreadable:
            self.stderr.write(f"no key opens the credential of {row}: that customer must connect the repository again")
