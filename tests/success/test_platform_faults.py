"""A platform fault on a real worker (projects.execution, projects.delivery.faults, success.escalations): an
exception in the platform's own code is escalated to the account manager at once, by e-mail, with
the traceback — and no traceback or server path reaches any customer page, websocket frame, e-mail
or PDF."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import caches
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context
from pypdf import PdfReader

from agents.providers import JobContext, JobSpec, Outcome, provider_register
from agents.roles import Role
from projects.delivery.faults import FAULT_SENTENCE
from projects.delivery.planning import project_start
from projects.delivery.sweeps import tasks_redispatch
from projects.delivery.workflow import PhaseTemplate, Step, WorkflowTemplate
from projects.models import Event, Project, Run, Service, Task
from success.models import Escalation, WeeklyBriefing
from success.reports import daily_summary_make, week_of, weekly_briefing_make
from tests.projects.conftest import hive  # noqa: F401  (real workers: fast timings, flushed broker, pools)
from tests.success.test_consumer import TIMEOUT, socket
from tests.workers import thread_worker, wait_for
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

LEAKS = re.compile(r"Traceback|File \"|/work/|site-packages|\.py\", line|" + re.escape(str(settings.BASE_DIR)))


class BrokenProvider:
    """A provider with a bug: it raises from the platform's own code, naming a server path."""

    name = "broken"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        path = settings.BASE_DIR / "agents" / "appgen" / "generate.py"
        raise RuntimeError(f"could not render the template in {path}")


def assert_clean(text: str, where: str) -> None:
    leak = LEAKS.search(text)
    assert leak is None, f"{where} shows {leak.group(0)!r}: …{text[max(0, leak.start() - 80) : leak.end() + 80]}…"


def test_a_platform_exception_escalates_at_once_and_customers_never_see_the_traceback(
    hive: World,  # noqa: F811
    managed: World,
    mailbox,
) -> None:
    provider_register("broken", BrokenProvider)
    for cache in caches.all():  # the success tests' in-process cache outlives each test
        cache.clear()
    member = hive.client("alpha_member", on="alpha")
    assert member.post("/reports/preferences/", {"daily_summary": "on"}).status_code == 302
    template = WorkflowTemplate(
        name="test",
        phases=(PhaseTemplate("work", "Work", 1, (Step("job", "Job", Role.FULLSTACK_DEVELOPER, fan_out="items"),)),),
        items=({"number": 1, "title": "render the app"},),
    )
    with schema_context("alpha"):
        project = Project.objects.create(name="Faulty", service=Service.MVP, status=Project.Status.IN_DELIVERY)
    frames: list[str] = []

    async def scenario() -> None:
        """What a customer's socket receives on connect: the state, its feed with the failures."""
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        frames.append(await communicator.receive_from(timeout=TIMEOUT))
        await communicator.disconnect()

    started = timezone.now()
    sweep = [time.monotonic()]

    def swept(query: QuerySet[Any]) -> Any:
        """``query``'s first row; meanwhile what the beat's sweep does for a message lost or late."""
        if time.monotonic() - sweep[0] > 2:
            sweep[0] = time.monotonic()
            tasks_redispatch(queued_for=timedelta(seconds=1))
        return query.first()

    with thread_worker(), schema_context("alpha"):
        project_start(project=project, template=template, provider="broken")
        faults = Escalation.objects.filter(project=project, kind=Escalation.Kind.PLATFORM_FAULT)
        escalation = wait_for(lambda: swept(faults), timeout=60, what="the platform-fault escalation")
        blocked = Task.objects.filter(project=project, status=Task.Status.BLOCKED)
        task = wait_for(lambda: swept(blocked), timeout=60, what="the task blocked")
    communicator = socket(hive, project.pk, user="alpha_owner", query="?feed=problems")
    async_to_sync(scenario)()
    assert "blocked after 3 attempts" in frames[0]

    # Staff: at once, with the traceback, by e-mail to the account manager; one escalation per task.
    assert (escalation.created_at - started).total_seconds() < 60
    assert "Traceback" in escalation.reason and "could not render the template" in escalation.reason
    assert escalation.assigned_to_email == "staff@hive.test"
    sent = wait_for(lambda: [m for m in mailbox.to("staff@hive.test") if "Platform fault" in m.subject], timeout=60)
    assert len(sent) == 1 and "Traceback" in sent[0].text and "RuntimeError" in sent[0].text
    with schema_context("alpha"):
        assert Escalation.objects.filter(project=project, kind=Escalation.Kind.PLATFORM_FAULT).count() == 1
        runs = list(Run.objects.filter(task=task))
        assert len(runs) == 3 and all("Traceback" in run.error for run in runs)
        assert task.blocked_reason == FAULT_SENTENCE
        for message in Event.objects.filter(project=project).values_list("message", flat=True):
            assert_clean(message, "an event")
        summary = daily_summary_make(project=project, day=timezone.now().date())
        WeeklyBriefing.objects.filter(week_start=week_of(timezone.now().date())).delete()  # made fresh
        briefing = weekly_briefing_make(week_start=week_of(timezone.now().date()))

    # Customers: one plain sentence everywhere.
    for number, frame in enumerate(frames):
        assert_clean(frame, f"websocket frame {number}")
    assert any(FAULT_SENTENCE.split(";")[0] in f.replace("&#x27;", "'") for f in frames)
    owner = hive.client("alpha_owner", on="alpha")
    for url in (
        f"/projects/{project.pk}/",
        f"/projects/{project.pk}/dashboard/",
        f"/projects/{project.pk}/dashboard/?feed=problems",
        f"/projects/{project.pk}/dashboard/state/",
        f"/projects/{project.pk}/success/",
        f"/reports/daily/{summary.pk}/",
        "/",
    ):
        page = owner.get(url).content.decode()
        assert_clean(page, url)
    assert "Blocked" in owner.get(f"/projects/{project.pk}/").content.decode()
    assert_clean(summary.text, "the daily summary")
    assert "Blocked work: “render the app” blocked" in summary.text or "Blocked work:" in summary.text
    for message in mailbox.to("alpha-member@example.test") + mailbox.to("alpha-owner@example.test"):
        assert_clean(message.text, f"the e-mail {message.subject!r}")
    pdf = owner.get(f"/reports/weekly/{briefing.pk}/").content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert_clean(text, "the weekly PDF")
    assert "Platform fault" in text  # the open escalation is listed, in plain words
