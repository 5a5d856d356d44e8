"""An account whose e-mail address is not confirmed may not start its company's first payment
(accepting a quote, paying) or invite anyone; it can send itself a new signed link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import TestCase
from django_tenants.utils import schema_context

from projects.models import Project, Quote
from tenants.models import Invitation, Role, User
from tenants.verification import EmailUnverified
from tests.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def unverified(world: World) -> User:
    # A fresh row, never the world's shared object (it outlives this test's rollback).
    User.objects.filter(pk=world.users["alpha_owner"].pk).update(email_verified_at=None)
    return User.objects.get(pk=world.users["alpha_owner"].pk)


def _quote() -> tuple[Project, Quote]:
    with schema_context("alpha"):
        project = Project.objects.create(name="Verify first", service="mvp")
        quote = Quote.objects.create(project=project, number=1, snapshot={"service": "mvp"}, price_cents=7_500_000)
    return project, quote


def test_an_unverified_owner_cannot_accept_a_quote_and_is_told_why(world: World, unverified: User) -> None:
    project, quote = _quote()
    client = world.client("alpha_owner", on="alpha")

    response = client.post(f"/projects/{project.pk}/quotes/1/accept/", follow=True)

    assert "Confirm your e-mail address before accepting a quote" in response.content.decode()
    with schema_context("alpha"):
        quote.refresh_from_db()
        project.refresh_from_db()
        assert quote.accepted_at is None and project.status != Project.Status.AWAITING_PAYMENT


def test_the_service_itself_refuses_so_every_caller_is_covered(world: World, unverified: User) -> None:
    from projects.scoping.quotes import quote_accept

    _, quote = _quote()
    with schema_context("alpha"), pytest.raises(EmailUnverified):
        quote_accept(quote=quote, user=unverified, consent="")


def test_an_unverified_owner_cannot_pay(world: World, unverified: User) -> None:
    project, _ = _quote()
    with schema_context("alpha"):
        Project.objects.filter(pk=project.pk).update(status=Project.Status.AWAITING_PAYMENT)

    response = world.client("alpha_owner", on="alpha").post(f"/projects/{project.pk}/pay/", follow=True)

    assert "Confirm your e-mail address before paying" in response.content.decode()


def test_an_unverified_owner_cannot_invite_and_is_offered_a_new_link(world: World, unverified: User) -> None:
    client = world.client("alpha_owner", on="alpha")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/members/", {"email": "friend@example.test", "role": "member"})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Confirm your e-mail address before inviting people" in body
    assert "Send the confirmation link again" in body
    assert not Invitation.objects.filter(email="friend@example.test").exists()
    assert mail.outbox == []


def test_resending_the_link_then_opening_it_lifts_the_block(world: World, unverified: User) -> None:
    client = world.client("alpha_owner", on="alpha")
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = client.post("/account/email/send/", {"next": "/members/"})
    assert sent.status_code == 302 and sent["Location"] == "/members/"
    (message,) = mail.outbox
    assert message.to == ["alpha-owner@example.test"]
    link = re.search(r"http://hive\.localhost(/account/email/[^/\s]+/)", str(message.body))
    assert link

    opened = world.client().get(link.group(1))

    assert opened.status_code == 200 and b"Address confirmed" in opened.content
    assert User.objects.get(pk=unverified.pk).email_verified
    with TestCase.captureOnCommitCallbacks(execute=True):
        invited = client.post("/members/", {"email": "friend@example.test", "role": "member"})
    assert invited.status_code == 302
    assert Invitation.objects.filter(email="friend@example.test").exists()


def test_a_tampered_or_stale_verification_link_is_refused(world: World, unverified: User) -> None:
    from tenants.verification import email_verification_token

    token = email_verification_token(unverified)
    # The address changed since the link was mailed: the link is for the old address.
    User.objects.filter(pk=unverified.pk).update(email="renamed@example.test")

    assert world.client().get(f"/account/email/{token}/").status_code == 410
    assert world.client().get(f"/account/email/{token}x/").status_code == 410
    assert not User.objects.get(pk=unverified.pk).email_verified


def test_verification_e_mails_are_rate_limited(world: World, unverified: User) -> None:
    client = world.client("alpha_owner", on="alpha")
    with TestCase.captureOnCommitCallbacks(execute=True):
        answers = [client.post("/account/email/send/").status_code for _ in range(5)]

    assert answers == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3


def test_a_person_joining_by_invitation_has_a_confirmed_address(world: World) -> None:
    from tenants import services

    owner = world.users["alpha_owner"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        invitation = services.invitation_send(
            customer=world.customers["alpha"],
            email="joiner@example.test",
            role=Role.MEMBER,
            invited_by=owner,
            accept_url_base="http://hive.localhost/invitations/",
        )
    token = services.invitation_token(invitation)

    world.client().post(f"/invitations/{token}/", {"password": "correct-horse-battery-staple"})

    assert User.objects.get(email="joiner@example.test").email_verified
