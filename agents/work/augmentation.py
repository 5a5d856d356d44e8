"""The augmentation team's work in the customer's own repository: read its history, check the
platform may push to it, turn backlog items into branches with a change, its tests and a review
note each, push them to the customer's remote and hand them over.

Nothing here runs without the repository the customer connected (``inputs["repository"]``: the
checked URL and the encrypted credential, opened only for the git command that needs it — see
``agents.remotes`` and ``tenants.secrets``). The team assessment starts the project's workspace
from the remote's default branch and measures the team's velocity before the engagement from its
history; integrating tools is a real push check; each item is built on ``backlog/<n>-<title>``
from the team's default branch, tested in the sandbox, pushed, and confirmed on the remote;
the handoff lists only what the remote holds.

A backlog item that asks for something the application generator can build (an object to add,
track, list or manage) gets that code — module, pages, API and tests — on its branch, and its
tests run there; any other item gets a task brief with its acceptance checklist, marked as such.
Branches are never merged or forced by the agents: they wait for the team's review.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.appgen import design_story, generate, spec_write
from agents.appgen.design import VERBS, DesignError, StoryDesign
from agents.providers.base import JobFailed
from agents.quoting import md_block, md_inline
from agents.remotes import (
    Remote,
    RemoteError,
    history_velocity,
    remote_branches,
    remote_fetch_default,
    remote_parse,
    remote_push,
)
from agents.tools import unittest_run
from agents.work.common import Job, Result, slug, table
from agents.workspace import MAIN
from tenants.secrets import Revealed, SecretStoreError, secret_decrypt

BUILDABLE_VERBS = frozenset({"add", "create", "manage", "track", "list", "record", "store", "keep", "book", "edit"})


def _items(job: Job) -> list[dict[str, Any]]:
    return [dict(item) for item in job.inputs.get("items", [])]


def _branch_name(item: dict[str, Any]) -> str:
    return f"backlog/{int(item.get('number', 0)):03d}-{slug(str(item.get('title', '')))}"


def _repository(job: Job) -> tuple[Remote, Revealed | None]:
    """The connected repository, checked again here (the URL rules may have tightened since)."""
    connection = dict(job.inputs.get("repository") or {})
    if not connection.get("url"):
        raise JobFailed("no repository is connected: the customer connects one on the project's Repository page")
    try:
        remote = remote_parse(str(connection["url"]))
        token = str(connection.get("secret") or "")
        return remote, secret_decrypt(token) if token else None
    except (RemoteError, SecretStoreError) as error:
        raise JobFailed(f"the connected repository cannot be used: {error}") from error


def _engagement_start(job: Job) -> datetime:
    raw = str(dict(job.inputs.get("repository") or {}).get("connected_at") or "")
    try:
        return datetime.fromisoformat(raw) if raw else datetime.now(UTC)
    except ValueError:
        return datetime.now(UTC)


def team_assessment(job: Job) -> Result:
    """Start the workspace from the team's default branch and measure their velocity before us."""
    remote, secret = _repository(job)
    items = _items(job)
    try:
        job.workspace.adopt(
            lambda git_dir: remote_fetch_default(remote, secret, git_dir=git_dir, ref=f"refs/heads/{MAIN}")
        )
    except RemoteError as error:
        raise JobFailed(f"could not read {remote.url}: {error}") from error
    head = job.workspace.head()
    job.report("repository", f"read the team's repository {remote.url} at {head[:10]}", commit=head)
    velocity = history_velocity(git_dir=job.workspace.git_dir, ref=MAIN, before=_engagement_start(job))
    measured: dict[str, Any] = {
        "velocity_baseline_method": velocity.method,
        "velocity_baseline_weeks": str(velocity.weeks),
        "velocity_baseline_changes": velocity.changes,
    }
    if velocity.per_week is not None:
        measured["velocity_baseline_per_week"] = str(velocity.per_week)
    job.report("velocity", f"velocity before the engagement: {velocity.per_week or 'unknown'} per week", **measured)
    rows = [[i.get("number"), i.get("title"), _branch_name(i)] for i in items]
    summary = (
        f"{len(items)} backlog items; the team landed {velocity.per_week or 'an unknown number of'} changes per week "
        f"before the engagement ({velocity.method})"
    )
    return Result(summary, [], {"backlog_items": len(items), "board": rows, "head": head, **measured})


