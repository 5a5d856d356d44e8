"""Owners invite teammates by email with a signed, expiring, single-use link; they change roles and
remove members, and a customer always keeps an owner."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.core import mail
from django.test import Client

from tenants import services
from tenants.models import Membership, Role, User
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(world: World, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Invite an email to alpha as its owner; return the link's path from the email sent."""

    def send(email: str, role: str = "member") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = world.client("alpha_owner", on="alpha").post("/members/", {"email": email, "role": role})
        assert response.status_code == 302, response.content
        message = mail.outbox[-1]
        assert message.to == [email]
        assert "Alpha Industries" in message.subject
        match = re.search(r"http://hive\.localhost/invitations/[^/\s]+/", str(message.body))
        assert match, message.body
        return match.group(0).removeprefix("http://hive.localhost")

    return send


def test_a_new_person_accepts_an_invitation_and_lands_in_the_portal(world: World, invite) -> None:
    path = invite("newbie@example.test", "viewer")
    client = world.client()

    response = client.post(path, {"full_name": "New Bie", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "http://alpha.hive.localhost/"
    membership = Membership.objects.get(user__email="newbie@example.test")
    assert (membership.customer.schema_name, membership.role) == ("alpha", Role.VIEWER)
    assert client.get("/", HTTP_HOST="alpha.hive.localhost").status_code == 200


def test_an_invitation_link_works_only_once(world: World, invite) -> None:
    path = invite("once@example.test")
    world.client().post(path, {"password": PASSWORD})

    second = world.client().get(path)

    assert second.status_code == 410
    assert b"already been used" in second.content
    assert Membership.objects.filter(user__email="once@example.test").count() == 1


def test_an_expired_invitation_is_refused(world: World, monkeypatch: pytest.MonkeyPatch, settings, invite) -> None:  # type: ignore[no-untyped-def]
    path = invite("late@example.test")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + settings.INVITATION_MAX_AGE + 60)

    response = world.client().post(path, {"password": PASSWORD})

    assert response.status_code == 410
    assert b"expired" in response.content
    assert not User.objects.filter(email="late@example.test").exists()


def test_a_tampered_invitation_is_refused(world: World, invite) -> None:
    path = invite("tamper@example.test")
    response = world.client().get(path.replace("/invitations/", "/invitations/x"))
    assert response.status_code == 410
    assert b"not valid" in response.content


def test_an_existing_user_logs_in_then_joins(world: World, invite) -> None:
    path = invite("beta-member@example.test", "member")

    anonymous = world.client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/?next=/invitations/")

    wrong = world.client("outsider").post(path)
    assert wrong.status_code == 403
    assert not Membership.objects.filter(user__email="outsider@example.test").exists()

    joined = world.client("beta_member").post(path)
    assert joined.status_code == 302
    assert Membership.objects.filter(user=world.users["beta_member"], customer=world.customers["alpha"]).exists()


def test_an_owner_changes_a_role_and_removes_a_member(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    member = Membership.objects.get(user=world.users["alpha_member"], customer=world.customers["alpha"])

    assert owner.post(f"/members/{member.pk}/role/", {"role": "viewer"}).status_code == 302
    member.refresh_from_db()
    assert member.role == Role.VIEWER

    assert owner.post(f"/members/{member.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert world.client("alpha_member", on="alpha").get("/").status_code == 404


def test_the_last_owner_cannot_be_demoted_or_removed(world: World) -> None:
    owner_client = world.client("alpha_owner", on="alpha")
    owner = Membership.objects.get(user=world.users["alpha_owner"], customer=world.customers["alpha"])

    response = owner_client.post(f"/members/{owner.pk}/role/", {"role": "member"}, follow=True)
    assert b"must keep at least one owner" in response.content
    owner_client.post(f"/members/{owner.pk}/remove/")
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_inviting_someone_already_in_the_team_says_so(world: World) -> None:
    response = world.client("alpha_owner", on="alpha").post(
        "/members/", {"email": "alpha-viewer@example.test", "role": "member"}
    )
    assert response.status_code == 400
    assert b"already a member" in response.content
    assert mail.outbox == []


def _accept_at_once(url: str, sessionid: str, data: dict[str, str], *, n: int = 4) -> list[requests.Response]:
    """Open the invitation in ``n`` browsers, then submit from all of them at the same moment.

    Cookies are sent by hand: the portal scopes them to ``.hive.localhost``, which a cookie jar
    talking to the loopback address would drop."""
    host = {"Host": "hive.localhost"}
    forms = []
    for _ in range(n):
        cookie = f"sessionid={sessionid}" if sessionid else ""
        page = requests.get(url, headers={**host, "Cookie": cookie}, timeout=30)
        assert page.status_code == 200, page.text[:500]
        csrf_cookie = re.search(r"csrftoken=([^;]+)", page.headers["Set-Cookie"]).group(1)  # type: ignore[union-attr]
        csrf_field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        forms.append((f"{cookie}; csrftoken={csrf_cookie}", csrf_field))
    barrier = threading.Barrier(n)

    def submit(form: tuple[str, str]) -> requests.Response:
        cookie, token = form
        barrier.wait()
        return requests.post(
            url,
            data={**data, "csrfmiddlewaretoken": token},
            headers={**host, "Cookie": cookie},
            allow_redirects=False,
            timeout=60,
        )

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(submit, forms))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["a new person", "a signed-in member of another company"])
def test_four_simultaneous_accepts_make_one_membership_and_three_clear_410s(
    world: World, live_server: Any, who: str
) -> None:
    email = "race@example.test" if who == "a new person" else "beta-viewer@example.test"
    invitation = services.invitation_send(
        customer=world.customers["alpha"],
        email=email,
        role=Role.MEMBER,
        invited_by=world.users["alpha_owner"],
        accept_url_base="http://hive.localhost/invitations/",
    )
    url = f"{live_server.url}/invitations/{services.invitation_token(invitation)}/".replace("localhost", "127.0.0.1")
    sessionid = ""
    if who != "a new person":
        signed_in = Client()
        signed_in.force_login(world.users["beta_viewer"])
        sessionid = signed_in.cookies["sessionid"].value

    responses = _accept_at_once(url, sessionid, {"full_name": "Race", "password": PASSWORD})

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [302, 410, 410, 410], [r.text[:300] for r in responses]
    for response in responses:
        if response.status_code == 410:
            assert "already been used" in response.text
    assert Membership.objects.filter(user__email=email, customer=world.customers["alpha"]).count() == 1
    assert User.objects.filter(email=email).count() == 1
