"""Benchmark: the orchestration overhead of running agent tasks through real Celery workers.

Runs against a scratch database (``BENCH_DATABASE``, default ``hive_bench_orchestration``) and
its own Redis database (``BENCH_REDIS_URL``, default db 13), with two worker processes as in
production: one on the ``agents`` queue (prefork, ``--agents-concurrency``) and one on
``control``. Every task uses the no-op role and provider, so what is measured is the
orchestration itself:

* bare Celery: ``apply_async`` → result of an empty task (``celery.accumulate``) on the same
  agents worker, one at a time;
* dispatch overhead under light load: projects of 10 tasks in a chain, one project after another,
  task ready → running (each task becomes ready when the one before it finishes), also split at
  the lease (ready → queued with an agent → running) and into the first task of each project
  (made ready by ``project_start`` in this process) and the others (made ready by the worker);
* 200 projects × 10 tasks (1 → 8 parallel → 1) started at once: throughput in tasks/s, and
  ready → running (which now includes waiting for a free agent) next to leased → running.

Target: light-load overhead p95 < 50 ms above the bare Celery round trip's p95.

    .venv/bin/python bench/orchestration.py [--projects 200] [--light 30] [--agents 16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DATABASE", "hive_bench_orchestration")
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-anything-else",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}",
    "CELERY_BROKER_URL": BROKER,
    "CELERY_RESULT_BACKEND": BROKER,
    "HIVE_STORAGE_ROOT": str(ROOT / "var" / "bench-storage"),
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
os.environ.pop("HIVE_TESTING", None)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def start_workers(agents_concurrency: int) -> list[subprocess.Popen[bytes]]:
    celery = str(ROOT / ".venv" / "bin" / "celery")
    common = ["-A", "hive", "worker", "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    env = {**os.environ, **ENV}
    return [
        subprocess.Popen(
            [celery, *common, "-Q", "agents", "-c", str(agents_concurrency), "-n", "bench-agents@%h"], cwd=ROOT, env=env
        ),
        subprocess.Popen(
            [celery, *common, "-Q", "control,celery", "-c", "2", "-n", "bench-control@%h"], cwd=ROOT, env=env
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--light", type=int, default=30, help="projects run one at a time for the latency row")
    parser.add_argument("--agents", type=int, default=16, help="size of the no-op agent pool")
    parser.add_argument("--agents-concurrency", type=int, default=2)
    args = parser.parse_args()

    recreate_database()
    import django
    import redis

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from agents.pools import pools_ensure
    from agents.roles import Role
    from hive.celery import app
    from projects.delivery.planning import project_start
    from projects.delivery.workflow import PhaseTemplate, Step, WorkflowTemplate
    from projects.models import Project, Run, Service, Task, Workflow
    from tenants.models import Customer

    redis.Redis.from_url(BROKER).flushdb()
    call_command("migrate_schemas", "--shared", verbosity=0)
    tenant = Customer(schema_name="bench", name="Bench")
    tenant.save(verbosity=0)
    pools_ensure(sizes={Role.NOOP: args.agents})
    noop = Role.NOOP
    template = WorkflowTemplate(
        name="bench",
        phases=(
            PhaseTemplate("first", "First", 1, (Step("first", "First", noop),)),
            PhaseTemplate("middle", "Middle", 8, (Step("middle", "Middle", noop, fan_out="items"),)),
            PhaseTemplate("last", "Last", 1, (Step("last", "Last", noop),)),
        ),
        items=tuple({"number": n, "title": f"item {n}"} for n in range(1, 9)),
    )
    chain = WorkflowTemplate(
        name="bench-chain",
        phases=tuple(PhaseTemplate(f"p{n}", f"Phase {n}", 1, (Step("step", "Step", noop),)) for n in range(10)),
    )
    workers = start_workers(args.agents_concurrency)
    try:
        accumulate = app.tasks["celery.accumulate"]
        accumulate.apply_async(args=[0], queue="agents").get(timeout=60)  # the workers are up
        bare: list[float] = []
        for i in range(200):
            began = time.perf_counter()
            accumulate.apply_async(args=[i], queue="agents").get(timeout=10)
            bare.append(time.perf_counter() - began)

        def run(count: int, *, one_at_a_time: bool, shape: WorkflowTemplate) -> tuple[list[int], float]:
            ids: list[int] = []
            began = time.perf_counter()
            with schema_context("bench"):
                for i in range(count):
                    project = Project.objects.create(name=f"bench {i}", service=Service.MVP)
                    project_start(project=project, template=shape, provider="noop")
                    ids.append(project.pk)
                    # Poll gently: this process shares the two cores with the workers it measures.
                    while (
                        one_at_a_time
                        and not Workflow.objects.filter(project=project, status=Workflow.Status.COMPLETED).exists()
                    ):
                        time.sleep(0.02)
                deadline = time.monotonic() + 600
                while Workflow.objects.filter(project_id__in=ids, status=Workflow.Status.COMPLETED).count() < count:
                    if time.monotonic() > deadline:
                        raise SystemExit("the projects did not complete in 10 minutes")
                    time.sleep(0.05)
            return ids, time.perf_counter() - began

        def delays(ids: list[int]) -> dict[str, list[float]]:
            """Seconds from ready to running, split at the lease, and by who made the task ready:
            the first task of a project by ``project_start`` here, the others by the worker that
            finished their predecessor."""
            with schema_context("bench"):
                rows = list(
                    Run.objects.filter(task__project_id__in=ids, status=Run.Status.SUCCEEDED).values_list(
                        "started_at", "task__ready_at", "task__queued_at", "task__phase__position"
                    )
                )
                assert Task.objects.filter(project_id__in=ids).exclude(status=Task.Status.DONE).count() == 0
            found: dict[str, list[float]] = {"ready": [], "leased": [], "to lease": [], "first": [], "next": []}
            for started, ready_at, queued_at, position in rows:
                assert ready_at is not None and queued_at is not None
                found["ready"].append((started - ready_at).total_seconds())
                found["leased"].append((started - queued_at).total_seconds())
                found["to lease"].append((queued_at - ready_at).total_seconds())
                found["first" if position == 1 else "next"].append((started - ready_at).total_seconds())
            return found

        light_ids, _ = run(args.light, one_at_a_time=True, shape=chain)
        light = delays(light_ids)
        burst_ids, wall = run(args.projects, one_at_a_time=False, shape=template)
        burst = delays(burst_ids)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    tasks = len(burst["ready"])
    rows = [
        ("bare Celery round trip, empty task (apply_async → result)", bare),
        (f"light load ({args.light} chains of 10 in turn): task ready → running", light["ready"]),
        ("light load: task ready → agent leased (task queued)", light["to lease"]),
        ("light load: agent leased → running", light["leased"]),
        ("light load: ready → running, first task (readied by project_start)", light["first"]),
        ("light load: ready → running, later tasks (readied by the worker)", light["next"]),
        (f"{args.projects} projects at once: task ready → running (incl. waiting for an agent)", burst["ready"]),
        (f"{args.projects} projects at once: agent leased → running", burst["leased"]),
    ]
    print(f"\n{'what':82} {'n':>5} {'median ms':>10} {'p95 ms':>10}")
    for name, values in rows:
        median, p95 = statistics.median(values) * 1000, percentile(values, 95) * 1000
        print(f"{name:82} {len(values):>5} {median:>10.1f} {p95:>10.1f}")
    print(
        f"\nthroughput: {tasks} tasks of {args.projects} projects in {wall:.1f} s = {tasks / wall:.0f} tasks/s "
        f"({args.agents} no-op agents, agents worker prefork -c {args.agents_concurrency})"
    )
    overhead = percentile(light["ready"], 95) - percentile(bare, 95)
    print(f"light-load dispatch overhead above bare Celery, p95: {overhead * 1000:.1f} ms (target < 50 ms)")

    connection.close()
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
