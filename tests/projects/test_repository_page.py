"""The repository page of a team augmentation (projects/views_repository.py, projects/delivery/repository.py):
connecting approves the waiting step once, replacing the connection rotates the credential without
charging or approving anything again, and customer text of any length never makes a page fail."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Engagement, Event, Project, RepositoryConnection, Service, Task
from tenants.secrets import secret_decrypt
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "hive.urls_tenant"


def _project(notes: str) -> Project:
    with schema_context("alpha"):
        project = Project.objects.create(name="Team page", service=Service.AUGMENTATION, status="in_delivery")
        Engagement.objects.create(project=project, kind=Engagement.Kind.SPRINT, notes=notes)
    return project


def test_connecting_moves_the_waiting_step_on_and_replacing_rotates_the_credential(hive: World) -> None:
    project = _project("- Track invoices with an amount")
    page = reverse("project_repository", urlconf=URLCONF, args=[project.pk])
    member = hive.client("alpha_member", on="alpha")
    with schema_context("alpha"):
        project_start(project=project, user=hive.users["alpha_owner"])
        assert Task.objects.get(project=project, key="connect_repository").status == "awaiting_approval"
    first = member.post(page, {"url": "https://git.example.com/team/app.git", "credential": "token-one-123456"})
    assert first.status_code == 302
    with schema_context("alpha"):
        connect = Task.objects.get(project=project, key="connect_repository")
        assert connect.status == "done" and connect.output["approved_by"] == "repository connection"
        stored = RepositoryConnection.objects.get(project=project)
        before = (stored.credential, stored.credential_changed_at)
    second = member.post(page, {"url": "git@git.example.com:team/app.git", "credential": "token-two"})
    assert second.status_code == 400 and "private key" in second.content.decode()  # ssh needs a key
    third = member.post(page, {"url": "https://git.example.com/team/app.git", "credential": "token-two-654321"})
    assert third.status_code == 302
    with schema_context("alpha"):
        stored = RepositoryConnection.objects.get(project=project)
        assert secret_decrypt(stored.credential).value == "token-two-654321"
        assert (stored.credential, stored.credential_changed_at) != before
        messages = list(
            Event.objects.filter(project=project, kind="repository.connected").values_list("message", flat=True)
        )
    assert len(messages) == 2 and "replaced" in messages[1]
    shown = member.get(page).content.decode()
    assert "access token, 16 characters" in shown and "token-two" not in shown


def test_a_backlog_line_of_any_length_never_fails_a_page(hive: World) -> None:
    long_line = "Track invoices " + "with a very long description " * 300
    project = _project(f"- {long_line}\n- {'x' * 5000}")
    with schema_context("alpha"):
        project_start(project=project, user=hive.users["alpha_owner"])
        titles = list(Task.objects.filter(project=project, key="backlog_item").values_list("title", flat=True))
    assert len(titles) == 2 and all(len(title) <= 300 for title in titles)
    viewer = hive.client("alpha_viewer", on="alpha")
    for name in ("project_detail", "project_repository", "project_dashboard", "project_success"):
        assert viewer.get(reverse(name, urlconf=URLCONF, args=[project.pk])).status_code == 200, name


def test_a_repository_connected_before_the_start_lets_the_workflow_go_on_at_once(hive: World) -> None:
    project = _project("- Track invoices with an amount")
    page = reverse("project_repository", urlconf=URLCONF, args=[project.pk])
    response = hive.client("alpha_member", on="alpha").post(
        page, {"url": "https://git.example.com/t/a.git", "credential": "tok-123456"}
    )
    assert response.status_code == 302
    with schema_context("alpha"):
        project_start(project=project, user=hive.users["alpha_owner"])
        assert Task.objects.get(project=project, key="connect_repository").status == "done"
        assert Task.objects.get(project=project, key="team_assessment").status != "pending"


def test_without_secret_store_keys_the_customer_reads_a_plain_message_once_and_staff_are_told(
    hive: World, settings: pytest.FixtureRequest
) -> None:
    from success.models import Escalation

    settings.HIVE_SECRET_KEYS = []  # type: ignore[attr-defined]
    project = _project("- Track invoices with an amount")
    page = reverse("project_repository", urlconf=URLCONF, args=[project.pk])
    response = hive.client("alpha_member", on="alpha").post(
        page, {"url": "https://git.example.com/t/a.git", "credential": "tok-123456"}
    )

    shown = response.content.decode()
    assert response.status_code == 400
    message = "Connecting repositories is not available right now; your account manager has been told."
    assert shown.count(message) == 1 and "HIVE_SECRET_KEYS" not in shown and "secret store" not in shown
    with schema_context("alpha"):
        assert not RepositoryConnection.objects.filter(project=project).exists()
        escalation = Escalation.objects.get(project=project, kind=Escalation.Kind.PLATFORM_FAULT)
    assert "HIVE_SECRET_KEYS" in escalation.reason
