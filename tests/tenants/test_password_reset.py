"""Password reset by email, on the public site."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests.world import World

pytestmark = pytest.mark.django_db


def test_a_user_resets_a_forgotten_password_by_email(world: World) -> None:
    client = world.client()
    assert client.post("/password-reset/", {"email": "alpha-viewer@example.test"}).status_code == 302

    (message,) = mail.outbox
    assert message.to == ["alpha-viewer@example.test"]
    link = re.search(r"http://hive\.localhost(/reset/\S+/)", str(message.body))
    assert link
    form = client.get(link.group(1), follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"}
    )
    assert done.status_code == 302

    credentials = {"username": "alpha-viewer@example.test", "password": "a-brand-new-secret-9"}
    login = world.client().post("/login/", credentials)
    assert login.status_code == 302
    assert login["Location"] == "http://alpha.hive.localhost/"


def test_an_unknown_email_reveals_nothing(world: World) -> None:
    response = world.client().post("/password-reset/", {"email": "nobody@example.test"}, follow=True)
    assert b"If an account exists" in response.content
    assert mail.outbox == []


@pytest.mark.parametrize("asked_on", ["beta.hive.localhost", "alpha.hive.localhost", "hive.localhost"])
def test_the_reset_link_is_on_the_apex_whatever_portal_it_was_asked_on(world: World, asked_on: str) -> None:
    client = Client(HTTP_HOST=asked_on)

    assert client.post("/password-reset/", {"email": "alpha-viewer@example.test"}).status_code == 302

    (message,) = mail.outbox
    links = re.findall(r"https?://[^/\s\"]+/reset/", str(message.body) + str(getattr(message, "alternatives", "")))
    assert links and set(links) == {"http://hive.localhost/reset/"}
