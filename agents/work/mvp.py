"""The MVP team's work: requirements analyst, solution architect, full-stack developers, QA
engineer and DevOps, each on its own branch of the project's repository."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.appgen import generate, spec_write, specs_read
from agents.appgen.acceptance import Check, acceptance_markdown, check_results, checks_of, unbuilt_checks
from agents.appgen.capabilities import Gap, capability_gap
from agents.appgen.design import DesignError, EntityDesign, StoryDesign, design_stories, design_story, merge_fields
from agents.previews import PreviewError, PreviewHTTPConnection, preview_start, preview_stop
from agents.providers.base import JobFailed
from agents.quoting import md_block, md_inline
from agents.tools import TestReport, lint_run, page_load_probe, secret_scan, security_scan, unittest_run
from agents.tools.sandbox import NAMESPACES
from agents.work.common import Job, Result, documents_present, slug, table
from agents.work.stack import decide
from agents.workspace import Verdict, Workspace, WorkspaceError
from tenants.quality import COVERAGE_MIN

SPRINT_POINTS = 20
COVERAGE_TARGET = float(COVERAGE_MIN.limit)  # the seed's MVP standard (tenants.quality)
PLAN = "spec/plan.json"  # the plan the customer approved: each story's design or its gap
NOT_BUILT = "needs the model provider or a developer"


def _stories(job: Job) -> list[dict[str, Any]]:
    return [dict(story) for story in job.inputs.get("stories", [])]


def _issue_path(story: dict[str, Any]) -> str:
    return f"issues/{int(story.get('number', 0)):03d}-{slug(str(story.get('title', '')))}.md"


def _issue(story: dict[str, Any], state: str, note: str = "") -> str:
    criteria = (
        "".join(f"- [ ] {md_inline(str(c))}\n" for c in story.get("acceptance_criteria", [])) or "- [ ] (none given)\n"
    )
    # Front matter values are YAML scalars: json.dumps writes a valid one for any text.
    return (
        f"---\nnumber: {int(story.get('number', 0))}\nstate: {state}\n"
        f"priority: {json.dumps(str(story.get('priority', 'should')))}\npoints: {int(story.get('points', 0))}\n---\n\n"
        f"# {md_inline(str(story.get('title')))}\n\n{md_block(str(story.get('sentence', '')))}\n\n"
        f"## Acceptance criteria\n\n{criteria}" + (f"\n{note}\n" if note else "")
    )


# --- requirements analyst -----------------------------------------------------------------------


def requirements(job: Job) -> Result:
    stories = _stories(job)
    if not stories:
        raise JobFailed("there are no user stories to analyse")
    rows = [[s["number"], s["title"], s.get("priority", "should"), s.get("points", 0)] for s in stories]
    lines = [f"# Requirements of {md_inline(job.project)}", "", table(["#", "story", "priority", "points"], rows)]
    for story in stories:
        lines += [
            f"## {story['number']}. {md_inline(str(story['title']))}",
            "",
            md_block(str(story.get("sentence", ""))),
            "",
        ]
        lines += [f"- [ ] {md_inline(str(c))}" for c in story.get("acceptance_criteria", [])] + [
            "",
            f"Issue: `{_issue_path(story)}`",
            "",
        ]
    files = {"docs/requirements.md": "\n".join(lines)}
    files |= {_issue_path(s): _issue(s, "open") for s in stories}
    written, merged = job.deliver("requirements/analysis", f"Write {len(stories)} user stories and their issues", files)
    points = sum(int(s.get("points", 0)) for s in stories)
    priorities: dict[str, int] = {}
    for story in stories:
        priorities[story.get("priority", "should")] = priorities.get(story.get("priority", "should"), 0) + 1
    return Result(
        f"{len(stories)} stories ({points} points) in docs/requirements.md and {len(stories)} open issues",
        written,
        {"stories": len(stories), "points": points, "priorities": priorities, "commit": merged.commit},
    )


def sprint_plan(job: Job) -> Result:
    sprints: list[list[dict[str, Any]]] = [[]]
    load = 0
    for story in _stories(job):
        points = int(story.get("points", 0))
        if sprints[-1] and load + points > SPRINT_POINTS:
            sprints.append([])
            load = 0
        sprints[-1].append(story)
        load += points
    sprints = [s for s in sprints if s]
    lines = ["# Sprint plan", "", f"Sprints hold at most {SPRINT_POINTS} story points, in story order.", ""]
    for number, sprint in enumerate(sprints, 1):
        lines.append(f"## Sprint {number} ({sum(int(s.get('points', 0)) for s in sprint)} points)")
        lines += [f"- {s['number']}. {md_inline(str(s['title']))} ({s.get('points', 0)} points)" for s in sprint] + [""]
    written, _ = job.deliver("planning/sprints", f"Plan {len(sprints)} sprints", {"docs/sprints.md": "\n".join(lines)})
    return Result(
        f"{len(sprints)} sprints of at most {SPRINT_POINTS} points in docs/sprints.md",
        written,
        {"sprints": len(sprints)},
    )


# --- solution architect ---------------------------------------------------------------------------


def _nonfunctional_section(items: object) -> str:
    """The customer's non-functional requirements, as written, for the architecture document."""
    rows = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    if not rows:
        return ""
    lines = "".join(
        f"- {md_inline(str(r.get('kind', '')).replace('_', ' ').capitalize())}: {md_inline(str(r.get('text', '')))}\n"
        for r in rows
    )
    return f"\n## Non-functional requirements\n\n{lines}"


