"""Notifications (success.notifications): each kind from its real trigger — an event appended to
the project stream, a survey or the guarantee opened and decided by success's services, billing's
payment notice — e-mailed on the local SMTP server with the link to the page where the person
acts, listed in the portal for that person only, by each person's preferences (off: no e-mail;
digest: one e-mail a day)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import Charge
from billing.signals import payment_notice
from projects.delivery.events import event_append
from projects.models import Event, Phase, Project, Task, Workflow
from success.guarantee import guarantee_refund_decline
from success.models import Guarantee, Notification, NotificationKind, Survey
from success.tasks import notification_digests
from tenants.models import Membership
from tests.success.success_world import Mailbox, committed, run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]

OWNER, MEMBER, VIEWER = "alpha-owner@example.test", "alpha-member@example.test", "alpha-viewer@example.test"
PORTAL = "http://alpha.hive.localhost:8000"


def kinds_of(email: str, project: Project) -> list[str]:
    """The kinds ``email`` was told about ``project`` (the schema may hold other tests' rows)."""
    with schema_context("alpha"):
        rows = Notification.objects.filter(email=email, project=project).order_by("pk")
        return list(rows.values_list("kind", flat=True))


def all_choices(**chosen: str) -> dict[str, str]:
    return {kind: chosen.get(kind, "immediately") for kind in NotificationKind.values}


def test_an_approval_waiting_mails_the_owner_a_link_to_the_decision_and_lists_it_for_them_only(
    world: World, mailbox: Mailbox
) -> None:
    with schema_context("alpha"):
        project = started_mvp("Shop & <Co>", world.users["alpha_owner"], stories=1)
        run_until(project, "review", world.users["alpha_owner"])
        task = Task.objects.get(project=project, key="approve_plan")
    sent = [m for m in mailbox.to(OWNER) if "Approval needed" in m.subject]
    assert len(sent) == 1
    link = f"{PORTAL}/projects/{project.pk}/decisions/{task.pk}/"
    assert sent[0].subject == "[Alpha Industries] Approval needed: Shop & <Co> — Customer approves the plan"
    assert link in sent[0].text and "&amp;" not in sent[0].text  # text is not HTML-escaped
    assert f'href="{link}"' in sent[0].html and "Shop &amp; &lt;Co&gt;" in sent[0].html  # HTML is
    assert not [m for m in mailbox.to(MEMBER) + mailbox.to(VIEWER) if "Approval needed" in m.subject]

    owner = world.client("alpha_owner", on="alpha")
    with schema_context("alpha"):
        row = Notification.objects.get(email=OWNER, kind=NotificationKind.APPROVAL_NEEDED, project=project)
        # Other tests' rows may be in the schema (a transactional test's flush keeps tenant tables).
        unread = Notification.objects.filter(user=world.users["alpha_owner"], read_at__isnull=True).count()
    page = owner.get("/notifications/").content.decode()
    assert f'data-testid="notification-{row.pk}"' in page and f'data-testid="unread-count">{unread}<' in page
    assert f'data-testid="unread-badge">{unread}<' in owner.get("/reports/").content.decode()
    opened = owner.post(f"/notifications/{row.pk}/open/")
    assert opened.status_code == 302 and opened["Location"] == f"/projects/{project.pk}/decisions/{task.pk}/"
    assert f'data-testid="approve-{task.pk}"' in owner.get(opened["Location"]).content.decode()
    # The project page's decisions block carries the anchor older e-mails link to.
    assert f'id="task-{task.pk}"' in owner.get(f"/projects/{project.pk}/").content.decode()
    with schema_context("alpha"):
        assert Notification.objects.get(pk=row.pk).read_at is not None

    # Another member of the portal, and a person of another portal, get nothing of it.
    member = world.client("alpha_member", on="alpha")
    assert "Customer approves the plan" not in member.get("/notifications/").content.decode()
    assert member.post(f"/notifications/{row.pk}/open/").status_code == 404
    assert world.client("beta_owner", on="alpha").get("/notifications/").status_code == 404
    assert world.client("beta_owner", on="alpha").post(f"/notifications/{row.pk}/open/").status_code == 404
    assert (
        "Customer approves the plan"
        not in world.client("beta_owner", on="beta").get("/notifications/").content.decode()
    )


def test_an_approval_given_settles_its_approval_needed_notification(world: World, mailbox: Mailbox) -> None:
    with schema_context("alpha"):
        project = started_mvp("Settled", world.users["alpha_owner"], stories=1)
        run_until(project, "review", world.users["alpha_owner"])
        task = Task.objects.get(project=project, key="approve_plan")
        row = Notification.objects.get(email=OWNER, kind=NotificationKind.APPROVAL_NEEDED, project=project)
        assert row.read_at is None

    owner = world.client("alpha_owner", on="alpha")
    with committed():
        approved = owner.post(f"/projects/{project.pk}/decisions/{task.pk}/approve/")
    assert approved.status_code in (200, 204, 302)

    with schema_context("alpha"):
        assert Notification.objects.get(pk=row.pk).read_at is not None
    page = owner.get("/notifications/").content.decode()
    assert f'data-testid="notification-{row.pk}"' not in page or "New · Approval needed" not in page


def test_blocked_and_escalated_tasks_scope_changes_and_the_preview_tell_the_team(
    world: World, mailbox: Mailbox
) -> None:
    with schema_context("alpha"):
        project = started_mvp("Blocks", world.users["alpha_owner"], stories=1)
        task = Task.objects.filter(project=project).order_by("pk").first()
        assert task is not None
        with committed():
            event_append(project_id=project.pk, kind=Event.Kind.TASK_BLOCKED, task=task, message="tests fail")
            event_append(project_id=project.pk, kind=Event.Kind.TASK_ESCALATED, task=task, message="blocked 4 h")
            Event.objects.create(project=project, kind="scope.dropped", message="Story 1 dropped with consent")
            event_append(project_id=project.pk, kind=Event.Kind.PHASE_COMPLETED, phase=task.phase)  # internal
        with committed():
            event_append(
                project_id=project.pk,
                kind=Event.Kind.PHASE_COMPLETED,
                phase=Phase.objects.get(project=project, key="preview"),
            )
    # The preview phase's end is a milestone: its satisfaction survey opens too.
    team = ["task_blocked", "task_blocked", "scope_change", "preview_ready", "survey_open"]
    assert kinds_of(OWNER, project) == team
    assert kinds_of(MEMBER, project) == [k for k in team if k != "scope_change"]  # a drop is the owners' decision
    assert kinds_of(VIEWER, project) == ["preview_ready"]  # viewers decide nothing; they may open the preview
    blocked = [m for m in mailbox.to(MEMBER) if "Task blocked" in m.subject]
    assert len(blocked) == 2 and f"{PORTAL}/projects/{project.pk}/dashboard/" in blocked[0].text
    scope = next(m for m in mailbox.to(OWNER) if "Scope change" in m.subject)
    assert "Story 1 dropped with consent" in scope.subject and f"{PORTAL}/projects/{project.pk}/" in scope.text
    (preview,) = [m for m in mailbox.to(VIEWER) if "Preview ready" in m.subject]
    assert f"{PORTAL}/projects/{project.pk}/#preview" in preview.text
    with committed(), schema_context("alpha"):  # the same event again tells nobody twice
        from success.notifications import event_notify

        event_notify(schema_name="alpha", event_id=Event.objects.filter(kind="scope.dropped").latest("pk").pk)
    assert kinds_of(OWNER, project) == team


def _delivered(project: Project) -> None:
    Workflow.objects.filter(project=project).update(status=Workflow.Status.COMPLETED, finished_at=timezone.now())
    with committed():
        event_append(project_id=project.pk, kind=Event.Kind.PROJECT_COMPLETED, message="Delivered")


def test_delivery_opens_its_survey_and_the_guarantee_and_the_decision_is_told(world: World, mailbox: Mailbox) -> None:
    with schema_context("alpha"):
        project = started_mvp("Delivered", world.users["alpha_owner"], stories=1)
        _delivered(project)
        survey = Survey.objects.get(project=project)
        pledge = Guarantee.objects.get(project=project)
        assert survey.occasion == Survey.Occasion.DELIVERY
        Guarantee.objects.filter(pk=pledge.pk).update(status=Guarantee.Status.FAILED)
        with committed():
            guarantee_refund_decline(
                guarantee=Guarantee.objects.get(pk=pledge.pk),
                user=world.users["staff"],
                reason="The slow page is the customer's own hosting, measured twice.",
            )
    assert kinds_of(OWNER, project) == ["delivery_done", "survey_open", "guarantee", "guarantee"]
    assert kinds_of(MEMBER, project) == ["delivery_done", "survey_open"]
    assert kinds_of(VIEWER, project) == ["delivery_done"]
    survey_mail = next(m for m in mailbox.to(MEMBER) if "survey" in m.subject.lower())
    assert f"{PORTAL}/projects/{project.pk}/success/#satisfaction" in survey_mail.text
    decided = [m for m in mailbox.to(OWNER) if "guarantee" in m.subject.lower()]
    assert len(decided) == 2 and "refund declined" in decided[1].subject
    assert (
        "customer's own hosting" in decided[1].text and f"/projects/{project.pk}/success/#guarantee" in decided[1].text
    )


def _payment(kind: str, project: Project, charge_id: int) -> None:
    """What billing sends when it records a charge (billing.services, inside its transaction)."""
    context = {
        "amount": "$1,000.00",
        "charge": Charge(pk=charge_id, description="Kick-off 50 %", project_name="Paid", created_at=timezone.now()),
    }
    path = f"/billing/receipts/{charge_id}/" if kind == "receipt" else f"/billing/#charge-{charge_id}"
    answers = payment_notice.send(
        sender=Charge,
        kind=kind,
        schema_name="alpha",
        project_id=project.pk,
        key=f"charge:{charge_id}:{kind}:1",
        title=f"Payment of $1,000.00 {kind}",
        path=path,
        template="payment_receipt" if kind == "receipt" else "payment_failed",
        context={**context, "receipt_url": PORTAL + path, "pay_url": PORTAL + path},
    )
    assert any(bool(result) for _, result in answers)  # success takes it over from billing


def test_payments_go_to_the_owners_by_their_preferences_with_billings_own_mail(world: World, mailbox: Mailbox) -> None:
    owner = world.client("alpha_owner", on="alpha")
    assert owner.post("/notifications/preferences/", all_choices(payment_failure="off")).status_code == 302
    with schema_context("alpha"):
        project = started_mvp("Paid", world.users["alpha_owner"], stories=1)
        with committed():
            _payment("receipt", project, 901)
            _payment("failure", project, 902)
    assert kinds_of(OWNER, project) == ["payment_receipt", "payment_failure"] and kinds_of(MEMBER, project) == []
    receipts = [m for m in mailbox.to(OWNER) if m.subject.startswith("Receipt: $1,000.00")]
    assert len(receipts) == 1 and f"{PORTAL}/billing/receipts/901/" in receipts[0].text
    assert len(mailbox.to(OWNER)) == 1  # the failure is off: no e-mail
    assert "Payment of $1,000.00 failure" in owner.get("/notifications/").content.decode()  # still listed


def test_off_sends_nothing_and_the_digest_sends_one_mail_a_day(world: World, mailbox: Mailbox) -> None:
    owner = world.client("alpha_owner", on="alpha")
    chosen = all_choices(task_blocked="digest", approval_needed="off")
    assert owner.post("/notifications/preferences/", chosen).status_code == 302
    page = owner.get("/notifications/preferences/").content.decode()
    assert re.search(r'name="task_blocked" value="digest"[^>]*checked', page)
    assert re.search(r'name="approval_needed" value="off"[^>]*checked', page)
    with schema_context("alpha"):
        project = started_mvp("Quiet", world.users["alpha_owner"], stories=1)
        run_until(project, "review", world.users["alpha_owner"])
        task = Task.objects.filter(project=project, kind=Task.Kind.AGENT).order_by("pk").first()
        assert task is not None
        with committed():
            event_append(project_id=project.pk, kind=Event.Kind.TASK_BLOCKED, task=task, message="first block")
            event_append(project_id=project.pk, kind=Event.Kind.TASK_BLOCKED, task=task, message="second block")
    assert mailbox.to(OWNER) == []  # approval off, blocked waits for the digest
    assert len([m for m in mailbox.to(MEMBER) if "Task blocked" in m.subject]) == 2  # the member chose nothing
    assert kinds_of(OWNER, project) == ["approval_needed", "task_blocked", "task_blocked"]

    with committed():
        notification_digests()
    digests = mailbox.to(OWNER)
    assert len(digests) == 1 and digests[0].subject == "[Alpha Industries] Your daily digest: 2 notifications"
    assert "first block" in digests[0].text and "second block" in digests[0].text
    assert f"{PORTAL}/projects/{project.pk}/dashboard/" in digests[0].text
    with committed():
        notification_digests()
    assert len(mailbox.to(OWNER)) == 1  # each notification is in one digest


def test_the_digest_leaves_out_who_left_and_what_was_turned_off_since(world: World, mailbox: Mailbox) -> None:
    for who in ("alpha_owner", "alpha_member"):
        assert (
            world.client(who, on="alpha").post("/notifications/preferences/", all_choices(task_blocked="digest"))
        ).status_code == 302
    with schema_context("alpha"):
        project = started_mvp("Later", world.users["alpha_owner"], stories=1)
        task = Task.objects.filter(project=project).order_by("pk").first()
        assert task is not None
        with committed():
            event_append(project_id=project.pk, kind=Event.Kind.TASK_BLOCKED, task=task, message="waits")
    assert kinds_of(OWNER, project) == kinds_of(MEMBER, project) == ["task_blocked"]
    world.client("alpha_owner", on="alpha").post("/notifications/preferences/", all_choices(task_blocked="off"))
    Membership.objects.filter(user=world.users["alpha_member"], customer=world.customers["alpha"]).delete()
    with committed():
        assert notification_digests() == 0
    assert mailbox.to(OWNER) == [] and mailbox.to(MEMBER) == []


def test_preferences_are_the_persons_own_and_bad_input_changes_nothing(world: World) -> None:
    owner, member = world.client("alpha_owner", on="alpha"), world.client("alpha_member", on="alpha")
    assert owner.post("/notifications/preferences/", all_choices(guarantee="off")).status_code == 302
    refused = owner.post("/notifications/preferences/", {**all_choices(), "guarantee": "sometimes"})
    assert refused.status_code == 400 and "Choose one option" in refused.content.decode()
    incomplete = owner.post("/notifications/preferences/", {"guarantee": "digest"})
    assert incomplete.status_code == 400
    with schema_context("alpha"):
        from success.notifications import preferences_for

        assert preferences_for(world.users["alpha_owner"])["guarantee"] == "off"
        assert preferences_for(world.users["alpha_member"])["guarantee"] == "immediately"
    with schema_context("beta"):
        assert preferences_for(world.users["alpha_owner"])["guarantee"] == "immediately"
    assert member.get("/notifications/preferences/").status_code == 200
    assert world.client("beta_owner", on="alpha").get("/notifications/preferences/").status_code == 404
    assert world.client("outsider", on="alpha").post("/notifications/preferences/", all_choices()).status_code == 404


def test_the_list_pages_and_marks_all_read(world: World) -> None:
    with schema_context("alpha"):
        user = world.users["alpha_viewer"]
        now = timezone.now()
        Notification.objects.bulk_create(
            Notification(
                user=user,
                email=user.email,
                kind=NotificationKind.PREVIEW_READY,
                title=f"Preview number {n}",
                link=f"{PORTAL}/",
                action="Open",
                key=f"test:{n}",
                delivery="off",
                created_at=now - timedelta(minutes=n),
            )
            for n in range(35)
        )
    viewer = world.client("alpha_viewer", on="alpha")
    first = viewer.get("/notifications/").content.decode()
    assert "Preview number 0<" in first and "Preview number 34<" not in first and "Page 1 of 2" in first
    assert "Preview number 34<" in viewer.get("/notifications/?page=2").content.decode()
    assert viewer.post("/notifications/read/").status_code == 302
    assert 'data-testid="unread-count">0<' in viewer.get("/notifications/").content.decode()


def test_a_mail_server_that_is_down_loses_no_notification_and_stops_no_work(
    world: World, settings: pytest.FixtureRequest
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # type: ignore[attr-defined]  # nothing listens
    with schema_context("alpha"):
        project = started_mvp("Offline", world.users["alpha_owner"], stories=1)
        task = Task.objects.filter(project=project).order_by("pk").first()
        assert task is not None
        with committed():
            event_append(project_id=project.pk, kind=Event.Kind.TASK_BLOCKED, task=task, message="no mail today")
        rows = list(Notification.objects.filter(project=project).order_by("email"))
    assert [row.email for row in rows] == [MEMBER, OWNER] and all(row.emailed_at is None for row in rows)


def test_beat_sends_the_digests_every_day_after_the_reports() -> None:
    from celery.schedules import crontab
    from django.conf import settings

    from hive.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["success-notification-digests"]
    assert entry["task"] == "success.notification_digests" and "success.notification_digests" in app.tasks
    assert entry["schedule"] == crontab(minute=30, hour=settings.HIVE_REPORTS_HOUR)
