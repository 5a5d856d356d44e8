"""The host name → customer lookup the tenant middleware does on every request, cached in-process.

django-tenants queries the Domain table on every request; with a short-lived per-process cache
the portal skips that query. Saving a Customer or Domain clears the cache of the process that
saved it; other processes see the change within ``TTL_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save

TTL_SECONDS = 5.0

_lock = threading.Lock()
_entries: dict[str, tuple[float, Any]] = {}


def get(hostname: str) -> Any | None:
    with _lock:
        entry = _entries.get(hostname)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def put(hostname: str, customer: Any) -> None:
    with _lock:
        _entries[hostname] = (time.monotonic() + TTL_SECONDS, customer)


def clear(**_: Any) -> None:
    with _lock:
        _entries.clear()


def connect_invalidation() -> None:
    from tenants.models import Customer, Domain

    for model in (Customer, Domain):
        post_save.connect(clear, sender=model, dispatch_uid=f"host_cache_{model.__name__}_save")
        post_delete.connect(clear, sender=model, dispatch_uid=f"host_cache_{model.__name__}_delete")
