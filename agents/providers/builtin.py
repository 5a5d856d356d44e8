"""The built-in provider: offline, deterministic, no model.

For now each step writes the document of its step into the workspace, computed from the job's
inputs (the requirements list, a stack decision table, a sprint plan packed by story points, one
acceptance checklist per story, migration segment notes, CI and deployment files), and the QA and
validation steps check what the earlier steps left in the workspace (a missing artifact fails the
job). Every event it reports names a file that exists afterwards. The agents issue replaces the
per-role work with generated applications, test runs and scans behind the same interface.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agents.providers.base import JobCancelled, JobContext, JobFailed, JobSpec, Outcome, Usage

SPRINT_POINTS = 20
_SECRET = re.compile(r"(?i)(api[_-]?key|secret|password)\s*[:=]\s*['\"][^'\"]{8,}['\"]")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "item"


def _write(workspace: Path, relative: str, text: str) -> str:
    path = workspace / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return relative


def _stories(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(inputs.get("stories", []))


def _requirements(spec: JobSpec, workspace: Path) -> tuple[str, list[str], dict[str, Any]]:
    stories = _stories(spec.inputs)
    lines = [f"# Requirements of {spec.inputs.get('project', 'the project')}", ""]
    priorities: dict[str, int] = {}
    for number, story in enumerate(stories, 1):
        priorities[story.get("priority", "should")] = priorities.get(story.get("priority", "should"), 0) + 1
        lines += [f"## {number}. {story['title']}", "", story.get("sentence", ""), ""]
        lines += [f"- [ ] {criterion}" for criterion in story.get("acceptance_criteria", [])] + [""]
    points = sum(int(story.get("points", 0)) for story in stories)
    path = _write(workspace, "docs/requirements.md", "\n".join(lines))
    summary = f"{len(stories)} stories, {points} points written to {path}"
    return summary, [path], {"stories": len(stories), "points": points, "priorities": priorities}


def _architecture(spec: JobSpec, workspace: Path) -> tuple[str, list[str], dict[str, Any]]:
    features = spec.inputs.get("features", {})
    decisions = [
        ("web framework", "Django (server-rendered, HTMX)", "CRUD and authentication are the core of every tier"),
        ("database", "PostgreSQL", "relational data with integrity constraints"),
    ]
    if features.get("real_time"):
        decisions.append(("real-time", "Django Channels over Redis", ", ".join(features["real_time"])))
    if features.get("ai_ml"):
        decisions.append(("AI/ML", "Python worker service behind a task queue", ", ".join(features["ai_ml"])))
    for integration in features.get("integrations", []):
        decisions.append(("integration", f"{integration['name']} adapter module", integration.get("kind", "")))
    table = ["| concern | choice | because |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in decisions]
    path = _write(workspace, "docs/architecture.md", "# Architecture\n\n" + "\n".join(table) + "\n")
    return f"{len(decisions)} decisions written to {path}", [path], {"decisions": len(decisions)}


def _sprint_plan(spec: JobSpec, workspace: Path) -> tuple[str, list[str], dict[str, Any]]:
    sprints: list[list[Mapping[str, Any]]] = [[]]
    load = 0
    for story in _stories(spec.inputs):
        points = int(story.get("points", 0))
        if sprints[-1] and load + points > SPRINT_POINTS:
            sprints.append([])
            load = 0
        sprints[-1].append(story)
        load += points
    lines = ["# Sprint plan", ""]
    for number, sprint in enumerate(sprints, 1):
        lines.append(f"## Sprint {number} ({sum(int(s.get('points', 0)) for s in sprint)} points)")
        lines += [f"- {story['title']}" for story in sprint] + [""]
    path = _write(workspace, "docs/sprints.md", "\n".join(lines))
    count = len(sprints) if sprints[0] else 0
    return f"{count} sprints of at most {SPRINT_POINTS} points in {path}", [path], {"sprints": count}


def _checklist(spec: JobSpec, workspace: Path) -> tuple[str, list[str], dict[str, Any]]:
    item = spec.inputs.get("item", {})
    criteria = list(item.get("acceptance_criteria", [])) or [item.get("sentence") or spec.title]
    folder = {"story": "stories", "segment": "migration", "backlog_item": "backlog"}.get(spec.key, spec.key)
    name = f"{folder}/{item.get('number', 0):03d}-{slug(item.get('title', spec.title))}.md"
    body = [f"# {item.get('title', spec.title)}", "", item.get("sentence", "")]
    body += [""] + [f"- {module}" for module in item.get("modules", [])]
    body += [""] + [f"- [ ] {criterion}" for criterion in criteria]
    path = _write(workspace, name, "\n".join(body) + "\n")
    return f"{spec.title}: {len(criteria)} checks in {path}", [path], {"checks": len(criteria)}


def _verify(spec: JobSpec, workspace: Path) -> tuple[str, list[str], dict[str, Any]]:
    """Check that every item the inputs name left its document, and scan for committed secrets."""
    expected = [str(path) for path in spec.inputs.get("expect", [])]
    missing = [path for path in expected if not (workspace / path).exists()]
    findings = []
    for path in sorted(workspace.rglob("*")):
        if path.is_file() and path.stat().st_size < 1_000_000:
            findings += [
                f"{path.relative_to(workspace)}: {m.group(1)}"
                for m in _SECRET.finditer(path.read_text("utf-8", "replace"))
            ]
    if missing:
        raise JobFailed(f"{len(missing)} of {len(expected)} expected artifacts are missing: {', '.join(missing[:5])}")
    lines = [f"# {spec.title}", "", f"- artifacts checked: {len(expected)}", f"- secret findings: {len(findings)}"]
    lines += [f"  - {finding}" for finding in findings]
    report = _write(workspace, f"reports/{spec.key}.md", "\n".join(lines) + "\n")
    return (
        f"{len(expected)} artifacts present, {len(findings)} secret findings ({report})",
        [report],
        {"checked": len(expected), "secret_findings": len(findings)},
    )


def _pipeline(spec: JobSpec, workspace: Path) -> tuple[str, list[str], dict[str, Any]]:
    files = {
        "ci": (".ci/pipeline.yml", "stages: [lint, test, build]\ntest:\n  script: make test\n"),
        "preview": ("deploy/preview.env", f"PREVIEW_NAME={slug(str(spec.inputs.get('project', 'app')))}\n"),
        "deploy": ("deploy/Containerfile", 'FROM python:3.11-slim\nCOPY . /app\nCMD ["make", "run"]\n'),
        "rollout": ("deploy/rollout.md", "# Gradual rollout\n\nEach segment behind its own routing flag.\n"),
    }
    relative, text = files.get(spec.key, (f"deploy/{spec.key}.md", f"# {spec.title}\n"))
    written = _write(workspace, relative, text)
    return f"{spec.title}: wrote {written}", [written], {}


def _note(spec: JobSpec, workspace: Path) -> tuple[str, list[str], dict[str, Any]]:
    lines = [f"# {spec.title}", ""]
    for key, value in sorted(spec.inputs.items()):
        if isinstance(value, str | int | float):
            lines.append(f"- {key}: {value}")
        elif isinstance(value, list):
            lines.append(f"- {key}: {len(value)} entries")
    path = _write(workspace, f"docs/{spec.key}.md", "\n".join(lines) + "\n")
    return f"{spec.title}: wrote {path}", [path], {}


_STEPS: dict[str, Callable[[JobSpec, Path], tuple[str, list[str], dict[str, Any]]]] = {
    "requirements": _requirements,
    "architecture": _architecture,
    "sprint_plan": _sprint_plan,
    "story": _checklist,
    "segment": _checklist,
    "backlog_item": _checklist,
    "quality": _verify,
    "parity": _verify,
    "validation": _verify,
    "ci": _pipeline,
    "preview": _pipeline,
    "deploy": _pipeline,
    "rollout": _pipeline,
}


class BuiltinProvider:
    name = "builtin"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        if context.cancelled():
            raise JobCancelled(spec.title)
        started = time.monotonic()
        context.workspace.mkdir(parents=True, exist_ok=True)
        summary, artifacts, data = _STEPS.get(spec.key, _note)(spec, context.workspace)
        for artifact in artifacts:
            context.report("artifact", f"wrote {artifact}", {"path": artifact})
        return Outcome(
            summary=summary,
            artifacts=tuple(artifacts),
            data=data,
            usage=Usage(seconds=time.monotonic() - started),
        )
