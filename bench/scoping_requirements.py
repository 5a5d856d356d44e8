"""Benchmark: analyse and scope a 50-story requirements document in every form customers send.

Generates a 50-story document in three styles (story sentences with Given/When/Then, bullets
under headings with nested must/should criteria, numbered items), then times
`analyse_requirements` + `scope_requirements` on the Markdown text, and the same after
`read_requirements_document` on a .docx of it. The forms of issue #17 have a row each, all of
50 stories: a Markdown backlog table, the same backlog as a table in a .docx, as .csv and as .xlsx,
a prose brief (capability sentences among background and non-functional sentences), and a list
whose items begin with their role under plain-text headings. Prints median and p95 over the runs.
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


BACKLOG_HEADER = ["Epic", "As a", "I want", "So that", "MoSCoW", "Points", "Acceptance criteria"]
MOSCOW = ("Must", "Should", "Could", "Should", "Must")


def backlog_rows(stories: int = STORY_COUNT) -> list[list[str]]:
    """A tracker export: `stories` rows, plus one out-of-scope row and one blank row."""
    rows = [
        [
            f"Area {number // 10 + 1}",
            ROLES[number % len(ROLES)],
            f"{GOALS[number % len(GOALS)]} (item {number})",
            "my work takes less time",
            MOSCOW[number % len(MOSCOW)],
            str((1, 2, 3, 5, 8)[number % 5]),
            "keeps an audit trail; works on a phone",
        ]
        for number in range(stories)
    ]
    rows.insert(stories // 2, ["Later", "customer", "pay in instalments", "", "Out of scope", "8", ""])
    rows.insert(stories // 3, [""] * len(BACKLOG_HEADER))
    return rows


def backlog_markdown(rows: list[list[str]]) -> str:
    lines = ["# Backlog export", "", "| " + " | ".join(BACKLOG_HEADER) + " |", "|" + " --- |" * len(BACKLOG_HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def backlog_csv(rows: list[list[str]]) -> bytes:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows([BACKLOG_HEADER, *rows])
    return buffer.getvalue().encode("utf-8")


def backlog_xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in [BACKLOG_HEADER, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def backlog_docx(rows: list[list[str]]) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Backlog", level=1)
    table = document.add_table(rows=0, cols=len(BACKLOG_HEADER))
    for row in [BACKLOG_HEADER, *rows]:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PROSE_ROLES = ("Buyers", "Store managers", "Couriers", "Administrators", "Accountants")
PROSE_MODALS = ("must be able to", "should be able to", "need to", "can", "want to")


def prose_brief(stories: int = STORY_COUNT) -> str:
    """Paragraphs of five sentences: background, three capabilities, a non-functional one."""
    paragraphs = []
    for start in range(0, stories, 3):
        sentences = [f"Our business grew a lot in year {start // 3 + 2000}, and the old tools no longer cope."]
        for number in range(start, min(start + 3, stories)):
            role, modal = PROSE_ROLES[number % len(PROSE_ROLES)], PROSE_MODALS[number % len(PROSE_MODALS)]
            sentences.append(f"{role} {modal} {GOALS[number % len(GOALS)]} for item {number}.")
        sentences.append("Pages must load in under 2 seconds on mobile; data stays in the EU.")
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs) + "\n"


def role_list(stories: int = STORY_COUNT) -> str:
    """Plain-text headings over bullets whose items begin with their role ("Couriers see …")."""
    lines: list[str] = []
    verbs = ("see", "export", "get", "search", "upload")
    for number in range(stories):
        if number % 10 == 0:
            lines += ["", f"Area {number // 10 + 1}", ""]
        role = PROSE_ROLES[number % len(PROSE_ROLES)]
        lines.append(f"- {role} {verbs[number % len(verbs)]} item {number} from the {GOALS[number % len(GOALS)]} list")
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
    rows = backlog_rows()
    table, table_docx, table_csv, table_xlsx = (
        backlog_markdown(rows),
        backlog_docx(rows),
        backlog_csv(rows),
        backlog_xlsx(rows),
    )
    prose, roles = prose_brief(), role_list()

    def parsed(filename: str, data: bytes) -> Scope:
        return scope_requirements(requirements_parse(limits=limits, filename=filename, data=data).analysis)

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
        ("markdown table", lambda: scope_requirements(analyse_requirements(table))),
        (".docx table", lambda: parsed("backlog.docx", table_docx)),
        (".csv backlog", lambda: parsed("backlog.csv", table_csv)),
        (".xlsx backlog", lambda: parsed("backlog.xlsx", table_xlsx)),
        ("prose brief", lambda: scope_requirements(analyse_requirements(prose))),
        ("role list", lambda: scope_requirements(analyse_requirements(roles))),
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
