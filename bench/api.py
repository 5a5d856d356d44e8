"""Benchmark: the REST API under 200 concurrent clients across 20 companies, next to a bare view.

Runs against a scratch database (``hive_bench_api``, or ``BENCH_DATABASE_URL``) and a scratch Redis
database (``BENCH_REDIS_URL``, default db 14 of ``REDIS_URL``'s server) for the cache the API keys'
throttles and the host lookups use. The portal is served as in production — ``hive.asgi`` under
uvicorn (``--workers``, default 2) with the psycopg pool — and the same server also serves a bare
Django view (``/bench/bare/`` on the apex domain: the full middleware stack, no query, no
template), the baseline.

Provisioning: 20 companies, each with an owner, two projects (stories, a running workflow with
tasks, runs and events) and one read key per client. Then two phases on loopback, each with
``--clients`` asyncio clients (aiohttp) for ``--seconds``:

* API: every client is tied to one company and key and cycles through the reads of ``/api/v1/``
  (projects, a project, its stories, tasks, events by cursor, acceptance matrix, gates, charges);
* bare: the same clients on the bare view.

Every answer must be a 200 with the company's own data (its project names, never another's):
any other answer counts as an error, and the run fails when there is one. Latency percentiles
(p50/p95/p99) and throughput of both phases are printed side by side. The client runs on the same
two cores as the server, so absolute numbers include its own scheduling.

    .venv/bin/python bench/api.py [--seconds 60] [--bare-seconds 20] [--clients 200] [--tenants 20]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "hive_bench_api"
_redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
ENV = {
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", f"redis://{_redis.netloc}/14"),
    # Production behaviour where it matters (no DEBUG, the DB pool, Redis caches) without HTTPS
    # redirects or a collected static manifest: the testing switch only relaxes those.
    "HIVE_TESTING": "1",
    "HIVE_TEST_LOCAL_CACHES": "0",
    "DEBUG": "0",
    "HIVE_DB_POOL": "1",
    "HIVE_DB_POOL_SIZE": "8",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")

from bench.portal_server import admin_execute, percentile, serve  # noqa: E402

APEX = "hive.localhost"


# --- setup --------------------------------------------------------------------------------------


@dataclass
class Company:
    slug: str
    host: str
    project_ids: list[int]
    names: list[str]
    keys: list[str] = field(default_factory=list)


def provision(tenants: int, keys_per_tenant: int) -> list[Company]:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from api.keys import api_key_create
    from api.models import Scope
    from projects.models import Event, Phase, Project, Run, Service, Story, Task, Workflow
    from tenants.models import Customer, Domain, Membership, Role, User

    call_command("migrate_schemas", "--shared", verbosity=0)
    now = timezone.now()
    companies = []
    for n in range(tenants):
        slug = f"bench{n:02d}"
        customer = Customer(schema_name=slug, name=f"Bench Company {n}")
        customer.save(verbosity=0)
        host = f"{slug}.{APEX}"
        Domain.objects.create(domain=host, tenant=customer, is_primary=True)
        owner = User.objects.create_user(email=f"owner@{slug}.test", password="a-long-enough-bench-password")
        Membership.objects.create(user=owner, customer=customer, role=Role.OWNER)
        with schema_context(slug):
            ids, names = [], []
            for p in range(2):
                name = f"{slug} project {p}"
                project = Project.objects.create(name=name, service=Service.MVP, created_by=owner)
                ids.append(project.pk)
                names.append(name)
                Story.objects.bulk_create(
                    Story(project=project, position=s, title=f"Story {s}", as_a="user", i_want=f"thing {s}")
                    for s in range(12)
                )
                Workflow.objects.create(project=project, template="mvp", started_at=now - timedelta(days=2))
                phase = Phase.objects.create(project=project, position=1, key="development", name="Development")
                tasks = Task.objects.bulk_create(
                    Task(
                        project=project,
                        phase=phase,
                        position=t,
                        key="story",
                        title=f"Task {t}",
                        role="fullstack_developer",
                        status="done" if t % 3 else "running",
                    )
                    for t in range(30)
                )
                Run.objects.bulk_create(Run(task=task, attempt=1, provider="builtin") for task in tasks)
                Event.objects.bulk_create(
                    Event(project=project, task=task, kind="task.succeeded", message=task.title) for task in tasks * 2
                )
            keys = [
                api_key_create(name=f"bench client {k}", scope=Scope.READ, user=owner, expires_at=None)[1]
                for k in range(keys_per_tenant)
            ]
        companies.append(Company(slug, host, ids, names, keys))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return companies


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/bench/bare/", headers={"Host": APEX})
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not come up")


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _paths(company: Company) -> list[str]:
    paths = ["/api/v1/projects/", "/api/v1/charges/"]
    for pk in company.project_ids:
        base = f"/api/v1/projects/{pk}/"
        paths += [base, base + "stories/", base + "tasks/", base + "events/", base + "acceptance/", base + "gates/"]
    return paths


async def _run(port: int, companies: list[Company], clients: int, seconds: float, *, bare: bool) -> Phase:
    import aiohttp

    result = Phase()
    deadline = time.monotonic() + seconds
    others = {c.slug: [o for d in companies if d is not c for o in d.names] for c in companies}

    async def client(number: int, session: aiohttp.ClientSession) -> None:
        company = companies[number % len(companies)]
        key = company.keys[(number // len(companies)) % len(company.keys)]
        if bare:
            headers, paths = {"Host": APEX}, ["/bench/bare/"]
        else:
            headers, paths = {"Host": company.host, "Authorization": f"Api-Key {key}"}, _paths(company)
        step = number
        while time.monotonic() < deadline:
            path = paths[step % len(paths)]
            step += 1
            start = time.perf_counter()
            try:
                async with session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as response:
                    body = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                result.errors.append(f"{path}: {exc!r}")
                continue
            result.latencies.append((time.perf_counter() - start) * 1000)
            if status != 200:
                result.errors.append(f"{company.host}{path}: {status} {body[:200]}")
            elif not bare and (
                (path == "/api/v1/projects/" and company.names[0] not in body)
                or any(name in body for name in others[company.slug])
            ):
                result.errors.append(f"{company.host}{path}: not its own company's data")

    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(n, session) for n in range(clients)))
    return result


def measure(port: int, companies: list[Company], clients: int, seconds: float, *, bare: bool) -> Phase:
    asyncio.run(_run(port, companies, clients, min(3.0, seconds), bare=bare))  # warm every worker
    return asyncio.run(_run(port, companies, clients, seconds, bare=bare))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of the API phase")
    parser.add_argument("--bare-seconds", type=float, default=20.0, help="duration of the bare-view phase")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=20)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.workers)
        return

    if "BENCH_DATABASE_URL" not in os.environ:
        admin_execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin_execute(f"CREATE DATABASE {BENCH_DB}")
    import django

    django.setup()
    from redis import Redis

    Redis.from_url(ENV["REDIS_URL"]).flushdb()
    keys_per_tenant = max(1, -(-args.clients // args.tenants))
    began = time.monotonic()
    companies = provision(args.tenants, keys_per_tenant)
    took = time.monotonic() - began
    print(f"provisioned {args.tenants} companies, {args.tenants * keys_per_tenant} keys in {took:.1f} s")

    from tests.browser.asgi_server import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(port), "--workers", str(args.workers)],
        cwd=ROOT,
    )
    try:
        wait_for_port(port, server)
        api = measure(port, companies, args.clients, args.seconds, bare=False)
        bare = measure(port, companies, args.clients, args.bare_seconds, bare=True)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"\n{args.clients} concurrent clients, {args.tenants} companies, uvicorn ×{args.workers}, DB pool, loopback")
    print(f"{'what':34} {'s':>4} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    phases = (("API reads (/api/v1/, by key)", api, args.seconds), ("bare Django view", bare, args.bare_seconds))
    for name, phase, seconds in phases:
        n = len(phase.latencies)
        if not n:
            print(f"{name}: no answer at all ({phase.errors[:3]})")
            continue
        print(
            f"{name:34} {seconds:>4.0f} {n:>9} {len(phase.errors):>7} {n / seconds:>7.0f} "
            f"{percentile(phase.latencies, 50):>8.1f} {percentile(phase.latencies, 95):>8.1f} "
            f"{percentile(phase.latencies, 99):>8.1f}"
        )
    if "BENCH_DATABASE_URL" not in os.environ:
        # This process's own pool would reconnect to the database while it is being dropped.
        from django.db import connection

        connection.close_pool()  # type: ignore[attr-defined]
        admin_execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    errors = api.errors + bare.errors
    if errors:
        print("\nfirst errors:", *errors[:10], sep="\n  ")
        raise SystemExit(f"{len(errors)} errors")


if __name__ == "__main__":
    main()
