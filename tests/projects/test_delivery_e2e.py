"""A 10-story MVP delivered end to end by the built-in provider on real Celery workers: the
repository holds a generated application whose tests pass when this test runs them, whose
coverage this test measures at ≥ 95 % and whose bandit scan has no HIGH finding; the preview
answers through its private socket and is linked from the project page until the project ends (and
the grace after acceptance); the bundle downloaded from the portal clones into a
working repository, and another tenant cannot download it.

The waits fail when the delivery stops making progress (no new event or finished run for a
minute), not at a fixed wall-clock deadline: on a loaded machine every step is slower, and a
deadline measures the machine rather than the delivery (tests/projects/progress.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import coverage
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.previews import preview_get, preview_request
from projects.delivery.controls import task_approve
from projects.delivery.previews import previews_sweep
from projects.models import Event, Project, Run, Service, Story, Task, Workflow
from tests.projects.progress import wait_while_progressing
from tests.workers import thread_worker

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "hive.urls_tenant"
UNITTEST = ("-m", "unittest", "discover", "-s", "tests", "-t", ".")
STORIES = [
    ("Sign up", "visitor", "sign up with my email and a password", ["an account is created"]),
    ("Catalogue", "shop owner", "add products with a name, a price and a description", ["products show their price"]),
    ("Stock", "shop owner", "track products with a stock count", []),
    ("Customers", "clerk", "manage customers with an email and a phone", ["customers can be edited"]),
    ("Orders", "buyer", "place orders with a quantity and a due date", []),
    ("Suppliers", "buyer", "record suppliers with an address", []),
    ("Invoices", "accountant", "create invoices with an amount and a paid flag", ["paid invoices are marked"]),
    ("Reviews", "buyer", "write reviews with a rating and a comment", []),
    ("Promotions", "marketer", "schedule promotions with a start date", []),
    ("Log in", "customer", "log in with my email", ["wrong passwords are refused"]),
]

# Two account stories, and two stories about products: seven entities.
ENTITIES = ["customers", "invoices", "orders", "products", "promotions", "reviews", "suppliers"]


def _clean_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp"}


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=_clean_env(), timeout=300, check=False
    )


def test_a_ten_story_mvp_is_delivered_with_a_working_app_preview_and_bundle(hive, tmp_path):
    owner = hive.users["alpha_owner"]
    with schema_context("alpha"):
        project = Project.objects.create(name="Corner Shop", service=Service.MVP, status=Project.Status.IN_DELIVERY)
        for position, (title, role, want, criteria) in enumerate(STORIES, 1):
            Story.objects.create(
                project=project, position=position, title=title, as_a=role, i_want=want, acceptance_criteria=criteria
            )
    home = tmp_path / "alpha" / "projects" / str(project.pk)
    workspace = home / "workspace"

    with thread_worker(concurrency=4), schema_context("alpha"):
        from projects.delivery.planning import project_start

        project_start(project=project, user=owner)

        def approve_all_but_acceptance() -> bool:
            for task in Task.objects.filter(project=project, status=Task.Status.AWAITING_APPROVAL):
                if task.key != "accept":
                    task_approve(task=task, user=owner)
            blocked = Task.objects.filter(project=project, status=Task.Status.BLOCKED).first()
            assert blocked is None, f"{blocked.title}: {blocked.blocked_reason}" if blocked else ""
            return Task.objects.filter(project=project, key="accept", status=Task.Status.AWAITING_APPROVAL).exists()

        wait_while_progressing(
            approve_all_but_acceptance, project_id=project.pk, what="the delivery to reach acceptance"
        )

        # The preview runs until the customer accepts (and the grace after); the project page links it.
        preview = Task.objects.get(project=project, key="preview").output["data"]
        running = preview_get(home / "preview")
        assert running is not None and running.revision == preview["revision"]
        status, body = preview_request(running, "/health", timeout=30)
        assert status == 200 and json.loads(body)["entities"] == ENTITIES
        status, body = preview_request(running, "/", timeout=30)
        assert status == 200 and "Corner Shop" in body.decode()
        assert preview["page_load_p95_ms"] < 2000
        page = hive.client("alpha_viewer", on="alpha").get(
            reverse("project_detail", urlconf=URLCONF, args=[project.pk])
        )
        assert 'data-testid="preview-open"' in page.content.decode()

        # The portal hands the repository to the customer's people, and to nobody else.
        bundle_url = reverse("deliverable_bundle", urlconf=URLCONF, args=[project.pk])
        zip_url = reverse("deliverable_zip", urlconf=URLCONF, args=[project.pk])
        for outsider in ("beta_owner", "outsider"):
            assert hive.client(outsider, on="alpha").get(bundle_url).status_code == 404
            assert hive.client(outsider, on="alpha").get(zip_url).status_code == 404
        response = hive.client("alpha_viewer", on="alpha").get(bundle_url)
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="corner-shop.bundle"'
        bundle = tmp_path / "download.bundle"
        bundle.write_bytes(b"".join(response.streaming_content))
        archive = hive.client("alpha_member", on="alpha").get(zip_url)
        assert archive.status_code == 200 and b"app/serve.py" in b"".join(archive.streaming_content)

        task_approve(task=Task.objects.get(project=project, key="accept"), user=owner)
        wait_while_progressing(
            lambda: Workflow.objects.get(project=project).status == Workflow.Status.COMPLETED,
            project_id=project.pk,
            what="the project to complete",
        )
        assert preview_get(home / "preview") is not None  # kept for the grace after acceptance
        assert previews_sweep(now=timezone.now() + timedelta(seconds=settings.HIVE_PREVIEW_GRACE_SECONDS + 1)) == [
            ("alpha", project.pk, "accepted")
        ]
        assert preview_get(home / "preview") is None
        with pytest.raises(OSError):
            preview_request(running, "/", timeout=2)

        runs = list(Run.objects.filter(task__project=project, status=Run.Status.SUCCEEDED))
        assert runs and all(run.usage_seconds > 0 for run in runs)
        reviews = Event.objects.filter(project=project, kind=Event.Kind.TASK_REPORT, data__report="review")
        assert reviews.filter(data__branch__startswith="story/").count() == 10

    # The generated application, checked by this test itself: one run of its suite under coverage
    # says both whether every test passes and how much of the app they cover.
    data = tmp_path / "coverage.data"
    tests = _python("-m", "coverage", "run", f"--data-file={data}", "--source=app", *UNITTEST, cwd=workspace)
    assert tests.returncode == 0, tests.stderr[-2000:]
    assert "OK" in tests.stderr.splitlines()[-1]
    measured = coverage.Coverage(data_file=str(data))
    measured.load()
    assert measured.json_report(outfile=str(tmp_path / "coverage.json")) >= 95
    covered = json.loads((tmp_path / "coverage.json").read_text())["files"]
    assert {Path(name).resolve() for name in covered} == {p.resolve() for p in (workspace / "app").rglob("*.py")}
    scan = _python("-m", "bandit", "-r", "app", "-f", "json", "-q", cwd=workspace)
    assert [r for r in json.loads(scan.stdout)["results"] if r["issue_severity"] == "HIGH"] == []
    assert sorted(p.stem for p in (workspace / "app" / "entities").glob("[a-z]*.py")) == [e[:-1] for e in ENTITIES]

    # The downloaded bundle clones into a working repository with the whole history.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True, env=_clean_env())
    log = subprocess.run(["git", "log", "--format=%ae %s"], cwd=clone, capture_output=True, text=True, check=True)
    assert log.stdout.count("fullstack_developer@agents.hive Story") == 10
    assert "review@agents.hive Merge story/" in log.stdout
    cloned_tests = _python(*UNITTEST, cwd=clone)
    assert cloned_tests.returncode == 0, cloned_tests.stderr[-2000:]
