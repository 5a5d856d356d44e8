"""Repository URLs never lead the workers into our own network (red-team finding: SSRF through
augmentation repository URLs — ``https://169.254.169.254/latest/``, ``https://127.0.0.1:5432/``,
a host name resolving to a private address were all accepted).

Name resolution is replaced by a table here (the test machine has no DNS of its own to rely on);
everything else — the parse, the check before each command, git itself — is the real code.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents import remote_addresses
from agents.hostgit import git_run
from agents.remote_addresses import REFUSED
from agents.remotes import RemoteError, remote_branches, remote_parse
from tenants.secrets import Revealed

TOKEN = Revealed("ghp_TopSecretToken0123456789abcdefXYZ")
PUBLIC = "93.184.216.34"

PRIVATE_URLS = [
    "https://169.254.169.254/latest/meta-data.git",
    "https://127.0.0.1:5432/x.git",
    "https://localhost:5432/x.git",
    "https://LOCALHOST/x.git",
    "https://db.localhost/x.git",
    "https://[::1]/x.git",
    "https://[::ffff:127.0.0.1]/x.git",
    "https://10.0.0.5/team/app.git",
    "https://172.16.3.4/team/app.git",
    "https://192.168.1.1/team/app.git",
    "https://100.64.0.1/team/app.git",  # shared (carrier-grade NAT)
    "https://0.0.0.0/x.git",
    "https://224.0.0.1/x.git",
    "https://240.0.0.1/x.git",
    "https://2130706433/x.git",  # 127.0.0.1 in decimal
    "https://0177.0.0.1/x.git",  # ...in octal
    "https://0x7f.1/x.git",  # ...in hex, short form
    "https://127.1/x.git",
    "ssh://git@10.0.0.5/team/app.git",
    "git@127.0.0.1:team/app.git",
    "git@localhost:team/app.git",
    "https://internal.example.com/team/app.git",  # resolves to 10.1.2.3
    "https://mixed.example.com/team/app.git",  # one public and one private address
    "ssh://git@internal.example.com:2222/team/app.git",
]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {
        "github.com": [PUBLIC],
        "internal.example.com": ["10.1.2.3"],
        "mixed.example.com": [PUBLIC, "fd00::1"],
    }
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in table:
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
            except OSError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            return real(host, port, *args, **kwargs)
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [(family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, int(port or 0))) for a in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_a_private_local_or_reserved_address_is_refused_when_entered(dns: dict[str, list[str]], url: str) -> None:
    with pytest.raises(RemoteError) as refused:
        remote_parse(url)
    assert str(refused.value) == REFUSED or "valid host" in str(refused.value)


@pytest.mark.parametrize("url", ["https://127.0.0.1:5432/x.git", "https://2130706433/x.git", "https://[::1]/x.git"])
def test_the_refusal_says_why(dns: dict[str, list[str]], url: str) -> None:
    with pytest.raises(RemoteError, match="private, local or reserved network"):
        remote_parse(url)


def test_public_remotes_are_accepted(dns: dict[str, list[str]]) -> None:
    assert remote_parse("https://github.com/team/app.git").url == "https://github.com/team/app.git"
    assert remote_parse(f"https://{PUBLIC}/team/app.git").scheme == "https"
    assert remote_parse("git@github.com:team/app.git").url == "ssh://git@github.com/team/app.git"
    # A name that does not resolve now is not refused on the form (checked again before git runs).
    assert remote_parse("https://git.unknown.example/team/app.git").scheme == "https"


def test_the_setting_allows_private_remotes_for_tests_and_local_installs(
    dns: dict[str, list[str]], settings: Any
) -> None:
    settings.HIVE_GIT_ALLOW_PRIVATE_REMOTES = True
    assert remote_parse("https://127.0.0.1:5432/x.git").url == "https://127.0.0.1:5432/x.git"
    assert remote_parse("https://internal.example.com/team/app.git").scheme == "https"


def test_the_default_is_off(settings: Any) -> None:
    assert settings.HIVE_GIT_ALLOW_PRIVATE_REMOTES is False


@pytest.fixture
def git_dir(tmp_path: Path) -> Path:
    path = tmp_path / "probe.git"
    path.mkdir()
    git_run("init", "-q", "--bare", "--template=", git_dir=path)
    return path


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP port on loopback that records the first bytes of every connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                peer, _ = server.accept()
            except TimeoutError:
                continue
            with peer:
                peer.settimeout(5)
                try:
                    seen.append(peer.recv(16) or b"(connected)")
                except OSError:
                    seen.append(b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_a_name_that_rebinds_to_a_private_address_is_refused_before_git_connects(
    dns: dict[str, list[str]], git_dir: Path, listener: tuple[int, list[bytes]]
) -> None:
    port, seen = listener
    dns["rebind.example.com"] = [PUBLIC]
    remote = remote_parse(f"https://rebind.example.com:{port}/team/app.git")  # public when entered
    dns["rebind.example.com"] = ["127.0.0.1"]  # ...and our own machine when the worker connects
    with pytest.raises(RemoteError, match="private, local or reserved network"):
        remote_branches(remote, TOKEN, git_dir=git_dir)
    dns["rebind.example.com"] = [PUBLIC, "127.0.0.1"]
    with pytest.raises(RemoteError, match="private, local or reserved network"):
        remote_branches(remote, TOKEN, git_dir=git_dir)
    del dns["rebind.example.com"]
    with pytest.raises(RemoteError, match="could not be resolved"):
        remote_branches(remote, TOKEN, git_dir=git_dir)
    assert seen == []  # git never connected


def test_git_connects_to_the_checked_address_not_to_a_new_answer(
    dns: dict[str, list[str]], git_dir: Path, listener: tuple[int, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The address checked is the one git uses: curl is pinned to it (``http.curloptResolve``).

    The pinned address is our loopback listener (the check is told to pass it); the name itself
    does not resolve for git at all, so a connection can only come from the pin."""
    port, seen = listener
    dns["pinned.example.com"] = ["127.0.0.1"]
    monkeypatch.setattr(remote_addresses, "is_public", lambda address: True)
    remote = remote_parse(f"https://pinned.example.com:{port}/team/app.git")
    with pytest.raises(RemoteError) as failed:
        remote_branches(remote, TOKEN, git_dir=git_dir)
    assert TOKEN.value not in str(failed.value)
    assert seen and seen[0][:1] == b"\x16"  # a TLS ClientHello reached the checked address
