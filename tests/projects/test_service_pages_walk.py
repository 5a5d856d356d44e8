"""Each service's project, dashboard and success pages (the guarantee is on the success page) answer
at every stage of a whole delivery on real workers: fetched whenever the test sees a phase start
or end or the customer asked for an approval (polled, so a stage the workers pass quickly may be
seen together with the next), until the project is complete and its guarantee
window is open. An answer of 500 anywhere — a text longer than its column, a metric unit, a
missing measurement — fails here. (The augmentation walk, which needs the team's repository, is
``tests/projects/test_augmentation_e2e.py``.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Project, Service, Story
from success.models import Guarantee
from tests.projects.progress import wait_while_progressing
from tests.projects.walker import Walker, legacy_project
from tests.workers import thread_worker
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "hive.urls_tenant"
PAGES = ("project_detail", "project_dashboard", "project_dashboard_state", "project_success")
LEGACY_APP = Path(__file__).parents[1] / "agents" / "fixtures" / "legacy_app"
STORIES = [
    ("Invoices", "accountant", "create invoices with an amount and a paid flag", ["paid invoices are marked"]),
    ("Suppliers", "buyer", "record suppliers with an address", ["suppliers are listed"]),
]


def _mvp() -> Project:
    project = Project.objects.create(name="Walk MVP", service=Service.MVP, status=Project.Status.IN_DELIVERY)
    for position, (title, role, want, criteria) in enumerate(STORIES, 1):
        Story.objects.create(
            project=project, position=position, title=title, as_a=role, i_want=want, acceptance_criteria=criteria
        )
    return project


def _modernization() -> Project:
    return legacy_project("Walk legacy", LEGACY_APP, package="legacy_app")


@pytest.mark.parametrize("make", [_mvp, _modernization], ids=["mvp", "modernization"])
def test_every_page_answers_at_every_stage_of_a_whole_delivery(hive: World, make: Any) -> None:
    with thread_worker(concurrency=4), schema_context("alpha"):
        project = make()
        walker = Walker(hive, project)
        walker.pages()
        project_start(project=project, user=hive.users["alpha_owner"])
        wait_while_progressing(walker.step, project_id=project.pk, what="the delivery to complete", cap=1500)
        walker.pages()
        assert Guarantee.objects.filter(project=project).exists()
        # Sampled while the workers move on: before the start, at stages in between, at the end.
        assert walker.walked > 3
        # A modernization's UAT gate is measured by the customer's report, asked for on its decision page.
        assert walker.uat_reports == (1 if project.service == Service.MODERNIZATION else 0)
