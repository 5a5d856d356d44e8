"""Benchmark: the live dashboard, end to end, on a 1,000-task project.

Runs against a scratch database (``hive_bench_live``, or ``BENCH_DB_NAME``, or
``BENCH_DATABASE_URL``) and its own Redis database for the channel layer (``BENCH_REDIS_URL``,
default db 12). The portal is served as in
production — ``hive.asgi`` under uvicorn with two worker processes and the psycopg pool — and the
same server also serves a bare Django view (``/bench/bare/`` on the apex domain: the full
middleware stack, no query, no template), the baseline for throughput. Three measurements:

* event commit → DOM change: Chromium keeps the dashboard open; this process appends 200 events
  one after another (``projects.delivery.events.event_append``, autocommit) and a ``MutationObserver`` in
  the page stamps when each row appears (after 20 warm-up events, not counted). Target p95 < 100 ms.
  It also counts the page's websocket (re)connects: more than one means the socket dropped
  during the run, and the events that arrived meanwhile waited for the reconnect.
* dashboard latency, one client: 200 sequential GETs of the dashboard page over keep-alive.
  Target p95 < 50 ms. The page's live part is cached until the project's next event
  (``success.state_cache``); the same series with the cache invalidated before every request
  shows what a render from the database costs.
* throughput under 20 concurrent clients (aiohttp) for the dashboard and for the bare view;
  reported as a ratio. Target ≥ 0.25. The two alternate in short rounds (``--rounds`` of
  ``--seconds`` / rounds each, the order flipped every round) and the ratio is the median of the
  rounds' ratios: on a shared machine whose load changes from one second to the next, two
  back-to-back 10 s windows compared the dashboard with a bare view measured under another load.

The machine's load average is printed before and after: results are comparable only between
runs made one after the other under similar load.

    .venv/bin/python bench/live.py [--events 200] [--requests 200] [--seconds 10] [--rounds 5] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DB_NAME", "hive_bench_live")  # one per checkout running it at once
SLUG = "bench"
HOST = f"{SLUG}.hive.localhost"
PASSWORD = "a-long-enough-bench-password"
ENV = {
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    # Production behaviour where it matters here (no DEBUG query log, the DB pool) without HTTPS
    # redirects or a collected static manifest: the testing switch only relaxes those.
    "HIVE_TESTING": "1",
    "HIVE_TEST_LOCAL_CACHES": "0",  # Redis caches and sessions, as in production
    "DEBUG": "0",
    "HIVE_DB_POOL": "1",
    "HIVE_DB_POOL_SIZE": "8",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")

from bench.portal_server import admin_execute, percentile, serve  # noqa: E402

# --- setup --------------------------------------------------------------------------------------


def recreate_database() -> None:
    admin_execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    admin_execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def provision(tasks: int) -> tuple[int, str]:
    """A customer with a member and a running project of ``tasks`` tasks; (project id, session)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from projects.models import Event, Phase, Project, Run, Service, Task, Workflow
    from tenants.models import Customer, Domain, Membership, Role, User

    call_command("migrate_schemas", "--shared", verbosity=0)
    customer = Customer(schema_name=SLUG, name="Bench Industries")
    customer.save(verbosity=0)
    Domain.objects.create(domain=HOST, tenant=customer, is_primary=True)
    user = User.objects.create_user(email="member@bench.test", password=PASSWORD)
    Membership.objects.create(user=user, customer=customer, role=Role.MEMBER)
    now = timezone.now()
    start = now - timedelta(days=3)
    with schema_context(SLUG):
        project = Project.objects.create(name="Bench marketplace", service=Service.MVP)
        Workflow.objects.create(
            project=project, template="mvp", started_at=start, planned_end=start + timedelta(days=40)
        )
        names = [
            "Requirements analysis",
            "Architecture",
            "Sprint planning",
            "Development",
            "Quality gates",
            "Deployment",
        ]
        phases = Phase.objects.bulk_create(
            [
                Phase(
                    project=project,
                    position=n,
                    key=f"p{n}",
                    name=name,
                    weight=4 if name == "Development" else 1,
                    status="done" if n < 4 else ("running" if n == 4 else "pending"),
                    planned_start=start + timedelta(days=5 * (n - 1)),
                    planned_end=start + timedelta(days=5 * n),
                    started_at=start + timedelta(hours=12 * (n - 1)) if n <= 4 else None,
                    finished_at=start + timedelta(hours=12 * n) if n < 4 else None,
                )
                for n, name in enumerate(names, 1)
            ]
        )
        development = phases[3]
        cycle = ["done", "done", "running", "ready", "pending", "blocked"]
        rows = [
            Task(
                project=project,
                phase=phases[n % 3] if n < 30 else development if n < tasks - 20 else phases[4 + n % 2],
                position=n,
                key="story",
                title=f"Story {n}: a customer can do thing {n}",
                role="fullstack_developer",
                status="done" if n < 30 else cycle[n % len(cycle)],
                started_at=start + timedelta(minutes=n),
                finished_at=start + timedelta(minutes=3 * n) if n < 30 or cycle[n % len(cycle)] == "done" else None,
            )
            for n in range(tasks)
        ]
        created = Task.objects.bulk_create(rows)
        Run.objects.bulk_create(
            [
                Run(
                    task=task,
                    attempt=1,
                    agent_name=f"dev-{task.pk % 8}",
                    provider="builtin",
                    status="running" if task.status == "running" else "succeeded",
                    started_at=task.started_at or now,
                    usage_seconds=30.0,
                )
                for task in created
                if task.status in ("running", "done")
            ]
        )
        Event.objects.bulk_create(
            [
                Event(project=project, task=task, phase_id=task.phase_id, kind="task.succeeded", message=task.title)
                for task in created
                if task.status == "done"
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by now on a project this size
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return project.pk, client.cookies[settings.SESSION_COOKIE_NAME].value


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/bench/bare/", headers={"Host": "hive.localhost"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not come up")


# --- measurements -----------------------------------------------------------------------------

_OBSERVER = """() => {
  window.__seen = {};
  const stamp = (node) => {
    if (node.id && node.id.startsWith('event-')) window.__seen[node.id] = performance.timeOrigin + performance.now();
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) for (const n of m.addedNodes) {
      if (n.nodeType === 1) { stamp(n); n.querySelectorAll('[id^="event-"]').forEach(stamp); }
    }
  }).observe(document.body, {childList: true, subtree: true});
}"""


EVENT_WARMUP = 20


def event_latency(port: int, project_id: int, session: str, events: int) -> tuple[list[float], int]:
    """Commit → DOM latencies of ``events`` events (after the warm-up), and how many times the
    page opened its websocket."""
    from django.conf import settings
    from django.db import connection
    from django_tenants.utils import schema_context
    from playwright.sync_api import sync_playwright

    from projects.delivery.events import event_append
    from projects.models import Event, Task

    with schema_context(SLUG):
        task_ids = list(Task.objects.filter(project_id=project_id, status="running").values_list("pk", flat=True)[:20])
        tasks = list(Task.objects.filter(pk__in=task_ids))
    latencies = []
    # Playwright's sync API runs an event loop in this thread; the ORM calls around it stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("HIVE_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context()
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": ".hive.localhost", "path": "/"}]
        )
        page = context.new_page()
        sockets: list[Any] = []
        page.on("websocket", lambda socket: sockets.append(socket))
        page.goto(f"http://{HOST}:{port}/projects/{project_id}/dashboard/")
        page.wait_for_selector('[data-testid="live-status"][data-live="1"]', timeout=15_000)
        page.evaluate(_OBSERVER)
        with schema_context(SLUG):
            for n in range(EVENT_WARMUP + events):
                task = tasks[n % len(tasks)]
                event = event_append(
                    project_id=project_id, kind=Event.Kind.TASK_REPORT, task=task, message=f"bench report {n}"
                )
                committed = time.time() * 1000  # autocommit: the row is committed when create() returns
                key = f"event-{event.pk}"
                page.wait_for_function(f"() => window.__seen['{key}'] !== undefined", timeout=10_000)
                if n >= EVENT_WARMUP:
                    latencies.append(page.evaluate(f"() => window.__seen['{key}']") - committed)
                time.sleep(0.02)
        browser.close()
    connection.close()
    return latencies, len(sockets)


