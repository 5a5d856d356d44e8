"""Benchmark: analyse and scope a 50-story requirements document, as text and as a Word upload.

Generates a 50-story document in three styles (story sentences with Given/When/Then, bullets
under headings with nested must/should criteria, numbered items), then times
`analyse_requirements` + `scope_requirements` on the Markdown text, and the same after
`read_requirements_document` on a .docx of it. Prints median and p95 over the runs.
Target on this machine: < 1 s per document.

The portal parses in a bounded child process (`projects.scoping.intake_limits`); the "… in child" rows
time the same work through `requirements_parse`, so their difference to the rows above is the
price of the child (fork from the warm fork server, the job sent over a pipe, the JSON answer).

    .venv/bin/python bench/scoping_requirements.py [--runs 20]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from projects.requirements import analyse_requirements  # noqa: E402
from projects.scoping.documents import read_requirements_document  # noqa: E402
from projects.scoping.intake_limits import IntakeLimits, requirements_parse  # noqa: E402
from projects.scoping.scope import Scope, scope_requirements  # noqa: E402

TARGET_SECONDS = 1.0
STORY_COUNT = 50
ROLES = ("customer", "store manager", "courier", "administrator", "accountant")
GOALS = (
    "see my order history",
    "pay the invoice with Stripe",
    "export the monthly report to CSV",
    "get a reminder by SMS through Twilio",
    "search products by name",
    "upload photos of a damaged delivery",
    "assign roles and permissions to staff",
    "follow the courier on a live map",
    "receive product recommendations",
    "sync stock with the Acme Inventory API",
)


def generate_document(stories: int = STORY_COUNT) -> str:
    """Return a Markdown document of exactly `stories` stories in three alternating styles."""
    lines = ["# Benchmark shop", "", "A generated requirements document for the scoping benchmark.", ""]
    for number in range(stories):
        role, goal = ROLES[number % len(ROLES)], GOALS[number % len(GOALS)]
        style = number % 3
        if number % 10 == 0:
            lines += ["", f"## Area {number // 10 + 1}", ""]
        if style == 0:
            article = "an" if role[0] in "aeiou" else "a"
            lines += [
                "",
                f"As {article} {role}, I want to {goal} (item {number}) so that my work takes less time.",
                "Given I am signed in",
                f"When I open item {number}",
                "Then I see the result within two seconds",
                "",
            ]
        elif style == 1:
            lines += [
                f"- The {role}s can {goal} for item {number}",
                "  - must keep an audit trail",
                "  - should work on a phone",
            ]
        else:
            lines += [f"{number}. {role.capitalize()}s can {goal} for item {number}", ""]
    return "\n".join(lines) + "\n"


def docx_bytes(markdown: str) -> bytes:
    import docx

    document = docx.Document()
    for line in markdown.splitlines():
        if line.startswith("#"):
            document.add_heading(line.lstrip("# "), level=line.count("#", 0, 3))
        elif line.startswith("  - "):
            document.add_paragraph(line[4:], style="List Bullet 2")
        elif line.startswith("- "):
            document.add_paragraph(line[2:], style="List Bullet")
        elif line[:1].isdigit():
            document.add_paragraph(line.split(". ", 1)[1], style="List Number")
        elif line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def measure(runs: int, work: Callable[[], Scope]) -> tuple[list[float], Scope]:
    timings: list[float] = []
    scope = work()  # warm-up: regex compilation and imports are not what we measure
    for _ in range(runs):
        started = time.perf_counter()
        scope = work()
        timings.append(time.perf_counter() - started)
    return timings, scope


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    markdown = generate_document()
    word = docx_bytes(markdown)
    limits = IntakeLimits()
    cases: list[tuple[str, Callable[[], Scope]]] = [
        ("markdown text", lambda: scope_requirements(analyse_requirements(markdown))),
        (
            ".docx upload",
            lambda: scope_requirements(
                analyse_requirements(read_requirements_document(filename="bench.docx", data=word))
            ),
        ),
        ("text in child", lambda: scope_requirements(requirements_parse(limits=limits, text=markdown).analysis)),
        (
            ".docx in child",
            lambda: scope_requirements(requirements_parse(limits=limits, filename="bench.docx", data=word).analysis),
        ),
    ]
    print(f"analyse + scope a {STORY_COUNT}-story document, {args.runs} runs each (target < {TARGET_SECONDS} s)")
    print(f"{'input':<16}{'stories':>8}{'tier':>14}{'median s':>11}{'p95 s':>9}")
    ok = True
    for label, work in cases:
        timings, scope = measure(args.runs, work)
        tier = scope.tier.name if scope.tier else "custom"
        median, p95 = statistics.median(timings), percentile(timings, 95)
        ok = ok and p95 < TARGET_SECONDS and scope.story_count == STORY_COUNT
        print(f"{label:<16}{scope.story_count:>8}{tier:>14}{median:>11.4f}{p95:>9.4f}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
