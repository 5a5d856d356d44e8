"""Walking a delivery on real workers as its people would: every page fetched whenever the stage
changes, approvals given, user acceptance testing reported on its decision page (a modernization's
UAT gate is the customer's number), and the issue's rule checked on the way — a phase's gates run
at most three times and no task is left blocked."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.urls import reverse

from projects.delivery.controls import task_approve
from projects.delivery.workflow import UAT_STEP
from projects.models import Event, Phase, Project, Service, Task, Workflow
from projects.scoping import intake
from tests.world import World

URLCONF = "hive.urls_tenant"
PAGES = ("project_detail", "project_dashboard", "project_dashboard_state", "project_success")


def legacy_project(name: str, root: Path, *, package: str) -> Project:
    """A modernization of the code under ``root``, uploaded as a zip as a customer does (the
    assessment runs), in delivery."""
    project = Project.objects.create(name=name, service=Service.MODERNIZATION)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                bundle.write(path, f"{package}/{path.relative_to(root).as_posix()}")
    upload = SimpleUploadedFile(f"{package}.zip", archive.getvalue(), content_type="application/zip")
    intake.assessment_run(project=project, upload=upload)
    Project.objects.filter(pk=project.pk).update(status=Project.Status.IN_DELIVERY)
    return Project.objects.get(pk=project.pk)


class Walker:
    """Fetches every page whenever the delivery's stage changed, and approves what waits."""

    def __init__(self, world: World, project: Project) -> None:
        self.world, self.project, self.walked = world, project, 0
        self.testers, self.satisfied, self.uat_reports = 12, 11, 0
        self.stage: tuple[object, ...] = ()

    def pages(self) -> None:
        client = self.world.client("alpha_viewer", on="alpha")
        for name in PAGES:
            response = client.get(reverse(name, urlconf=URLCONF, args=[self.project.pk]))
            assert response.status_code == 200, f"{name} at {self.stage}: {response.status_code}"
        self.walked += 1

    def step(self) -> bool:
        phases = tuple(Phase.objects.filter(project=self.project).order_by("position").values_list("key", "status"))
        waiting = tuple(
            Task.objects.filter(project=self.project, status=Task.Status.AWAITING_APPROVAL).values_list(
                "key", flat=True
            )
        )
        if (phases, waiting) != self.stage:
            self.stage = (phases, waiting)
            self.pages()
        # The rule: a phase's gates run at most 3 times; a loop of re-runs never ends.
        reruns = (
            Event.objects.filter(project=self.project, kind=Event.Kind.PHASE_GATES_REQUESTED)
            .values("phase_id")
            .annotate(runs=Count("pk"))
            .filter(runs__gt=3)
            .order_by("phase_id")
            .first()
        )
        assert reruns is None, f"the gates of phase #{reruns['phase_id']} ran {reruns['runs']} times" if reruns else ""
        blocked = Task.objects.filter(project=self.project, status=Task.Status.BLOCKED).first()
        assert blocked is None, f"{blocked.title}: {blocked.blocked_reason}" if blocked else ""
        for task in Task.objects.filter(project=self.project, status=Task.Status.AWAITING_APPROVAL):
            if task.key == UAT_STEP:
                self.uat_report(task)
            else:
                task_approve(task=task, user=self.world.users["alpha_owner"])
        return Workflow.objects.get(project=self.project).status == Workflow.Status.COMPLETED

    def uat_report(self, task: Task) -> None:
        """The owner reports user acceptance testing on its decision page, as a person does."""
        owner = self.world.client("alpha_owner", on="alpha")
        page = reverse("decision_page", urlconf=URLCONF, args=[self.project.pk, task.pk])
        shown = owner.get(page).content.decode()
        assert 'data-testid="uat-explained"' in shown and 'name="testers"' in shown
        answer = owner.post(
            reverse("decision_approve", urlconf=URLCONF, args=[self.project.pk, task.pk]),
            {"testers": self.testers, "satisfied": self.satisfied, "findings": "Reports export as before."},
        )
        assert answer.status_code == 302, answer.content.decode()[:500]
        self.uat_reports += 1