def process(job: Job) -> Result:
    """Integrate with the team's tools: the platform may read and push (a dry-run push says so)."""
    remote, secret = _repository(job)
    job.ensure_repository()
    try:
        remote_push(remote, secret, git_dir=job.workspace.git_dir, branch=MAIN, dry_run=True)
    except RemoteError as error:
        raise JobFailed(f"the platform may not push to {remote.url}: {error}") from error
    job.report("integration", f"write access to {remote.url} checked with a dry-run push", remote=remote.url)
    return Result(
        f"read and write access to {remote.url} verified; agents push one backlog/<number>-<title> branch per item,"
        " never to the default branch and never forced",
        [],
        {"remote": remote.url, "write_access": True},
    )


def pickup(job: Job) -> Result:
    items = _items(job)
    for item in items:
        job.report(
            "pickup", f"picked up item {item.get('number')}: {str(item.get('title'))[:200]}", branch=_branch_name(item)
        )
    return Result(
        f"{len(items)} backlog items picked up",
        [],
        {"picked_up": len(items), "board": [[i.get("number"), i.get("title"), _branch_name(i)] for i in items]},
    )


def _buildable(title: str) -> bool:
    words = title.lower().split()
    return bool(words) and (words[0] in BUILDABLE_VERBS or (words[0] == "to" and len(words) > 1 and words[1] in VERBS))


def _design(item: dict[str, Any]) -> StoryDesign | None:
    """The item's design, or None when its title names no thing to build (it gets a brief)."""
    try:
        return design_story({**item, "i_want": item.get("title", "")})
    except DesignError:
        return None


def _push(job: Job, remote: Remote, secret: Revealed | None, name: str, commit: str) -> None:
    """Push the branch and confirm the remote holds it at ``commit``."""
    try:
        remote_push(remote, secret, git_dir=job.workspace.git_dir, branch=name)
        held = remote_branches(remote, secret, git_dir=job.workspace.git_dir, prefix=name).get(name)
    except RemoteError as error:
        raise JobFailed(f"pushing {name} to {remote.url} failed: {error}") from error
    if held != commit:
        raise JobFailed(f"{remote.url} holds {name} at {held or 'nothing'}, not at the pushed {commit[:10]}")
    job.report("push", f"pushed {name} to {remote.url} at {commit[:10]}", branch=name, commit=commit)


def backlog_item(job: Job) -> Result:
    remote, secret = _repository(job)
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
        _push(job, remote, secret, name, data["commit"])
        data["pushed"] = True
        job.report("review_request", f"{name} waits for the team's review ({len(files)} files)", branch=name)
    return Result(f"{name}: {tests_line}; pushed, waiting for the team's review", [brief, summary_path], data)


def handoff(job: Job) -> Result:
    """Hand over what the team's repository holds: every delivered branch, at its pushed commit."""
    remote, secret = _repository(job)
    job.ensure_repository()
    expected = [str(p) for p in job.inputs.get("expect", [])]
    missing = [p for p in expected if not job.workspace.exists_anywhere(p)]
    if missing:
        raise JobFailed(f"{len(missing)} of {len(expected)} expected artifacts are missing: {', '.join(missing[:5])}")
    try:
        pushed = remote_branches(remote, secret, git_dir=job.workspace.git_dir, prefix="backlog/")
    except RemoteError as error:
        raise JobFailed(f"could not list the branches of {remote.url}: {error}") from error
    rows, absent = [], []
    for branch in job.workspace.branches("backlog/"):
        if pushed.get(branch) != job.workspace.head(branch):
            absent.append(branch)
            continue
        commits, stat = job.workspace.branch_stat(branch)
        rows.append([branch, commits, stat or "no changes", f"reviews/{slug(branch)}.md"])
    if absent:
        raise JobFailed(f"{len(absent)} delivered branches are not on {remote.url} as pushed: {', '.join(absent[:5])}")
    text = f"Branches on {remote.url} waiting for the team's review:\n\n" + table(
        ["branch", "commits", "changes", "review note"], rows
    )
    job.report("handoff", f"{len(rows)} branches handed over for review on {remote.url}", branches=len(rows))
    return Result(
        f"{len(rows)} branches handed over for the team's review",
        [],
        {"branches": len(rows), "checked": len(expected), "items_delivered": len(rows), "handoff": md_block(text)},
    )
