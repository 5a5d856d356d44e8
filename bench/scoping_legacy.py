"""Benchmark of the legacy analyser on a synthetic 100K-line Python code base.

Generates a multi-package code base into a temporary directory — modules with docstrings,
comments, imports of other modules (absolute and relative, a few import cycles), classes and
functions with nested branches, loops and exception handlers — then times
``agents.legacy.assess`` on it and prints a table (target: under 30 s on this machine).

Run: ``.venv/bin/python bench/scoping_legacy.py [--lines 100000] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.legacy import assess
from agents.legacy.complexity import measure_complexity
from agents.legacy.dependencies import build_dependency_graph
from agents.legacy.loc import scan_file
from agents.legacy.plan import plan_migration
from agents.legacy.sources import collect_sources

TARGET_SECONDS = 30.0
PACKAGES = (
    "billing",
    "catalog",
    "orders",
    "inventory",
    "shipping",
    "customers",
    "reports",
    "accounts",
    "payroll",
    "audit",
)
MODULES_PER_PACKAGE = 50


def _function(rng: random.Random, name: str, depth: int) -> list[str]:
    """A function of 10-40 lines with nested branches, a loop and an exception handler."""
    lines = [
        f"def {name}(items, limit=10, mode=None):",
        f'    """Process items for {name.replace("_", " ")}."""',
        "    total = 0",
        "    seen = set()",
    ]
    for index in range(rng.randint(2, 6)):
        lines += [
            f"    # step {index}: the rule finance asked for in {2000 + index}",
            "    for item in items:",
            f"        if item.get('kind') == 'k{index}' and item.get('value', 0) > {index}:",
            f"            total += item['value'] * {index + 1}",
            f"        elif item.get('kind') in ('a{index}', 'b{index}') or mode == 'strict':",
            "            seen.add(item.get('id'))",
            "        else:",
            "            continue",
        ]
        if depth > 1 and rng.random() < 0.5:
            lines += [
                "        try:",
                "            total = total // max(1, len(seen))",
                "        except (ZeroDivisionError, TypeError):",
                "            total = 0",
            ]
    lines += ["    if total > limit:", "        return limit", "    return total", "", ""]
    return lines


def generate(root: Path, lines: int, seed: int = 7) -> int:
    """Write about ``lines`` lines of Python under ``root``; return the module count."""
    rng = random.Random(seed)
    names = [(package, f"mod{number:02d}") for package in PACKAGES for number in range(MODULES_PER_PACKAGE)]
    per_module = max(20, lines // len(names))
    for package in PACKAGES:
        (root / "legacy" / package).mkdir(parents=True)
        (root / "legacy" / package / "__init__.py").write_text(f'"""The {package} package."""\n')
    (root / "legacy" / "__init__.py").write_text('"""The legacy system."""\n')
    for position, (package, module) in enumerate(names):
        body = [
            f'"""{package}.{module}: generated legacy module.',
            "",
            "Kept for the benchmark.",
            '"""',
            "",
            "import os",
            "import re",
            "",
        ]
        # Depend on a few earlier modules (a DAG), and now and then on a later one (a cycle).
        earlier = names[max(0, position - 60) : position]
        for other_package, other in rng.sample(earlier, min(len(earlier), rng.randint(1, 4))):
            if other_package == package:
                body.append(f"from . import {other}")
            else:
                body.append(f"from legacy.{other_package} import {other}")
        if position + 1 < len(names) and rng.random() < 0.03:
            later_package, later = names[position + 1]
            body.append(f"import legacy.{later_package}.{later}")
        body += ["", f"LIMIT = {rng.randint(5, 500)}", "", ""]
        body += [
            "class Record:",
            '    """A record."""',
            "",
            "    def __init__(self, key, value):",
            "        self.key = key",
            "        self.value = value",
            "",
            "    def valid(self):",
            "        return bool(self.key) and self.value is not None",
            "",
            "",
        ]
        number = 0
        while len(body) < per_module - 12:  # a function adds about 25 lines
            body += _function(rng, f"process_{module}_{number}", rng.randint(1, 3))
            number += 1
        (root / "legacy" / package / f"{module}.py").write_text("\n".join(body) + "\n")
    return len(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legacy-bench-") as scratch:
        root = arguments.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        modules = generate(root, arguments.lines)
        generated = time.perf_counter() - started

        steps: list[tuple[str, float]] = []
        clock = time.perf_counter()
        tree = collect_sources(root)
        steps.append(("read files", time.perf_counter() - clock))
        clock = time.perf_counter()
        scans = [(source, scan_file(source)) for source in tree.files]
        steps.append(("count lines", time.perf_counter() - clock))
        clock = time.perf_counter()
        for source, scanned in scans:
            measure_complexity(source, scanned)
        steps.append(("parse + complexity (radon)", time.perf_counter() - clock))
        clock = time.perf_counter()
        graph = build_dependency_graph(tree.files)
        steps.append(("dependency graph", time.perf_counter() - clock))
        clock = time.perf_counter()
        plan_migration(graph, {source.path: scanned.counts.code for source, scanned in scans})
        steps.append(("migration plan", time.perf_counter() - clock))

        clock = time.perf_counter()
        result = assess(root)
        total = time.perf_counter() - clock

    print(f"generated {modules} modules in {generated:.1f} s")
    print(f"{'step (separately, warm files)':<34}{'seconds':>10}")
    for name, seconds in steps:
        print(f"{name:<34}{seconds:>10.2f}")
    print("-" * 44)
    rows = [
        ("lines (blank/comment/code)", f"{result.totals.blank}/{result.totals.comment}/{result.totals.code}"),
        ("total lines", f"{result.totals.total:,}"),
        ("modules / functions", f"{result.files} / {result.function_count}"),
        ("mean complexity per function", f"{result.mean_function_complexity:.2f}"),
        ("import edges / cycles", f"{len(result.dependency_edges)} / {len(result.cycles)}"),
        ("phases (code lines)", " ".join(str(p.code_lines) for p in result.plan.phases)),
        ("phase shares (15–25 % each)", " ".join(f"{p.share:.1%}" for p in result.plan.phases)),
        ("balanced / cut imports", f"{result.plan.balanced} / {len(result.plan.cut_edges)}"),
        ("debt hours / rating", f"{result.debt.remediation_hours} / {result.debt.rating}"),
        ("COCOMO II PM / months", f"{result.effort.person_months} / {result.effort.schedule_months}"),
        ("size class", f"{result.size_class.name} ({result.size_class.timeline})"),
        ("timeline commitment", f"{result.timeline.label} ({result.timeline.basis})"),
        ("assessment price", f"${result.assessment_price_cents / 100:,.0f}"),
        ("assess() seconds", f"{total:.2f} (target < {TARGET_SECONDS:g})"),
    ]
    for name, value in rows:
        print(f"{name:<34}{value:>10}")
    if total >= TARGET_SECONDS:
        raise SystemExit(f"assess() took {total:.1f} s, over the {TARGET_SECONDS:g} s target")


if __name__ == "__main__":
    main()