def _story_gap(story: dict[str, Any]) -> Gap | None:
    criteria = [str(c) for c in story.get("acceptance_criteria", [])]
    return capability_gap(str(story.get("title", "")), str(story.get("sentence", "")), criteria)


def _plan(stories: list[dict[str, Any]]) -> tuple[list[StoryDesign], list[dict[str, Any]]]:
    """The designs of the buildable stories and the gaps of the others; JobFailed naming the story
    when one names no thing to build (before any code is written)."""
    gaps = []
    buildable = []
    for item in stories:
        gap = _story_gap(item)
        if gap is None:
            buildable.append(item)
        else:
            gaps.append({"story": int(item.get("number", 0)), "capability": gap.capability, "reason": gap.reason})
    try:
        return design_stories(buildable), gaps
    except DesignError as error:
        raise JobFailed(f"the domain model cannot be made: {error}") from error


def _model_rows(entities: dict[str, EntityDesign]) -> list[list[Any]]:
    rows = []
    for name, entity in entities.items():
        own = [f for f in entity.fields if not f.target]
        fields = ", ".join(f"{f.name} ({f.type}{', required' if f.required else ''})" for f in own)
        links = ", ".join(f"{f.name} → {f.target}" for f in entity.links)
        states = ", ".join(entity.closed)
        who = ", ".join(entity.writers) or "every signed-in user (own records)"
        rows.append(
            [name, entity.plural, fields, links or "—", states or "—", who, ", ".join(map(str, entity.stories))]
        )
    return rows


