"""The Content-Security-Policy (django-csp, hive/settings.py) is on every kind of page — public
site, login flow, every portal page, the staff admin and its custom pages, error pages — and no
page carries a script the policy would refuse: no inline ``<script>`` without the request's nonce
and no ``on*=`` handler attribute."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tenants import services
from tests.portal_pages import portal_paths
from tests.world import World

pytestmark = pytest.mark.django_db


class _Scripts(HTMLParser):
    """Inline scripts (with their nonce) and event-handler attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_nonces: list[str | None] = []
        self.handlers: list[str] = []
        self._in_script: dict[str, str | None] | None = None
        self._script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.handlers += [f"<{tag} {name}=…>" for name in names if name.startswith("on")]
        self.handlers += [
            f"<{tag} {name}=javascript:…>"
            for name, value in attrs
            if (value or "").strip().lower().startswith("javascript:")
        ]
        if tag == "script":
            self._in_script, self._script_text = names, ""

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._script_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            if "src" not in self._in_script or self._script_text.strip():
                self.inline_nonces.append(self._in_script.get("nonce"))
            self._in_script = None


def _policy(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _check(response) -> None:  # type: ignore[no-untyped-def]
    path = response.request["PATH_INFO"]
    policy = _policy(response)
    for directive in ("script-src", "default-src"):
        assert "'unsafe-inline'" not in policy.get(directive, []), path
        assert "'unsafe-eval'" not in policy.get(directive, []), path
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    parser = _Scripts()
    parser.feed(response.content.decode())
    assert parser.handlers == [], f"{path}: {parser.handlers}"
    allowed = {
        value.removeprefix("'nonce-").removesuffix("'") for value in policy["script-src"] if value.startswith("'nonce-")
    }
    for nonce in parser.inline_nonces:
        assert nonce is not None and nonce in allowed, f"{path}: an inline script without the request's nonce"


def test_every_portal_page_has_the_policy_and_no_inline_script(world: World) -> None:
    owner = world.client("alpha_owner", on="alpha")
    checked = 0
    for name, path in portal_paths(world, "alpha").items():
        response = owner.get(path)
        if response.status_code in (302, 405):  # a POST-only action: nothing rendered
            continue
        assert response.status_code < 500, (name, response.status_code)
        _check(response)
        checked += 1
    assert checked >= 15


def test_the_public_site_login_flow_and_invitation_pages_have_the_policy(world: World) -> None:
    invitation = services.invitation_send(
        customer=world.customers["alpha"],
        email="csp@example.test",
        role="member",  # type: ignore[arg-type]
        invited_by=world.users["alpha_owner"],
        accept_url_base="http://hive.localhost/invitations/",
    )
    anonymous = Client(HTTP_HOST="hive.localhost")
    paths = ["/", "/login/", "/signup/", "/password-reset/", "/password-reset/sent/", "/reset/x/y/", "/reset/done/"]
    paths += [f"/invitations/{services.invitation_token(invitation)}/", "/invitations/broken/", "/no-such-page/"]
    for path in paths:
        _check(anonymous.get(path))
    on_portal = Client(HTTP_HOST="alpha.hive.localhost")
    for path in ("/login/", "/password-reset/", "/healthz"):
        _check(on_portal.get(path))
    _check(Client(HTTP_HOST="nowhere.hive.localhost").get("/"))  # the unknown-portal 404


def test_the_staff_admin_and_its_pages_have_the_policy(world: World) -> None:
    with_project = portal_paths(world, "alpha")
    project_id = with_project["project_detail"].rstrip("/").rsplit("/", 1)[-1]
    staff = world.client("staff")
    paths = [
        "/admin/",
        "/admin/tenants/customer/",
        f"/admin/tenants/customer/{world.customers['alpha'].pk}/change/",
        "/admin/tenants/auditentry/",
        "/admin/tenants/user/add/",
        reverse("success_admin_operator", urlconf="hive.urls_public"),
        reverse("success_admin_escalations", urlconf="hive.urls_public"),
        reverse("success_admin_project", urlconf="hive.urls_public", args=["alpha", int(project_id)]),
    ]
    for path in paths:
        response = staff.get(path)
        assert response.status_code == 200, path
        _check(response)
