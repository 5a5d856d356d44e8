"""A platform fault on a real worker (projects.execution, projects.faults, success.escalations): an
exception in the platform's own code is escalated to the account manager at once, by e-mail, with
the traceback — and no traceback or server path reaches any customer page, websocket frame, e-mail
or PDF."""

from __future__ import annotations

import io
import re
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context
from pypdf import PdfReader

from agents.providers import JobContext, JobSpec, Outcome, provider_register
from agents.roles import Role
from projects.delivery.planning import project_start
from projects.delivery.workflow import PhaseTemplate, Step, WorkflowTemplate
from projects.faults import FAULT_SENTENCE, customer_text
from projects.models import Event, Project, Run, Service, Task
from success.models import Escalation
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


def test_customer_text_hides_tracebacks_and_server_paths() -> None:
    assert customer_text('Traceback (most recent call last):\n  File "/x.py", line 1\nValueError: x') == FAULT_SENTENCE
    shown = customer_text(f"cannot open {settings.BASE_DIR}/projects/models.py: denied")
    assert str(settings.BASE_DIR) not in shown and "…/models.py: denied" in shown
    assert customer_text("3 tests failed in tests/test_story_001.py") == "3 tests failed in tests/test_story_001.py"


def test_a_platform_exception_escalates_at_once_and_customers_never_see_the_traceback(
    hive: World,  # noqa: F811
    managed: World,
    mailbox,
) -> None:
    provider_register("broken", BrokenProvider)
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
    communicator = socket(hive, project.pk, user="alpha_owner")

    @sync_to_async
    def begin() -> None:
        with schema_context("alpha"):
            project_start(project=project, template=template, provider="broken")

    async def scenario() -> None:
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        frames.append(await communicator.receive_from(timeout=TIMEOUT))
        await begin()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("blocked after" in f for f in frames):
            frames.append(await communicator.receive_from(timeout=30))
        await communicator.disconnect()

    started = timezone.now()
    with thread_worker():
        async_to_sync(scenario)()
        with schema_context("alpha"):
            escalation = wait_for(
                lambda: Escalation.objects.filter(project=project, kind=Escalation.Kind.PLATFORM_FAULT).first(),
                timeout=60,
                what="the platform-fault escalation",
            )
            task = wait_for(
                lambda: Task.objects.filter(project=project, status=Task.Status.BLOCKED).first(),
                what="the task blocked",
            )
    assert any("blocked after" in f for f in frames), "the blocked event reached the socket"

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