def _architecture_text(
    job: Job, decision_rows: list[list[Any]], designs: list[StoryDesign], gaps: list[dict[str, Any]], adrs: list[str]
) -> str:
    entities = merge_fields(designs)
    auth = [d.number for d in designs if d.kind == "auth"]
    refused = [[d.number, ", ".join(d.refused)] for d in designs if d.refused]
    gap_rows = [[g["story"], g["capability"], g["reason"]] for g in gaps]
    return (
        f"# Architecture of {md_inline(job.project)}\n\n## Decisions\n\n"
        + table(["row", "concern", "choice", "because", "in the repository"], decision_rows)
        + "\n## Domain model\n\nThe things the stories are about, their fields, the links between"
        " them, the states that take a record off its lists, and who may change them.\n\n"
        + table(
            ["entity", "URL", "fields", "links", "closing states", "who may change", "stories"], _model_rows(entities)
        )
        + f"\nAccount stories (sign-up, login): {', '.join(map(str, auth)) or 'none'}.\n"
        + (
            "\nNever stored (asked for, refused: card numbers, passwords, secrets and tokens are not kept):\n\n"
            + table(["story", "attributes"], refused)
            if refused
            else ""
        )
        + "\n## What the built-in developers cannot build\n\n"
        + (
            f"These stories are not built by the built-in developers; each {NOT_BUILT}:\n\n"
            + table(["story", "capability", "why"], gap_rows)
            if gap_rows
            else "Nothing: every story is within what the built-in developers build.\n"
        )
        + "\n## Records\n\n"
        + "".join(f"- [{Path(p).stem}](adr/{Path(p).name})\n" for p in adrs)
        + _nonfunctional_section(job.inputs.get("non_functional"))
    )


def architecture(job: Job) -> Result:
    stories = _stories(job)
    designs, gaps = _plan(stories)
    entities = merge_fields(designs)
    features = dict(job.inputs.get("features") or {})
    decisions = decide(stories=len(stories), entities=len(entities), features=features)
    adrs: dict[str, str] = {
        "docs/adr/0001-record-architecture-decisions.md": (
            "# 1. Record architecture decisions\n\nStatus: accepted\n\nEvery decision of the table in "
            "`docs/architecture.md` has an ADR in this folder, numbered in the order it was taken.\n"
        )
    }
    for index, decision in enumerate(decisions, 2):
        path = f"docs/adr/{index:04d}-{slug(decision.concern)}.md"
        scope = "built in this repository" if decision.generated else "designed here, built by the team later"
        adrs[path] = (
            f"# {index}. {decision.concern.capitalize()}\n\nStatus: accepted ({scope})\n\n## Context\n\n"
            f"{decision.because.capitalize()}.\n\n## Decision\n\n{decision.choice}.\n\n## Consequences\n\n"
            f"Decision table row {decision.number} of the architect's rules applies.\n"
        )
    decision_rows = [[d.number, d.concern, d.choice, d.because, "yes" if d.generated else "no"] for d in decisions]
    by_number = {d.number: d for d in designs}
    gap_of = {g["story"]: g for g in gaps}
    plan = [
        {
            "number": int(s.get("number", 0)),
            "title": str(s.get("title", "")),
            "criteria": [str(c) for c in s.get("acceptance_criteria", [])],
            "gap": gap_of.get(int(s.get("number", 0))),
            "design": by_number[int(s.get("number", 0))].to_json() if int(s.get("number", 0)) in by_number else None,
        }
        for s in stories
    ]
    files = {
        "docs/architecture.md": _architecture_text(job, decision_rows, designs, gaps, list(adrs)),
        PLAN: json.dumps({"stories": plan}, indent=2, sort_keys=True) + "\n",
        **adrs,
    }
    written, _ = job.deliver(
        "architecture/design", f"Architecture: {len(decisions)} decisions, {len(adrs)} ADRs", files
    )
    for gap in gaps:
        job.report("gap", f"story {gap['story']} {NOT_BUILT}: {gap['reason']}", **gap)
    model = [
        {"entity": e.name, "fields": [f.name for f in e.fields if not f.target], "links": [f.name for f in e.links]}
        for e in entities.values()
    ]
    return Result(
        f"{len(decisions)} decisions and {len(entities)} entities in docs/architecture.md, {len(adrs)} ADRs"
        + (f"; {len(gaps)} stories the built-in developers cannot build" if gaps else ""),
        written,
        {"decisions": len(decisions), "entities": len(entities), "adrs": len(adrs), "gaps": gaps, "model": model},
    )


