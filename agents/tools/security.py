"""The static security scan: bandit over a package, findings counted by severity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from agents.tools.process import PYTHON, run


@dataclass(frozen=True, slots=True)
class SecurityReport:
    high: int
    medium: int
    low: int
    lines_scanned: int
    suppressed: int  # findings silenced with ``# nosec`` in the code (each carries its reason there)
    findings: tuple[dict[str, object], ...] = field(default=())


def security_scan(tree: Path, *targets: str) -> SecurityReport:
    paths = [t for t in targets if (tree / t).exists()] or ["."]
    result = run([PYTHON, "-m", "bandit", "-r", *paths, "-f", "json", "-q"], cwd=tree)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise RuntimeError(f"bandit gave no report: {(result.stderr or result.stdout)[:300]}") from None
    findings = tuple(
        {
            "test": item["test_id"],
            "severity": item["issue_severity"],
            "file": item["filename"],
            "line": item["line_number"],
            "text": item["issue_text"],
        }
        for item in report.get("results", [])
    )
    totals = report.get("metrics", {}).get("_totals", {})
    return SecurityReport(
        high=sum(1 for f in findings if f["severity"] == "HIGH"),
        medium=sum(1 for f in findings if f["severity"] == "MEDIUM"),
        low=sum(1 for f in findings if f["severity"] == "LOW"),
        lines_scanned=int(totals.get("loc", 0)),
        suppressed=int(totals.get("skipped_tests", 0)),
        findings=findings,
    )
