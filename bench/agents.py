"""Benchmark: wall time of each built-in role on a 10-, 30- and 50-story MVP.

Runs the built-in provider's steps in workflow order on a scratch workspace per size (no
database, no broker: what is measured is the agents' own work — git, the app generator, the
tools). The developers' stories run four at a time, as the developer pool would, and the table
shows the wall time of the whole development phase and the mean per story; the quality, preview
and deploy steps then work on the application the stories built.

Stories are generated from a list of objects and fields, so that every size names distinct
entities (about one entity per story, every fifth story an account story).

    .venv/bin/python bench/agents.py [--sizes 10,30,50] [--developers 4] [--sandbox-runs 30]

A last table measures the time the sandbox adds per run (agents/tools/sandbox.py): the same
command as a bare subprocess and through ``sandbox_run`` (bubblewrap, and as root the uid switch
and the lending of the tree), alternately in the same process, medians of each; target < 50 ms.
``--sizes 0`` measures only that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.previews import preview_stop  # noqa: E402
from agents.providers import JobContext, JobSpec, Outcome  # noqa: E402
from agents.providers.builtin import BuiltinProvider  # noqa: E402
from agents.tools.sandbox import sandbox_environment, sandbox_run  # noqa: E402

OBJECTS = (
    "products",
    "customers",
    "orders",
    "invoices",
    "suppliers",
    "reviews",
    "promotions",
    "shipments",
    "tickets",
    "projects",
    "tasks",
    "meetings",
    "documents",
    "contracts",
    "vehicles",
    "drivers",
    "routes",
    "warehouses",
    "employees",
    "shifts",
    "courses",
    "lessons",
    "students",
    "grades",
    "recipes",
    "ingredients",
    "menus",
    "tables",
    "reservations",
    "events",
    "venues",
    "artists",
    "albums",
    "playlists",
    "devices",
    "sensors",
    "readings",
    "alerts",
    "campaigns",
    "leads",
    "deals",
    "notes",
    "bookmarks",
    "expenses",
    "budgets",
    "goals",
    "habits",
    "workouts",
)
FIELDS = ("a price", "a due date", "an email", "a quantity", "a description", "a status", "a rating", "an address")


def stories(count: int) -> list[dict[str, Any]]:
    made = []
    for number in range(1, count + 1):
        if number % 5 == 1:
            want = "to log in with my email and a password"
        else:
            noun = OBJECTS[(number - 1) % len(OBJECTS)]
            want = f"to add {noun} with {FIELDS[number % len(FIELDS)]} and {FIELDS[(number + 3) % len(FIELDS)]}"
        made.append(
            {
                "number": number,
                "title": f"Story {number}",
                "sentence": f"As a user, I want {want}, so that the work gets done.",
                "i_want": want,
                "acceptance_criteria": [f"criterion {number}"],
                "priority": "must",
                "points": 3,
            }
        )
    return made


class Bench:
    def __init__(self, home: Path) -> None:
        self.context = JobContext(workspace=home / "workspace", report=lambda *args: None, cancelled=lambda: False)
        self.provider = BuiltinProvider()

    def run(self, role: str, key: str, **inputs: Any) -> Outcome:
        spec = JobSpec(role=role, key=key, title=key, inputs={"project": "Bench Shop", **inputs})
        return self.provider.run(spec, self.context)


def timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def measure(count: int, developers: int) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-agents-{count}-"))
    bench = Bench(scratch / "project")
    items = stories(count)
    times: dict[str, float] = {}
    try:
        times["requirements analyst: requirements"], _ = timed(
            lambda: bench.run("requirements_analyst", "requirements", stories=items)
        )
        times["solution architect: architecture"], _ = timed(
            lambda: bench.run("solution_architect", "architecture", stories=items, features={})
        )
        times["solution architect: validation"], _ = timed(
            lambda: bench.run("solution_architect", "validation", expect=["docs/requirements.md"])
        )
        times["requirements analyst: sprint plan"], _ = timed(
            lambda: bench.run("requirements_analyst", "sprint_plan", stories=items)
        )
        times["devops: ci"], _ = timed(lambda: bench.run("devops", "ci"))

        def develop() -> None:
            with ThreadPoolExecutor(developers) as pool:
                list(pool.map(lambda s: bench.run("fullstack_developer", "story", item=s), items))

        every = f"full-stack developers: every story ({developers} at once)"
        times[every], _ = timed(develop)
        times["full-stack developers: per story (wall / stories)"] = times[every] / count
        seconds, quality = timed(lambda: bench.run("qa_engineer", "quality", expect=["docs/requirements.md"]))
        times["qa engineer: quality"] = seconds
        if quality.data["tests_failed"] or quality.data["coverage_percent"] < 95:
            raise SystemExit(f"the generated app misses the standard: {quality.data}")
        times["devops: preview"], _ = timed(lambda: bench.run("devops", "preview"))
        times["devops: deploy"], _ = timed(lambda: bench.run("devops", "deploy"))
        times["(tests in the generated app)"] = quality.data["tests_total"]
        times["(coverage %)"] = quality.data["coverage_percent"]
    finally:
        preview_stop(scratch / "project" / "preview")
        shutil.rmtree(scratch, ignore_errors=True)
    return times


SANDBOX_COMMANDS = {"true": ["/usr/bin/true"], "python -c pass": [sys.executable, "-c", "pass"]}


def sandbox_overhead(runs: int) -> dict[str, tuple[float, float]]:
    """Per command: (median seconds as a bare subprocess, median seconds in the sandbox)."""
    tree = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    (tree / "app.py").write_text("VALUE = 1\n")
    environment = sandbox_environment(home=tree, tmp=tree)
    measured: dict[str, tuple[float, float]] = {}
    try:
        for name, argv in SANDBOX_COMMANDS.items():
            sandbox_run(argv, cwd=tree)  # the first run probes the host once
            bare, boxed = [], []
            for _ in range(runs):  # alternately, so that load on the machine hits both alike
                seconds, done = timed(
                    lambda argv=argv: subprocess.run(argv, cwd=tree, env=environment, capture_output=True)
                )
                assert done.returncode == 0
                bare.append(seconds)
                seconds, result = timed(lambda argv=argv: sandbox_run(argv, cwd=tree))
                assert result.ok, result.output
                boxed.append(seconds)
            measured[name] = (statistics.median(bare), statistics.median(boxed))
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,30,50")
    parser.add_argument("--developers", type=int, default=4)
    parser.add_argument("--sandbox-runs", type=int, default=30)
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",") if int(size) > 0]
    if sizes:
        print_roles(sizes, options.developers)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\n{'sandbox: time added per run':<40}{'bare':>10}{'sandboxed':>12}{'added':>10}  (target < 50 ms)")
    print(f"(medians of {options.sandbox_runs} alternate runs; load average {load} on {os.cpu_count()} cores)")
    for name, (bare, boxed) in sandbox_overhead(options.sandbox_runs).items():
        print(f"{name:<40}{bare * 1000:>8.1f}ms{boxed * 1000:>10.1f}ms{(boxed - bare) * 1000:>8.1f}ms")


def print_roles(sizes: list[int], developers: int) -> None:
    results = {size: measure(size, developers) for size in sizes}
    rows = list(results[sizes[0]])
    width = max(len(row) for row in rows) + 2
    print(f"\n{'built-in role: step':<{width}}" + "".join(f"{f'{size} stories':>14}" for size in sizes))
    for row in rows:
        counted = row.startswith("(")
        cells = "".join(f"{results[size][row]:>14g}" if counted else f"{results[size][row]:>13.2f}s" for size in sizes)
        print(f"{row:<{width}}{cells}")


if __name__ == "__main__":
    main()
