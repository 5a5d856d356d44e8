"""The augmentation team's work: fit into the customer team's process, turn backlog items into
branches with a change and a review summary each, and hand them over.

A backlog item that asks for something the application generator can build (an object to add,
track, list or manage) gets that code — module, pages, API and tests — on its branch, and its
tests run there; any other item gets a task brief with its acceptance checklist, marked as such.
Branches are not merged by the agents: they wait for the team's review (the handoff lists them
with their commits, diff statistics and test results).
"""

from __future__ import annotations

from typing import Any

from agents.appgen import design_story, generate, spec_write
from agents.appgen.design import VERBS, DesignError, StoryDesign
from agents.providers.base import JobFailed
from agents.quoting import md_block, md_inline
from agents.tools import unittest_run
from agents.work.common import Job, Result, slug, table

BUILDABLE_VERBS = frozenset({"add", "create", "manage", "track", "list", "record", "store", "keep", "book", "edit"})


def _items(job: Job) -> list[dict[str, Any]]:
    return [dict(item) for item in job.inputs.get("items", [])]


def _branch_name(item: dict[str, Any]) -> str:
    return f"backlog/{int(item.get('number', 0)):03d}-{slug(str(item.get('title', '')))}"


def team_assessment(job: Job) -> Result:
    items = _items(job)
    rows = [[i.get("number"), i.get("title"), _branch_name(i)] for i in items]
    text = (
        f"# Team assessment for {md_inline(job.project)}\n\nBacklog received: {len(items)} items. Baseline velocity: "
        "0 items delivered by agents so far (measured from here on, per item merged by the team).\n\n"
        + table(["#", "item", "branch"], rows)
    )
    written, _ = job.deliver(
        "team/assessment", "Team assessment and backlog baseline", {"docs/team/assessment.md": text}
    )
    return Result(f"{len(items)} backlog items assessed", written, {"backlog_items": len(items)})


def process(job: Job) -> Result:
    files = {
        "CONTRIBUTING.md": (
            f"# Working on {md_inline(job.project)} with Agent Hive\n\n"
            "- Agents work on `backlog/<number>-<title>` branches, one "
            "item per branch, committing as `<role>@agents.hive`.\n- Each branch carries `reviews/<branch>.md`: what "
            "changed, the commits, the test results.\n- Only the team merges agent branches.\n"
        ),
        ".github/pull_request_template.md": "## What changed\n\n## How it was tested\n\n## Backlog item\n",
    }
    written, _ = job.deliver("team/process", "Contribution rules and review template", files)
    return Result("branch, commit and review conventions in CONTRIBUTING.md", written, {})


def pickup(job: Job) -> Result:
    items = _items(job)
    text = "# Backlog board\n\n" + table(
        ["#", "item", "branch", "state"],
        [[i.get("number"), i.get("title"), _branch_name(i), "picked up"] for i in items],
    )
    written, _ = job.deliver("team/pickup", f"Pick up {len(items)} backlog items", {"docs/backlog.md": text})
    return Result(f"{len(items)} backlog items picked up", written, {"picked_up": len(items)})


def _buildable(title: str) -> bool:
    words = title.lower().split()
    return bool(words) and (words[0] in BUILDABLE_VERBS or (words[0] == "to" and len(words) > 1 and words[1] in VERBS))


def _design(item: dict[str, Any]) -> StoryDesign | None:
    """The item's design, or None when its title names no thing to build (it gets a brief)."""
    try:
        return design_story({**item, "i_want": item.get("title", "")})
    except DesignError:
        return None


def backlog_item(job: Job) -> Result:
    item = dict(job.inputs.get("item") or {})
    name = _branch_name(item)
    number = int(item.get("number", 0))
    with job.branch(name) as branch:
        brief = f"docs/backlog/{number:03d}-{slug(str(item.get('title', '')))}.md"
        criteria = (
            "".join(f"- [ ] {md_inline(str(c))}\n" for c in item.get("acceptance_criteria", []))
            or "- [ ] reviewed by the team\n"
        )
        tests_line = "no code change: this item needs the team's decision first; the brief lists what to decide"
        data: dict[str, Any] = {"branch": name, "kind": "brief"}
        design = _design(item) if _buildable(str(item.get("title", ""))) else None
        if design is not None:
            spec_write(branch.path, design)
            generate(branch.path, job.project, [design])
            report = unittest_run(branch.path)
            job.report(
                "tests",
                f"{report.passed} of {report.total} tests pass on {name}",
                branch=name,
                tests_passed=report.passed,
            )
            if not report.ok:
                raise JobFailed(f"the tests of {name} fail:\n{report.output[-1500:]}")
            tests_line = f"{report.passed} of {report.total} tests pass, {report.coverage_percent} % covered"
            data |= {"kind": "code", "entity": design.entity, "tests_passed": report.passed}
        title, sentence = md_inline(str(item.get("title"))), md_block(str(item.get("sentence", "")))
        branch.write(brief, f"# {title}\n\n{sentence}\n\n## Acceptance\n\n{criteria}")
        job.commit(branch, f"Backlog item {number}: {item.get('title')}")
        files = branch.changed_files()
        review = (
            f"# Review summary: {name}\n\n{title}\n\n"
            f"- files changed: {len(files)}\n- tests: {tests_line}\n\n"
            + "".join(f"- {md_inline(f)}\n" for f in files[:50])
        )
        summary_path = branch.write(f"reviews/{slug(name)}.md", review)
        data["commit"] = job.commit(branch, f"Review summary for {name}")
        job.report("review_request", f"{name} waits for the team's review ({len(files)} files)", branch=name)
    return Result(f"{name}: {tests_line}; waiting for the team's review", [brief, summary_path], data)


def handoff(job: Job) -> Result:
    job.ensure_repository()
    expected = [str(p) for p in job.inputs.get("expect", [])]
    missing = [p for p in expected if not job.workspace.exists_anywhere(p)]
    if missing:
        raise JobFailed(f"{len(missing)} of {len(expected)} expected artifacts are missing: {', '.join(missing[:5])}")
    rows = []
    for branch in job.workspace.branches("backlog/"):
        commits, stat = job.workspace.branch_stat(branch)
        rows.append([branch, commits, stat or "no changes"])
    text = f"# Handoff of {md_inline(job.project)}\n\nBranches waiting for the team's review:\n\n" + table(
        ["branch", "commits", "changes"], rows
    )
    written, _ = job.deliver("team/handoff", "Handoff: branches for review", {"docs/handoff.md": text})
    job.report("handoff", f"{len(rows)} branches handed over for review", branches=len(rows))
    return Result(
        f"{len(rows)} branches handed over for the team's review",
        written,
        {"branches": len(rows), "checked": len(expected), "items_delivered": len(rows)},
    )
