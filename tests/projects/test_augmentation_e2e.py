"""A team-augmentation sprint end to end on real Celery workers against a local bare git remote with
two months of history (made here): the workflow waits for the repository (and refuses a hand
approval without one), the member connects it on the Repository page, the team assessment measures
the velocity from the remote's log, integrating tools checks a push, every backlog item is picked
up, built on its branch from the team's default branch, tested in the sandbox and pushed — this
test reads the branches back from the remote and runs their tests — the handoff confirms the
remote holds them, the team accepts and the guarantee opens with the velocity condition judged on
the measured baseline. Every page of the project is fetched at each stage: none answers 500."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context

from agents.work.common import slug
from projects.delivery.controls import task_approve
from projects.delivery.planning import project_start
from projects.models import Engagement, Event, Project, RepositoryConnection, Service, Task, Workflow
from success.guarantee import conditions_check
from success.models import Guarantee
from tests.projects.progress import wait_while_progressing
from tests.team_remote import PER_WEEK, WEEKS, plain_git, team_remote
from tests.workers import thread_worker
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "hive.urls_tenant"
ITEMS = ["Track invoices with an amount and a due date", "Manage suppliers with an address and a phone"]
PAGES = ("project_detail", "project_dashboard", "project_dashboard_state", "project_success", "project_repository")


def pages_answer(world: World, project: Project) -> None:
    """Every page of the project, for a viewer: no 500, whatever stage the delivery is at."""
    client = world.client("alpha_viewer", on="alpha")
    for name in PAGES:
        response = client.get(reverse(name, urlconf=URLCONF, args=[project.pk]))
        assert response.status_code == 200, f"{name}: {response.status_code}"


def test_an_augmentation_sprint_works_in_the_team_repository_end_to_end(hive: World, tmp_path: Path) -> None:
    bare = team_remote(tmp_path)
    owner, member = hive.users["alpha_owner"], hive.client("alpha_member", on="alpha")
    with schema_context("alpha"):
        project = Project.objects.create(name="Team ledger", service=Service.AUGMENTATION, status="in_delivery")
        Engagement.objects.create(
            project=project, kind=Engagement.Kind.SPRINT, sprints=1, notes="\n".join(f"- {i}" for i in ITEMS)
        )
    repository_url = reverse("project_repository", urlconf=URLCONF, args=[project.pk])

    with thread_worker(concurrency=4), schema_context("alpha"):
        project_start(project=project, user=owner)

        # Nothing runs before the repository is connected, and nobody can approve the wait away.
        connect = Task.objects.get(project=project, key="connect_repository")
        assert connect.status == Task.Status.AWAITING_APPROVAL
        assert Task.objects.get(project=project, key="process").status == Task.Status.PENDING
        approve = reverse("task_approve", urlconf=URLCONF, args=[project.pk, connect.pk])
        refused = hive.client("alpha_owner", on="alpha").post(approve, follow=True)
        assert refused.status_code == 200 and "waits for the team&#x27;s repository" in refused.content.decode()
        assert Task.objects.get(pk=connect.pk).status == Task.Status.AWAITING_APPROVAL
        page = member.get(repository_url).content.decode()
        assert 'data-testid="repository-waiting"' in page
        detail = member.get(reverse("project_detail", urlconf=URLCONF, args=[project.pk])).content.decode()
        assert 'data-testid="connect-repository"' in detail
        pages_answer(hive, project)

        response = member.post(repository_url, {"url": f"file://{bare}", "credential": ""})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert RepositoryConnection.objects.get(project=project).url == f"file://{bare}"

        def reach_acceptance() -> bool:
            blocked = Task.objects.filter(project=project, status=Task.Status.BLOCKED).first()
            assert blocked is None, f"{blocked.title}: {blocked.blocked_reason}" if blocked else ""
            return Task.objects.filter(project=project, key="accept", status=Task.Status.AWAITING_APPROVAL).exists()

        wait_while_progressing(reach_acceptance, project_id=project.pk, what="the sprint to reach the team's review")
        pages_answer(hive, project)

        assessment = Task.objects.get(project=project, key="team_assessment").output["data"]
        assert assessment["velocity_baseline_per_week"] == f"{PER_WEEK:.2f}"
        assert assessment["velocity_baseline_weeks"] == f"{WEEKS}.0"
        assert assessment["velocity_baseline_changes"] == WEEKS * PER_WEEK
        page = member.get(repository_url).content.decode()
        assert f"{PER_WEEK:.2f}</strong> changes per week" in page and "first-parent" in page

        items = list(Task.objects.filter(project=project, key="backlog_item").order_by("position"))
        assert len(items) == len(ITEMS) and all(t.status == Task.Status.DONE for t in items)
        pushed = {t.output["data"]["branch"]: t.output["data"]["commit"] for t in items}
        assert all(t.output["data"]["pushed"] and t.output["data"]["kind"] == "code" for t in items)
        reports = Event.objects.filter(project=project, kind=Event.Kind.TASK_REPORT)
        assert reports.filter(data__report="pickup").count() == len(ITEMS)
        assert reports.filter(data__report="push").count() == len(ITEMS)
        assert reports.filter(data__report="integration").exists()

        task_approve(task=Task.objects.get(project=project, key="accept"), user=owner)
        wait_while_progressing(
            lambda: Workflow.objects.get(project=project).status == Workflow.Status.COMPLETED,
            project_id=project.pk,
            what="the sprint to complete",
        )
        pages_answer(hive, project)
        assert Guarantee.objects.filter(project=project).exists()
        velocity = next(c for c in conditions_check(project) if c.code == "velocity_improvement")
        assert velocity.state == "met", velocity
        assert "first-parent" in velocity.evidence
        success = member.get(reverse("project_success", urlconf=URLCONF, args=[project.pk])).content.decode()
        assert "first-parent" in success  # the baseline's method and weeks, on the guarantee's evidence

    _remote_holds_tested_branches(bare, pushed, tmp_path)


def _remote_holds_tested_branches(bare: Path, pushed: dict[str, str], tmp_path: Path) -> None:
    """The branches are on the remote at the pushed commits, grown from the team's main, with their
    tests (which pass when this test runs them) and their review note."""
    heads: dict[str, str] = {}
    for line in plain_git("ls-remote", "--heads", str(bare), cwd=tmp_path).splitlines():
        commit, name = line.split("\t")
        heads[name] = commit
    main = heads.pop("refs/heads/main")
    assert {name.removeprefix("refs/heads/"): commit for name, commit in heads.items()} == pushed
    for branch in pushed:
        clone = tmp_path / branch.replace("/", "-")
        plain_git("clone", "-q", "--branch", branch, str(bare), str(clone), cwd=tmp_path)
        assert plain_git("merge-base", "--is-ancestor", main, "HEAD", cwd=clone) == ""
        assert sorted(p.name for p in (clone / "reviews").iterdir()) == [f"{slug(branch)}.md"]
        assert list((clone / "tests").glob("test_story_*.py"))
        assert (clone / "teamlib" / "__init__.py").is_file()  # the team's code is still there
        run: Any = subprocess.run(
            [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."],
            cwd=clone,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"},
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
