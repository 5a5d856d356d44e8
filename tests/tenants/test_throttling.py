"""Login lockout (django-axes) per account and per address with a cool-off, unlock by password
reset, and the limits on e-mails we send on request (password resets, invitations)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.core import mail
from django.db.models import F
from django.test import Client, TestCase
from django.utils import timezone

from tenants.models import Invitation
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db

VICTIM = "alpha-member@example.test"


def _login(client: Client, email: str, password: str, **extra: Any) -> Any:
    return client.post("/login/", {"username": email, "password": password}, **extra)


def _fail(client: Client, email: str, times: int, **extra: Any) -> list[int]:
    return [_login(client, email, "not-the-password", **extra).status_code for _ in range(times)]


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused(world: World) -> None:
    client = world.client()
    locked: list[dict[str, object]] = []

    def on_lock(sender: object, **kwargs: object) -> None:
        locked.append(kwargs)

    user_locked_out.connect(on_lock)
    try:
        answers = _fail(client, VICTIM, 5)
        right = _login(client, VICTIM, PASSWORD)
    finally:
        user_locked_out.disconnect(on_lock)

    assert answers == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert b"Too many login attempts" in right.content and b"15 minutes" in right.content
    assert b"reset your password" in right.content
    assert locked and locked[0]["username"] == VICTIM


def test_the_lock_holds_for_the_account_from_another_address(world: World) -> None:
    _fail(world.client(), VICTIM, 5, REMOTE_ADDR="203.0.113.7")

    elsewhere = _login(world.client(), VICTIM, PASSWORD, REMOTE_ADDR="198.51.100.9")

    assert elsewhere.status_code == 429


def test_the_account_name_is_matched_whatever_its_case(world: World) -> None:
    client = world.client()
    for email in ("Alpha-Member@example.test", "ALPHA-MEMBER@EXAMPLE.TEST", " alpha-member@example.test"):
        _login(client, email, "wrong-one-1234", REMOTE_ADDR="203.0.113.1")
        _login(client, email, "wrong-one-1234", REMOTE_ADDR="203.0.113.2")

    assert _login(world.client(), VICTIM, PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 429


def test_one_address_guessing_many_accounts_is_locked(world: World) -> None:
    client = world.client()
    for n in range(5):
        _login(client, f"someone{n}@example.test", "guess-guess-1", REMOTE_ADDR="203.0.113.50")

    blocked = _login(client, "alpha-viewer@example.test", PASSWORD, REMOTE_ADDR="203.0.113.50")
    other_address = _login(world.client(), "alpha-viewer@example.test", PASSWORD, REMOTE_ADDR="198.51.100.1")

    assert blocked.status_code == 429
    assert other_address.status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_address_lock(world: World) -> None:
    client = world.client()
    for n in range(5):
        _login(client, f"x{n}@example.test", "guess-guess-1", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    assert _login(client, "alpha-viewer@example.test", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_logging_into_one_s_own_account_between_guesses_does_not_reset_the_count(world: World) -> None:
    attacker = world.client()
    answers = []
    for _ in range(3):
        answers += _fail(attacker, VICTIM, 2, REMOTE_ADDR="203.0.113.9")
        # The attacker's own account, from the same address, logs in fine in between…
        _login(attacker, "outsider@example.test", PASSWORD, REMOTE_ADDR="203.0.113.9")
        attacker.post("/logout/")

    # …but the victim's failures kept counting: locked after five, from anywhere.
    assert answers == [200, 200, 200, 200, 429, 429]
    assert _login(world.client(), VICTIM, PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 429


def test_the_lock_ends_after_the_cool_off(world: World) -> None:
    client = world.client()
    _fail(client, VICTIM, 5)
    assert _login(client, VICTIM, PASSWORD).status_code == 429

    # Tries during the lock do not extend it; 16 minutes after the last counted failure it is over.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert _login(client, VICTIM, PASSWORD).status_code == 302


def test_tries_while_locked_do_not_extend_the_lock(world: World) -> None:
    client = world.client()
    _fail(client, VICTIM, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))

    # Ten minutes in, still locked — and an attacker's tries now must not restart the clock.
    assert _fail(client, VICTIM, 3) == [429, 429, 429]
    assert _login(client, VICTIM, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=6))

    assert _login(client, VICTIM, PASSWORD).status_code == 302


def test_a_password_reset_unlocks_the_account_at_once(world: World) -> None:
    client = world.client()
    _fail(client, VICTIM, 5)
    assert _login(client, VICTIM, PASSWORD).status_code == 429

    with TestCase.captureOnCommitCallbacks(execute=True):
        world.client().post("/password-reset/", {"email": VICTIM})
    (message,) = mail.outbox
    link = re.search(r"http://hive\.localhost(/reset/\S+/)", str(message.body))
    assert link
    owner = world.client()
    form = owner.get(link.group(1), follow=True)
    new = "a-brand-new-secret-9"
    done = owner.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302

    assert not AccessAttempt.objects.filter(username=VICTIM).exists()
    assert _login(world.client(), VICTIM, new, REMOTE_ADDR="198.51.100.9").status_code == 302


def test_the_admin_login_is_locked_too(world: World) -> None:
    client = world.client()
    for _ in range(5):
        client.post("/admin/login/", {"username": "staff@hive.test", "password": "nope-nope-nope"})

    response = client.post("/admin/login/?next=/admin/", {"username": "staff@hive.test", "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_portal_login_is_locked_too(world: World) -> None:
    client = world.client(on="alpha")
    assert _fail(client, VICTIM, 5)[-1] == 429
    assert _login(client, VICTIM, PASSWORD).status_code == 429


def test_five_reset_requests_in_a_row_do_not_send_five_e_mails(world: World) -> None:
    client = world.client()
    answers = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(5):
            answers.append(client.post("/password-reset/", {"email": VICTIM}))

    assert [a.status_code for a in answers] == [302] * 5
    assert {a["Location"] for a in answers} == {"/password-reset/sent/"}
    assert len(mail.outbox) == 2


def test_reset_requests_for_other_casings_of_an_address_share_its_limit(world: World) -> None:
    client = world.client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        for email in (VICTIM, VICTIM.upper(), "Alpha-Member@Example.Test", VICTIM):
            client.post("/password-reset/", {"email": email})

    assert len(mail.outbox) == 2


def test_reset_requests_from_one_address_are_limited_with_a_clear_page(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HIVE_RATE_PASSWORD_RESET_IP = "3/h"
    client = world.client()
    answers = [client.post("/password-reset/", {"email": f"n{n}@example.test"}).status_code for n in range(4)]

    assert answers == [302, 302, 302, 429]
    assert b"too many password reset requests" in client.post("/password-reset/", {"email": "z@x.test"}).content


def test_invitations_to_one_address_are_limited(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    answers = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(5):
            answers.append(owner.post("/members/", {"email": "spam-target@example.test", "role": "member"}))

    assert [a.status_code for a in answers] == [302, 302, 302, 400, 400]
    assert "invited several times today" in answers[-1].content.decode()
    assert len([m for m in mail.outbox if m.to == ["spam-target@example.test"]]) == 3
    assert Invitation.objects.filter(email="spam-target@example.test").count() == 3


def test_invitations_from_one_address_are_limited(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HIVE_RATE_INVITATION_IP = "2/h"
    owner = world.client("alpha_owner", on="alpha")
    answers = [owner.post("/members/", {"email": f"p{n}@example.test", "role": "member"}).status_code for n in range(3)]

    assert answers == [302, 302, 429]
    assert Invitation.objects.filter(email__startswith="p", customer=world.customers["alpha"]).count() == 2


def test_the_lockout_page_is_served_under_asgi_too(world: World) -> None:
    """The portal runs under uvicorn: Django's async handler must produce the same 429 page."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient(headers={"host": "hive.localhost"})

    async def attempts() -> list[Any]:
        answers = []
        for password in ["wrong-password-1"] * 5 + [PASSWORD]:
            answers.append(await client.post("/login/", {"username": VICTIM, "password": password}))
        return answers

    answers = async_to_sync(attempts)()

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429, 429]
    assert b"Too many login attempts" in answers[-1].content
