"""A dropped story is told to the owners exactly once each, through the notifications (which honour
each person's preference): ``projects.delivery.scope_changes`` sends no e-mail of its own."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.models import ScopeChange, Story
from success.models import Notification, NotificationDelivery, NotificationKind, NotificationPreference
from tests.success.success_world import Mailbox, Received, committed, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]


def scope_mails(mailbox: Mailbox, address: str) -> list[Received]:
    return [m for m in mailbox.to(address) if "Scope dropped" in m.subject]


def test_each_owner_gets_exactly_one_email_per_dropped_story_and_members_none(world: World, mailbox) -> None:
    with schema_context("alpha"):
        project = started_mvp("Once", world.users["alpha_owner"], stories=2)
        first, second = Story.objects.filter(project=project).order_by("position")
    staff = world.client("staff", on="alpha")
    with committed():
        staff.post(f"/projects/{project.pk}/delivery/stories/{first.pk}/drop/", {"reason": "Moved to phase two."})
    with committed():
        staff.post(f"/projects/{project.pk}/delivery/stories/{second.pk}/drop/", {"reason": "Not needed any more."})
    with schema_context("alpha"):
        assert ScopeChange.objects.filter(project=project).count() == 2
    mails = scope_mails(mailbox, "alpha-owner@example.test")
    assert len(mails) == 2, [m.subject for m in mails]
    texts = sorted(m.text for m in mails)
    assert "Moved to phase two." in texts[0] + texts[1] and "Not needed any more." in texts[0] + texts[1]
    assert all(f"/projects/{project.pk}/" in m.text and "notification" in m.text for m in mails)
    assert all(len(m.recipients) == 1 for m in mails)  # one e-mail per person, not one to all owners
    assert not scope_mails(mailbox, "alpha-member@example.test")  # the owners decide on a drop
    assert not scope_mails(mailbox, "alpha-viewer@example.test")


def test_an_owner_who_turned_scope_changes_off_gets_no_email_but_the_notification_is_kept(
    world: World, mailbox
) -> None:
    owner = world.users["alpha_owner"]
    with schema_context("alpha"):
        NotificationPreference.objects.update_or_create(
            user=owner, kind=NotificationKind.SCOPE_CHANGE, defaults={"delivery": NotificationDelivery.OFF}
        )
        project = started_mvp("Quiet", owner, stories=1)
        story = Story.objects.get(project=project)
    with committed():
        world.client("staff", on="alpha").post(
            f"/projects/{project.pk}/delivery/stories/{story.pk}/drop/", {"reason": "Agreed on the call."}
        )
    assert not scope_mails(mailbox, "alpha-owner@example.test")
    with schema_context("alpha"):
        kept = Notification.objects.get(user=owner, kind=NotificationKind.SCOPE_CHANGE, project=project)
        assert kept.emailed_at is None and "Agreed on the call." in kept.body
