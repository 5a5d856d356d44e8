"""Stop every customer preview running under the storage root (``make run`` calls it on Ctrl-C)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from agents.previews import previews_stop_all


class Command(BaseCommand):
    help = "Stop every running preview of generated applications under HIVE_STORAGE_ROOT."

    def handle(self, *args: Any, **options: Any) -> None:
        stopped = previews_stop_all(Path(settings.HIVE_STORAGE_ROOT))
        self.stdout.write(f"stopped {stopped} preview(s)")
