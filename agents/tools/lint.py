"""Lint with ruff (its own defaults plus bugbear, pyupgrade and import order), ignoring any
configuration file around the tree so the numbers mean the same for every project."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from agents.tools.process import PYTHON, run

RULES = "E,F,W,B,UP,I,SIM"


@dataclass(frozen=True, slots=True)
class LintReport:
    findings: int
    by_rule: dict[str, int] = field(default_factory=dict)


def lint_run(tree: Path, *targets: str) -> LintReport:
    paths = [t for t in targets if (tree / t).exists()] or ["."]
    result = run(
        [
            PYTHON,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--line-length",
            "120",
            "--select",
            RULES,
            "--output-format",
            "json",
            "--exit-zero",
            *paths,
        ],
        cwd=tree,
    )
    try:
        items = json.loads(result.stdout or "[]")
    except ValueError:
        raise RuntimeError(f"ruff gave no report: {result.stderr[:300]}") from None
    rules = Counter(str(item.get("code") or "syntax") for item in items)
    return LintReport(findings=len(items), by_rule=dict(sorted(rules.items())))
