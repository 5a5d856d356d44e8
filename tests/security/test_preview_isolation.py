"""Previews are walled off: one project's sandbox cannot reach another project's preview (its
socket, its directory, its port), and on the preview origin only members of the project's
customer (and audited staff) get past the gateway; anonymous visitors and other tenants' members
get a 404. The portal's cookies never reach a preview, and the gateway's limits hold.

The portal and its gateway run as they do in production: the ASGI application under uvicorn
(tests/browser/asgi_server.py), spoken to over real HTTP with the preview's Host header."""

from __future__ import annotations

import http.client
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.http.response import HttpResponseBase
from django_tenants.utils import schema_context

from agents.previews import Preview, preview_request, preview_stop
from agents.tools.sandbox import namespaces_available, sandbox_run
from projects.delivery.previews import COOKIE_NAME, preview_host
from projects.models import Project, Service
from tenants.models import Membership, StaffEntry
from tests.browser.asgi_server import AsgiServer
from tests.preview_apps import echo_preview_start
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

needs_namespaces = pytest.mark.skipif(
    not namespaces_available(), reason="this machine does not allow unprivileged user namespaces"
)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass
class Previews:
    world: World
    server: AsgiServer
    projects: dict[str, Project] = field(default_factory=dict)
    running: dict[str, tuple[Path, Preview]] = field(default_factory=dict)

    def host(self, slug: str) -> str:
        return preview_host(slug, self.projects[slug].pk)

    def fetch(
        self,
        slug: str,
        path: str = "/",
        *,
        cookie: str = "",
        method: str = "GET",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        host: str | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            sent = {"Host": f"{host or self.host(slug)}:{self.server.port}", **(headers or {})}
            if cookie:
                sent["Cookie"] = cookie
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            return Answer(response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    def link(self, user: str, slug: str, *, on: str | None = None) -> HttpResponseBase:
        """What the portal answers ``user`` who opens ``slug``'s preview from the project page."""
        return self.world.client(user, on=on or slug).get(f"/projects/{self.projects[slug].pk}/preview/")

    def token_url(self, user: str, slug: str) -> str:
        response = self.link(user, slug)
        assert response.status_code == 302, response.status_code
        return str(response["Location"])

    def enter(self, user: str, slug: str) -> str:
        """Follow the portal's link as ``user``: the preview cookie it ends with ("name=value")."""
        location = urlsplit(self.token_url(user, slug))
        assert location.hostname == self.host(slug) and location.path == "/__hive__/enter"
        answer = self.fetch(slug, f"{location.path}?{location.query}")
        assert answer.status == 303 and answer.header("Location") == ["/"]
        (cookie,) = answer.header("Set-Cookie")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Domain" not in cookie
        return cookie.split(";", 1)[0]


@pytest.fixture
def previews(world: World, settings: Any, tmp_path: Path) -> Iterator[Previews]:
    settings.HIVE_STORAGE_ROOT = tmp_path
    server = AsgiServer().start()
    state = Previews(world, server)
    try:
        for slug in ("alpha", "beta"):
            with schema_context(slug):
                project = Project.objects.create(
                    name=f"{slug} shop", service=Service.MVP, status=Project.Status.IN_DELIVERY
                )
            state.projects[slug] = project
            state.running[slug] = echo_preview_start(tmp_path, slug, project.pk)
        yield state
    finally:
        server.stop()
        for slug, (home, _preview) in state.running.items():
            preview_stop(home)
            with schema_context(slug):
                Project.objects.filter(pk=state.projects[slug].pk).delete()


_REACH = """
import json, os, socket, sys
target = json.loads(sys.argv[1])
found = {}
client = socket.socket(socket.AF_UNIX)
try:
    client.connect(target["unix"]); found["unix"] = "connected"
except OSError as error:
    found["unix"] = "refused: %s" % error
try:
    found["dir"] = sorted(os.listdir(target["dir"]))
except OSError as error:
    found["dir"] = "refused: %s" % error
try:
    socket.create_connection(("127.0.0.1", target["port"]), timeout=2).close(); found["port"] = "connected"
except OSError as error:
    found["port"] = "refused: %s" % error
print(json.dumps(found))
"""


@needs_namespaces
def test_one_projects_sandbox_cannot_reach_another_projects_preview(previews: Previews, tmp_path: Path) -> None:
    _home, alpha = previews.running["alpha"]
    _beta_home, beta = previews.running["beta"]
    socket_dir = Path(alpha.socket_dir)
    target = {"unix": str(socket_dir / "app.sock"), "dir": str(socket_dir), "port": alpha.port}
    # The platform itself reaches alpha's preview through that socket: the refusals below are the walls.
    assert preview_request(alpha, "/")[0] == 200
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700 and socket_dir.stat().st_uid == os.getuid()
    assert not socket_dir.is_relative_to(alpha.directory)

    # Code run for beta's project (its tests, say) in beta's tree.
    tree = tmp_path / "beta" / "projects" / str(previews.projects["beta"].pk) / "workspace"
    tree.mkdir(parents=True)
    (tree / "reach.py").write_text(_REACH)
    run = sandbox_run([sys.executable, "reach.py", json.dumps(target)], cwd=tree)
    assert run.exit_code == 0, run.output
    found = json.loads(run.output.strip().splitlines()[-1])
    assert found["unix"].startswith("refused"), found
    assert found["dir"] != ["app.sock"] and str(found["dir"]).startswith("refused"), found
    assert found["port"].startswith("refused"), found

    # Beta's running preview, probing from inside its own sandbox.
    status, body = preview_request(beta, f"/probe?unix={target['unix']}&dir={target['dir']}&port={alpha.port}")
    probed = json.loads(body)
    assert status == 200
    assert probed["unix"].startswith("refused") and str(probed["dir"]).startswith("refused"), probed
    assert probed["port"].startswith("refused"), probed


def test_anonymous_visitors_and_other_tenants_members_get_404(previews: Previews) -> None:
    # Nobody without the preview's cookie gets anything, whatever the path.
    for path in ("/", "/health", "/probe?port=1", "/__hive__/enter", "/__hive__/enter?token=forged"):
        assert previews.fetch("alpha", path).status == 404, path
    assert previews.fetch("alpha", "/", cookie=f"{COOKIE_NAME}=forged").status == 404
    # A host that names no preview is a 404 too, never the portal.
    assert previews.fetch("alpha", "/", host=f"nothing.{django_settings.HIVE_PREVIEW_DOMAIN}").status == 404
    assert previews.fetch("alpha", "/", host=django_settings.HIVE_PREVIEW_DOMAIN).status == 404

    # Another tenant's member and an outsider cannot get a link from alpha's portal.
    assert previews.link("beta_owner", "alpha").status_code == 404
    assert previews.link("outsider", "alpha").status_code == 404
    # Beta's owner, admitted to beta's preview, is not admitted to alpha's with that cookie or token.
    beta_cookie = previews.enter("beta_owner", "beta")
    assert previews.fetch("beta", "/", cookie=beta_cookie).status == 200
    assert previews.fetch("alpha", "/", cookie=beta_cookie).status == 404
    beta_token = urlsplit(previews.token_url("beta_owner", "beta"))
    assert previews.fetch("alpha", f"{beta_token.path}?{beta_token.query}").status == 404

    # Alpha's members (a viewer too) are admitted; the token works once only.
    token = urlsplit(previews.token_url("alpha_viewer", "alpha"))
    entered = previews.fetch("alpha", f"{token.path}?{token.query}")
    assert entered.status == 303
    assert previews.fetch("alpha", f"{token.path}?{token.query}").status == 404
    viewer_cookie = entered.header("Set-Cookie")[0].split(";", 1)[0]
    answer = previews.fetch("alpha", "/hello?x=1", cookie=viewer_cookie)
    assert answer.status == 200 and answer.json()["path"] == "/hello?x=1"


def test_a_member_who_leaves_loses_the_preview_at_once(previews: Previews) -> None:
    cookie = previews.enter("alpha_member", "alpha")
    assert previews.fetch("alpha", "/", cookie=cookie).status == 200
    Membership.objects.filter(user=previews.world.users["alpha_member"]).delete()
    assert previews.fetch("alpha", "/", cookie=cookie).status == 404


def test_staff_are_admitted_and_audited(previews: Previews) -> None:
    before = StaffEntry.objects.filter(user=previews.world.users["staff"]).count()
    cookie = previews.enter("staff", "alpha")
    assert previews.fetch("alpha", "/", cookie=cookie).status == 200
    entries = StaffEntry.objects.filter(user=previews.world.users["staff"], path__startswith="preview of project")
    assert StaffEntry.objects.filter(user=previews.world.users["staff"]).count() > before
    assert entries.filter(customer=previews.world.customers["alpha"]).count() == 1


def test_a_stopped_preview_says_so_to_members_only(previews: Previews) -> None:
    cookie = previews.enter("alpha_owner", "alpha")
    preview_stop(previews.running["alpha"][0])
    assert previews.fetch("alpha", "/", cookie=cookie).status == 503
    assert previews.fetch("alpha", "/").status == 404
    response = previews.link("alpha_owner", "alpha")  # the portal sends the owner back to the project page
    assert response.status_code == 302 and response["Location"] == f"/projects/{previews.projects['alpha'].pk}/"


def test_the_portals_cookies_and_hop_by_hop_headers_never_reach_the_preview(previews: Previews) -> None:
    cookie = previews.enter("alpha_owner", "alpha")
    sent = f"sessionid=portal-session; csrftoken=portal-csrf; {cookie}; app=1; {COOKIE_NAME}=planted-by-another-preview"
    headers = {
        "Connection": "keep-alive, X-Private-Hop",
        "X-Private-Hop": "1",
        "Proxy-Authorization": "Basic eDp5",
        "Upgrade": "h2c",
        "TE": "trailers",
        "X-Forwarded-For": "203.0.113.9",
        "X-Custom": "kept",
    }
    echoed = previews.fetch("alpha", "/", cookie=sent, headers=headers).json()
    assert echoed["cookie"] == "app=1"
    assert "x-custom" in echoed["headers"]
    for hop in ("x-private-hop", "proxy-authorization", "upgrade", "te"):
        assert hop not in echoed["headers"], hop
    # The admission cookie cannot be replaced by the preview's own answer.
    answer = previews.fetch("alpha", "/set-cookie", cookie=cookie)
    assert answer.header("Set-Cookie") == ["app=kept; Path=/"]


def test_the_gateways_limits_hold(previews: Previews, settings: Any) -> None:
    cookie = previews.enter("alpha_owner", "alpha")
    settings.HIVE_PREVIEW_MAX_BODY_BYTES = 4096
    assert previews.fetch("alpha", "/", cookie=cookie, method="POST", body=b"x" * 4096).json()["body_bytes"] == 4096
    assert previews.fetch("alpha", "/", cookie=cookie, method="POST", body=b"x" * 4097).status == 413

    settings.HIVE_PREVIEW_MAX_RESPONSE_BYTES = 1_000_000
    assert len(previews.fetch("alpha", "/big?bytes=1000000", cookie=cookie).body) == 1_000_000
    with pytest.raises(http.client.IncompleteRead):
        previews.fetch("alpha", "/big?bytes=3000000", cookie=cookie)

    settings.HIVE_PREVIEW_TIMEOUT_SECONDS = 0.5
    assert previews.fetch("alpha", "/slow?seconds=3", cookie=cookie).status == 502
    settings.HIVE_PREVIEW_TIMEOUT_SECONDS = 10
    assert previews.fetch("alpha", "/slow?seconds=0.1", cookie=cookie).status == 200


def test_preview_hosts_never_reach_the_portals_tenant_routing(previews: Previews) -> None:
    # Through WSGI (the test client), where no gateway stands in front: a 404, not a portal.
    client = previews.world.client("alpha_owner")
    assert client.get("/", HTTP_HOST=previews.host("alpha")).status_code == 404


def test_requests_through_the_gateway_keep_the_preview_from_the_idle_stop(previews: Previews) -> None:
    home, _preview = previews.running["alpha"]
    os.utime(home / "activity", (1_000_000_000, 1_000_000_000))
    cookie = previews.enter("alpha_owner", "alpha")
    assert (home / "activity").stat().st_mtime == 1_000_000_000  # entering is not using
    assert previews.fetch("alpha", "/", cookie=cookie).status == 200
    assert (home / "activity").stat().st_mtime > 1_000_000_000


def test_a_preview_cannot_set_a_cookie_for_a_parent_domain() -> None:
    from projects.delivery.preview_gateway import _host_only

    assert _host_only(b"a=1; Domain=.localhost; Path=/; HttpOnly") == b"a=1; Path=/; HttpOnly"
    assert _host_only(b"b=2; domain=example.com") == b"b=2"
    assert _host_only(b"c=3; Path=/") == b"c=3; Path=/"