def dashboard_latency(port: int, project_id: int, session: str, requests: int, *, fresh: bool) -> list[float]:
    """Sequential page loads; with ``fresh``, the cached state is invalidated before each one (as
    an event would), so every load renders the dashboard from the database."""
    from django.conf import settings
    from django_tenants.utils import schema_context

    from success.state_cache import version_bump

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": HOST, "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    path = f"/projects/{project_id}/dashboard/"
    timings = []
    for n in range(requests + 20):
        if fresh:
            with schema_context(SLUG):
                version_bump(project_id)
        start = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200 or b"Bench marketplace" not in body:
            raise SystemExit(f"dashboard answered {response.status}")
        if n >= 20:  # warm-up: connections in the pool, templates loaded
            timings.append(elapsed)
    connection.close()
    return timings


async def _load(port: int, host: str, path: str, cookie: str, clients: int, seconds: float) -> tuple[int, int]:
    import aiohttp

    done = errors = 0
    deadline = time.monotonic() + seconds
    headers = {"Host": host, "Cookie": cookie}

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done, errors
        while time.monotonic() < deadline:
            async with session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as response:
                await response.read()
                if response.status == 200:
                    done += 1
                else:
                    errors += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return done, errors


def throughput(port: int, host: str, path: str, cookie: str, clients: int, seconds: float) -> float:
    done, errors = asyncio.run(_load(port, host, path, cookie, clients, seconds))
    if errors:
        raise SystemExit(f"{errors} failed requests on {path}")
    return done / seconds