def check_artifacts(job: Job, *, report_name: str) -> Result:
    """Every artifact of the finished tasks is in the repository, and no secret was committed."""
    job.ensure_repository()
    expected = [str(p) for p in job.inputs.get("expect", [])]
    missing = [p for p in expected if not job.workspace.exists_anywhere(p)]
    if missing:
        raise JobFailed(f"{len(missing)} of {len(expected)} expected artifacts are missing: {', '.join(missing[:5])}")
    findings = secret_scan(job.workspace.root)
    job.report("secrets", f"secret scan of main: {len(findings)} findings", secret_findings=len(findings))
    lines = [
        f"# {md_inline(job.spec.title)}",
        "",
        f"- artifacts checked: {len(expected)}",
        f"- secret findings: {len(findings)}",
    ]
    lines += [f"  - {md_inline(str(finding))}" for finding in findings]
    written, _ = job.deliver(
        f"checks/{report_name}", job.spec.title, {f"reports/{report_name}.md": "\n".join(lines) + "\n"}
    )
    return Result(
        f"{len(expected)} artifacts present, {len(findings)} secret findings (reports/{report_name}.md)",
        written,
        {"checked": len(expected), "secret_findings": len(findings)},
    )


# --- full-stack developers --------------------------------------------------------------------------


def _regenerate(project: str) -> Any:
    def resolve(tree: Path, conflicts: list[str]) -> None:
        generated = set(generate(tree, project, specs_read(tree)))
        foreign = [path for path in conflicts if path not in generated]
        if foreign:
            raise WorkspaceError(f"conflicts outside the generated code: {', '.join(foreign[:5])}")

    return resolve


def _tests_pass(workspace: Workspace, tested_tree: str, tested: TestReport, project: str) -> Callable[[Path], Verdict]:
    """Review of a story's merge: the app's tests pass on the merged tree. The merged tree is first
    generated again from every spec it holds — a story's tests name the fields of entities other
    stories define, so files merged without a conflict can still be stale. When that tree is the
    very tree the developer's run tested (main did not move meanwhile), that run is the result;
    otherwise the suite runs again on the merged tree."""

    def verify(tree: Path) -> Verdict:
        generate(tree, project, specs_read(tree))
        merged_tree = workspace.staged_tree(tree)
        rerun = merged_tree != tested_tree
        report = unittest_run(tree) if rerun else tested
        where = "on the merged tree" if rerun else f"on the branch, whose tree {merged_tree[:10]} is the merged tree"
        summary = f"{report.passed} of {report.total} tests pass {where}, coverage {report.coverage_percent} %"
        data = {
            "tests_passed": report.passed,
            "tests_failed": report.failed,
            "coverage_percent": report.coverage_percent,
            "tree": merged_tree,
            "tests_rerun": rerun,
        }
        return Verdict(report.ok, summary, data)

    return verify


def _plan_read(tree: Path) -> list[dict[str, Any]]:
    """The approved plan's stories, as the tree holds them (code under test can rewrite the file, so
    every design read from it is checked by ``StoryDesign.from_json``)."""
    path = tree / PLAN
    try:
        data = json.loads(path.read_text("utf-8")) if path.is_file() and not path.is_symlink() else {}
    except (OSError, ValueError):
        return []
    stories = data.get("stories") if isinstance(data, dict) else None
    return [s for s in stories if isinstance(s, dict)] if isinstance(stories, list) else []


def _design_of(tree: Path, item: dict[str, Any]) -> StoryDesign:
    """The story's design as the customer approved it on the plan, or — for a story the plan does not
    hold as it reads now — designed from its text, knowing the plan's entities."""
    planned = _plan_read(tree)
    number = int(item.get("number", 0))
    entry = next((s for s in planned if s.get("number") == number and s.get("title") == item.get("title")), None)
    try:
        if entry is not None and isinstance(entry.get("design"), dict):
            return StoryDesign.from_json(entry["design"])
        known = [str(s["design"].get("entity", "")) for s in planned if isinstance(s.get("design"), dict)]
        return design_story(item, [k for k in known if k])
    except (DesignError, ValueError, KeyError, TypeError) as error:
        raise JobFailed(f"story {number} cannot be built as planned: {error}") from error


