"""The page-load probe: timed HTTP requests against a running application.

Each page is fetched ``rounds`` times over a fresh connection made by ``connect`` (a preview's
private socket, see agents/previews.py; the time covers connect, request and the full body), after
one unmeasured warm-up. Pages behind a login are
fetched with the session of a probe account that the probe signs up first. The p95 is the
nearest-rank 95th percentile of every measured fetch.
"""

from __future__ import annotations

import http.client
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode


@dataclass(frozen=True, slots=True)
class PageLoadReport:
    samples: int
    p95_ms: float
    max_ms: float
    pages: dict[str, dict[str, float]] = field(default_factory=dict)  # path → status, median, max


Connect = Callable[[], http.client.HTTPConnection]


def _fetch(connect: Connect, path: str, *, method: str = "GET", body: bytes = b"", cookie: str = "") -> tuple[int, str]:
    connection = connect()
    try:
        headers = {"Host": connection.host}
        if cookie:
            headers["Cookie"] = cookie
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Set-Cookie", "")
    finally:
        connection.close()


def probe_login(connect: Connect) -> str:
    """Sign up a probe account; returns its session cookie ("" when the app has no sign-up)."""
    form = urlencode({"email": f"probe-{secrets.token_hex(4)}@preview.invalid", "password": secrets.token_urlsafe(12)})
    status, set_cookie = _fetch(connect, "/register", method="POST", body=form.encode())
    match = re.match(r"(session=[^;]+)", set_cookie)
    return match.group(1) if status in (200, 302) and match else ""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else 0.0


def page_load_probe(connect: Connect, public: list[str], private: list[str], *, rounds: int = 5) -> PageLoadReport:
    cookie = probe_login(connect) if private else ""
    pages: dict[str, dict[str, float]] = {}
    every: list[float] = []
    for path, session in [(p, "") for p in public] + [(p, cookie) for p in private]:
        _fetch(connect, path, cookie=session)
        timings, status = [], 0
        for _ in range(rounds):
            started = time.perf_counter()
            status, _cookie = _fetch(connect, path, cookie=session)
            timings.append((time.perf_counter() - started) * 1000)
        every += timings
        pages[path] = {
            "status": status,
            "median_ms": round(percentile(timings, 0.5), 2),
            "max_ms": round(max(timings), 2),
        }
    return PageLoadReport(
        samples=len(every),
        p95_ms=round(percentile(every, 0.95), 2),
        max_ms=round(max(every, default=0.0), 2),
        pages=pages,
    )