def interleaved_throughput(
    port: int, targets: list[tuple[str, str, str]], clients: int, seconds: float, rounds: int
) -> list[list[float]]:
    """Requests per second of each (host, path, cookie) target, measured in ``rounds`` short
    rounds that alternate the targets (order flipped every round), after a warm-up of each."""
    for host, path, cookie in targets:
        throughput(port, host, path, cookie, clients, 1.0)  # warm every worker
    per_round = seconds / rounds
    results: list[list[float]] = [[] for _ in targets]
    for number in range(rounds):
        order = list(range(len(targets)))
        if number % 2:
            order.reverse()
        for index in order:
            host, path, cookie = targets[index]
            results[index].append(throughput(port, host, path, cookie, clients, per_round))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.workers)
        return

    if "BENCH_DATABASE_URL" not in os.environ:
        recreate_database()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from redis import Redis

    Redis.from_url(ENV["REDIS_URL"]).flushdb()
    project_id, session = provision(args.tasks)
    connection.close()

    from tests.browser.asgi_server import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(port), "--workers", str(args.workers)],
        cwd=ROOT,
    )
    load_before = os.getloadavg()
    try:
        wait_for_port(port, server)
        events, connects = event_latency(port, project_id, session, args.events)
        latency = dashboard_latency(port, project_id, session, args.requests, fresh=False)
        rendered = dashboard_latency(port, project_id, session, args.requests, fresh=True)
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
        dashboard_rounds, bare_rounds = interleaved_throughput(
            port,
            [(HOST, f"/projects/{project_id}/dashboard/", cookie), ("hive.localhost", "/bench/bare/", "")],
            args.clients,
            args.seconds,
            args.rounds,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)

    load_after = os.getloadavg()
    print(f"\nlive dashboard, {args.tasks}-task project, uvicorn ×{args.workers}, DB pool")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
        " (compare runs only under similar load)"
    )
    print(f"{'what':52} {'n':>5} {'median ms':>10} {'p95 ms':>8}  target")
    rows = [
        ("event commit → DOM change (Chromium)", events, "p95 < 100 ms"),
        ("dashboard page, 1 client", latency, "p95 < 50 ms"),
        ("dashboard page, 1 client, re-rendered every time", rendered, ""),
    ]
    for name, values, target in rows:
        print(f"{name:52} {len(values):>5} {statistics.median(values):>10.1f} {percentile(values, 95):>8.1f}  {target}")
    print(f"websocket (re)connects during the event run: {connects} (1 = it never dropped)")
    ratios = [dashboard / bare for dashboard, bare in zip(dashboard_rounds, bare_rounds, strict=True)]
    print(f"\n{args.clients} clients, {args.rounds} interleaved rounds, {args.seconds:.0f} s per target in all:")
    print(f"  bare Django view      {statistics.median(bare_rounds):8.0f} req/s (median of rounds)")
    print(f"  dashboard (1k tasks)  {statistics.median(dashboard_rounds):8.0f} req/s (median of rounds)")
    print(
        f"  ratio {statistics.median(ratios):.3f} (median; rounds {min(ratios):.3f}–{max(ratios):.3f})  (target ≥ 0.25)"
    )

    if "BENCH_DATABASE_URL" not in os.environ:
        drop_database()


if __name__ == "__main__":
    main()