def _not_built(job: Job, item: dict[str, Any], gap: Gap) -> Result:
    """A story that needs what the built-in developers cannot build: nothing is written for it."""
    number = int(item.get("number", 0))
    found = {"story": number, "capability": gap.capability, "reason": gap.reason}
    job.report("gap", f"story {number} {NOT_BUILT}: {gap.reason}", **found)
    return Result(
        f"story {number} not built: it {NOT_BUILT}. {gap.reason}",
        [],
        {"gap": found, "story": number, "built": False},
    )


def story(job: Job) -> Result:
    item = dict(job.inputs.get("item") or {})
    gap = _story_gap(item)
    if gap is not None:
        return _not_built(job, item, gap)
    return _story_build(job, item)


def story_fix(job: Job) -> Result:
    """A story the customer rejected: its slice re-built from its specification, the rejection
    recorded beside it (``docs/stories/``), its acceptance tests run again. A story the built-in
    developers cannot build ends "not built" at once (no retry would change that), which
    escalates it like the story step's own gap."""
    item = dict(job.inputs.get("item") or {})
    given = job.inputs.get("rejection")
    rejection: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    gap = _story_gap(item)
    if gap is not None:
        return _not_built(job, item, gap)
    comment = str(rejection.get("comment") or "").strip()[:2000]
    unmet = [str(c) for c in rejection.get("unmet_criteria") or []][:50]
    note = "\n## Rejected by the customer\n\n" + md_block(comment or "(no comment)") + "\n"
    if unmet:
        note += "\nCriteria reported unmet:\n\n" + "\n".join(f"- {md_inline(c)}" for c in unmet) + "\n"
    job.report("fix", f"re-building story {int(item.get('number', 0))} after the customer's rejection")
    result = _story_build(job, item, note=note)
    data = {**result.data, "fix": True, "rejection": {"comment": comment, "unmet_criteria": unmet}}
    return Result(f"after the customer's rejection, {result.summary}", result.artifacts, data)


def _story_build(job: Job, item: dict[str, Any], *, note: str = "") -> Result:
    name = f"story/{int(item.get('number', 0)):03d}-{slug(str(item.get('title', '')))}"
    with job.branch(name) as branch:
        design = _design_of(branch.path, item)
        spec = spec_write(branch.path, design)
        files = generate(branch.path, job.project, specs_read(branch.path))
        what = f"entity {design.entity} ({', '.join(f.name for f in design.fields)})" if design.entity else "accounts"
        branch.write(
            f"docs/stories/{design.number:03d}-{slug(design.title)}.md",
            f"# Story {design.number}: {md_inline(design.title)}\n\n{md_block(design.sentence)}\n\n"
            f"Implemented as: {what}.\n"
            f"Specification: `{spec}`; acceptance tests: `tests/test_story_{design.number:03d}.py`.\n" + note,
        )
        issue = _issue_path(item)
        if (branch.path / issue).exists():
            branch.write(issue, _issue(item, "closed", f"Closed by branch `{name}`."))
        job.check_cancelled()
        tested_tree = job.workspace.staged_tree(branch.path)
        report = unittest_run(branch.path)
        job.report(
            "tests",
            f"{report.passed} of {report.total} tests pass on {name} ({report.coverage_percent} % covered)",
            branch=name,
            tests_passed=report.passed,
            tests_failed=report.failed,
        )
        if not report.ok:
            raise JobFailed(f"the tests of {name} fail:\n{report.output[-1500:]}")
        commit = job.commit(branch, f"Story {design.number}: {design.title}\n\n{design.sentence}")
        verify = _tests_pass(job.workspace, tested_tree, report, job.project)
        merged = job.merge(branch, f"Merge {name}", resolve=_regenerate(job.project), verify=verify)
    return Result(
        f"story {design.number} implemented as {what}; {report.total} tests pass; merged as {merged.commit[:10]}",
        [spec, f"tests/test_story_{design.number:03d}.py"],
        {
            "entity": design.entity,
            "fields": [f.name for f in design.fields],
            "branch": name,
            "commit": commit,
            "merge": merged.commit,
            "files": len(files),
            "tests_passed": report.passed,
        },
    )


