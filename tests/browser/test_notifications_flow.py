"""The owner is told an approval waits: the e-mail reaches the suite's local SMTP server, its link
opens — in Chromium, logged in — the project page with the approval's control, the header shows
one unread notification, the in-portal list shows it, and opening it from there marks it read;
the owner then approves from where the link led."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from agents.pools import pools_ensure
from agents.roles import ROLES
from projects.models import Task
from success.models import Notification
from tests.browser.asgi_server import AsgiServer
from tests.success.memory_cache import MEMORY_CACHES
from tests.success.success_world import Mailbox, run_until, smtp_server, started_mvp
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OWNER = "alpha-owner@example.test"


@pytest.fixture
def server(settings: Any) -> Iterator[AsgiServer]:
    settings.CACHES = MEMORY_CACHES
    server = AsgiServer().start()
    settings.HIVE_SITE_URL = server.origin()  # links in e-mails lead to this server
    yield server
    server.stop()


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    with smtp_server() as (box, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield box


def test_the_owner_follows_the_approval_email_to_the_decision_and_finds_it_in_the_portal_list(
    page: Any, server: AsgiServer, mailbox: Mailbox, world: World
) -> None:
    pools_ensure(sizes={role.value: 0 for role in ROLES})  # nothing is dispatched to a broker
    with schema_context("alpha"):
        project = started_mvp("Notified shop", world.users["alpha_owner"], stories=1)
        run_until(project, "review", world.users["alpha_owner"])
        task = Task.objects.get(project=project, key="approve_plan")

    (mail,) = [m for m in mailbox.to(OWNER) if "Approval needed" in m.subject]
    match = re.search(r"Review and approve: (\S+)", mail.text)
    assert match is not None
    link = match.group(1)
    assert link == server.origin("alpha") + f"/projects/{project.pk}/decisions/{task.pk}/"
    assert f'href="{link}"' in mail.html

    page.goto(server.origin() + "/login/")
    page.fill("#id_username", OWNER)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://alpha.hive.localhost:*/")

    page.goto(link)  # the page that asks for the decision
    expect(page.get_by_test_id("decision-title")).to_contain_text("Customer approves the plan")
    expect(page.get_by_test_id(f"approve-{task.pk}")).to_be_visible()
    expect(page.get_by_test_id("unread-badge")).to_have_text("1")

    page.get_by_test_id("notifications-link").click()
    page.wait_for_url(re.compile(r".*/notifications/$"))
    item = page.locator("article.notification.unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Approval needed: Notified shop — Customer approves the plan")
    item.get_by_role("button", name="Review and approve").click()
    page.wait_for_url(re.compile(rf".*/projects/{project.pk}/decisions/{task.pk}/$"))
    expect(page.get_by_test_id("unread-badge")).to_have_count(0)

    page.get_by_test_id(f"approve-{task.pk}").click()
    expect(page.locator(".messages")).to_contain_text("Approved: Customer approves the plan")
    with schema_context("alpha"):
        task.refresh_from_db()
        # A transactional test's flush empties public tables only: leave no one a notification.
        Notification.objects.filter(project=project).delete()
    assert task.status == Task.Status.DONE
