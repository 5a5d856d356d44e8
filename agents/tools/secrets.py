"""Committed secrets: assignments of long literal strings to names like key, secret, password."""

from __future__ import annotations

import re
from pathlib import Path

SECRET = re.compile(r"(?i)\b(api[_-]?key|secret|password|token)\s*[:=]\s*['\"][A-Za-z0-9_\-+/=]{16,}['\"]")
_SKIPPED_PARTS = {".git", "__pycache__", "node_modules"}


def secret_scan(tree: Path) -> list[str]:
    findings = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or _SKIPPED_PARTS & set(path.relative_to(tree).parts) or path.stat().st_size > 1_000_000:
            continue
        text = path.read_text("utf-8", "replace")
        findings += [f"{path.relative_to(tree)}: {match.group(1)}" for match in SECRET.finditer(text)]
    return findings