# --- QA engineer ------------------------------------------------------------------------------------


def _acceptance_checks(tree: Path) -> list[Check]:
    """Every criterion of every planned story as a check: the built stories' from their specs, the
    others (a capability gap, a story not built) unverified with the reason."""
    try:
        designs = specs_read(tree)
    except (ValueError, KeyError, TypeError) as error:
        raise JobFailed(f"the story specifications cannot be read: {error}") from error
    entities = merge_fields(designs)
    built = {d.number: d for d in designs}
    checks: list[Check] = []
    planned = _plan_read(tree)
    for entry in planned:
        number = entry.get("number")
        if not isinstance(number, int) or number in built:
            continue
        criteria = [str(c) for c in entry.get("criteria", []) if isinstance(c, str)][:50]
        gap = entry.get("gap") if isinstance(entry.get("gap"), dict) else None
        reason = f"not built: the story {NOT_BUILT}. {gap.get('reason', '')}" if gap else "the story was not built"
        checks += unbuilt_checks(number, criteria, str(reason).strip())
    for design in built.values():
        checks += checks_of(design, entities.get(design.entity) if design.kind == "crud" else None)
    return sorted(checks, key=lambda c: (c.story, c.index))


def quality(job: Job) -> Result:
    expected = [str(p) for p in job.inputs.get("expect", [])]
    job.ensure_repository()
    missing = [p for p in expected if not job.workspace.exists_anywhere(p)]
    if missing:
        raise JobFailed(f"{len(missing)} of {len(expected)} expected artifacts are missing: {', '.join(missing[:5])}")
    with job.branch("qa/quality") as branch:
        tests = unittest_run(branch.path)
        job.report(
            "tests",
            f"{tests.passed} of {tests.total} tests pass, "
            f"{tests.coverage_percent} % of {tests.statements} statements covered",
            tests_passed=tests.passed,
            tests_failed=tests.failed,
            tests_total=tests.total,
            coverage_percent=tests.coverage_percent,
        )
        security = security_scan(branch.path, "app")
        job.report(
            "security_scan",
            f"bandit: {security.high} high, {security.medium} medium, {security.low} low findings "
            f"in {security.lines_scanned} lines",
            security_high_findings=security.high,
            security_medium_findings=security.medium,
            security_low_findings=security.low,
        )
        checks = check_results(_acceptance_checks(branch.path), tests.outcomes, tests.details, branch.head())
        counts = {k: sum(1 for c in checks if c["status"] == k) for k in ("pass", "fail", "unverified")}
        job.report(
            "acceptance",
            f"acceptance criteria: {counts['pass']} verified-pass, {counts['fail']} verified-fail, "
            f"{counts['unverified']} unverified of {len(checks)}",
            **{f"acceptance_{k}": v for k, v in counts.items()},
        )
        lint = lint_run(branch.path, "app", "tests")
        job.report("lint", f"ruff: {lint.findings} findings", lint_findings=lint.findings, lint_rules=lint.by_rule)
        secrets = secret_scan(branch.path)
        job.report("secrets", f"secret scan: {len(secrets)} findings", secret_findings=len(secrets))
        data: dict[str, Any] = {
            "checked": len(expected),
            "tests_total": tests.total,
            "tests_passed": tests.passed,
            "tests_failed": tests.failed,
            "coverage_percent": tests.coverage_percent,
            "statements": tests.statements,
            "security_high_findings": security.high,
            "security_medium_findings": security.medium,
            "security_low_findings": security.low,
            "lint_findings": lint.findings,
            "secret_findings": len(secrets),
        }
        rows = [[key.replace("_", " "), value] for key, value in data.items()]
        findings = [[f["severity"], f["test"], f"{f['file']}:{f['line']}", f["text"]] for f in security.findings]
        text = (
            f"# Quality report of {md_inline(job.project)}\n\n"
            f"Measured on `{branch.head()[:10]}` with `unittest discover` under"
            f" coverage of `app` (in the sandbox), `bandit -r app` and `ruff check --select {'E,F,W,B,UP,I,SIM'}`.\n\n"
            + table(["measure", "value"], rows)
            + (
                f"\n## Security findings\n\n{table(['severity', 'test', 'where', 'what'], findings)}"
                if findings
                else ""
            )
            + f"\nThe target is {COVERAGE_TARGET:g} % coverage, no failing test and no HIGH finding.\n"
        )
        written = [branch.write("reports/quality.md", text)]
        written.append(branch.write("docs/acceptance.md", acceptance_markdown(job.project, checks, branch.head())))
        written.append(branch.write("reports/quality.json", json.dumps(data, indent=2, sort_keys=True) + "\n"))
        job.commit(branch, f"QA: {tests.passed}/{tests.total} tests, {tests.coverage_percent} % coverage")
        job.merge(branch, "Merge qa/quality: the quality report", verify=documents_present(written))
    verdict = (
        "meets" if tests.ok and COVERAGE_MIN.is_met(tests.coverage_percent or 0) and not security.high else "misses"
    )
    return Result(
        f"{tests.passed}/{tests.total} tests pass, coverage {tests.coverage_percent} %, {security.high} high security "
        f"findings, {lint.findings} lint findings: {verdict} the quality standard; acceptance criteria: "
        f"{counts['pass']} of {len(checks)} verified-pass, {counts['fail']} failed, {counts['unverified']} unverified",
        written,
        {**data, "acceptance_checks": checks},
    )


# --- DevOps -----------------------------------------------------------------------------------------

MAKEFILE = """PYTHON ?= python3

.PHONY: test coverage lint security serve

test:
\t$(PYTHON) -m unittest discover -s tests -t .

coverage:
\t$(PYTHON) -m coverage run --source=app -m unittest discover -s tests -t .
\t$(PYTHON) -m coverage report --fail-under=95

lint:
\truff check --line-length 120 --select E,F,W,B,UP,I,SIM app tests

security:
\tbandit -r app

serve:
\t$(PYTHON) -m app.serve --port 8080
"""
CI = """name: ci
on: [push, pull_request]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install coverage ruff bandit
      - run: make coverage
      - run: make lint
      - run: make security
"""
CONTAINERFILE = """FROM python:3.11-slim
WORKDIR /srv
COPY app ./app
RUN useradd --create-home --uid 10001 web && mkdir /data && chown web /data
USER web
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health')"
CMD ["python", "-m", "app.serve", "--host", "0.0.0.0", "--port", "8080", "--database", "/data/app.sqlite3"]
"""


def _kubernetes(name: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1  # SQLite: one writer; see docs/architecture.md for the production database
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: web
          image: {name}:latest
          ports: [{{containerPort: 8080}}]
          readinessProbe: {{httpGet: {{path: /health, port: 8080}}}}
          volumeMounts: [{{name: data, mountPath: /data}}]
      volumes:
        - name: data
          persistentVolumeClaim: {{claimName: {name}-data}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}-data
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def ci(job: Job) -> Result:
    files = {".github/workflows/ci.yml": CI, "Makefile": MAKEFILE}
    written, _ = job.deliver("devops/ci", "Continuous integration: tests with coverage, lint, security scan", files)
    return Result(f"CI pipeline in {written[0]}, make targets in Makefile", written, {})


def preview(job: Job) -> Result:
    job.ensure_repository()
    revision = job.workspace.head()
    home = job.home / "preview"
    preview_stop(home)
    for old in home.iterdir() if home.is_dir() else []:
        if old.is_dir():  # the code of an earlier preview
            shutil.rmtree(old, ignore_errors=True)
    code = job.workspace.export(revision, home / revision[:12])
    if not (code / "app" / "serve.py").exists():
        raise JobFailed("main holds no application to preview yet")
    try:
        running = preview_start(home, code, revision=revision)
    except PreviewError as error:
        raise JobFailed(str(error)) from error
    where = "its sandbox" if running.isolation == NAMESPACES else "the guard (not a sandbox)"
    job.report(
        "preview",
        f"preview of {revision[:10]} runs in {where}; the customer opens it from the project page",
        revision=revision,
        isolation=running.isolation,
    )
    plurals = [d.plural for d in specs_read(code) if d.kind == "crud"]
    private = sorted({f"/{p}/" for p in plurals} | {f"/{p}/new" for p in plurals})
    socket_dir = Path(running.socket_dir)
    probe = page_load_probe(lambda: PreviewHTTPConnection(socket_dir), ["/", "/login", "/register", "/health"], private)
    job.report(
        "page_load",
        f"{len(probe.pages)} pages, {probe.samples} fetches: p95 {probe.p95_ms} ms, slowest {probe.max_ms} ms",
        page_load_p95_ms=probe.p95_ms,
        page_load_max_ms=probe.max_ms,
    )
    rows = [[path, int(v["status"]), v["median_ms"], v["max_ms"]] for path, v in probe.pages.items()]
    text = (
        f"# Customer preview\n\nRevision `{revision[:10]}` runs in the platform's sandbox, started with"
        " `python -m app.serve`; customers open it from the project page, on the preview domain (never"
        " under the portal's domain).\n\n"
        f"Page loads ({probe.samples} fetches, p95 {probe.p95_ms} ms):\n\n"
        + table(["page", "status", "median ms", "max ms"], rows)
    )
    written, _ = job.deliver(
        "devops/preview", f"Preview of {revision[:10]} and its page-load probe", {"deploy/preview.md": text}
    )
    return Result(
        f"preview of {revision[:10]} running; page load p95 {probe.p95_ms} ms over {len(probe.pages)} pages",
        written,
        {
            "revision": revision,
            "isolation": running.isolation,
            "page_load_p95_ms": probe.p95_ms,
            "page_load_max_ms": probe.max_ms,
            "pages_probed": len(probe.pages),
        },
    )


def deploy(job: Job) -> Result:
    name = slug(job.project)
    files = {
        "Containerfile": CONTAINERFILE,
        "deploy/kubernetes.yaml": _kubernetes(name),
        "deploy/README.md": (
            f"# Deploying {md_inline(job.project)}\n\n1. `podman build -t {name}:latest -f Containerfile .`\n"
            "2. `kubectl apply -f deploy/kubernetes.yaml`\n\nThe release is the git tag `release-1`.\n"
        ),
    }
    written, _ = job.deliver("devops/deploy", "Container image and deployment manifests", files)
    commit = job.workspace.tag("release-1", message=f"Release 1 of {job.project}", author=job.author)
    job.report("release", f"tagged release-1 at {commit[:10]}", tag="release-1", commit=commit)
    return Result(
        f"release-1 tagged at {commit[:10]} with a Containerfile and Kubernetes manifests; no production "
        "cluster is configured for this project, so nothing was applied",
        written,
        {
            "release": "release-1",
            "commit": commit,
            # Nothing was deployed: the step says so, and the tier's hosting stays visibly open.
            "skipped": {
                "reason": "no production cluster is configured for this project, so nothing was deployed",
                "leaves_open": "production hosting of the tier",
            },
        },
    )
