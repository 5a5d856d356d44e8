"""A customer's git repository as a remote: which URLs are accepted, how the platform fetches from
and pushes to it with the customer's credential, and the team's velocity read from its history.

**URLs are hostile.** A remote URL picks the program git runs: ``ext::sh -c …`` runs a shell,
``fd::`` reads a descriptor, a host starting with ``-`` becomes an option of ``ssh``, a local path
reads the platform's own disk. ``remote_parse`` accepts only ``https://host/path``,
``ssh://[user@]host[:port]/path`` (and its short form ``user@host:path``) and — only when the
setting ``HIVE_GIT_ALLOW_FILE_REMOTES`` is on (tests, local installs) — ``file:///absolute/path``;
never a ``transport::address`` form, credentials inside the URL, a query, options in disguise, or
control characters. Every transport git runs stays forbidden (``agents.hostgit``) except the one
scheme of the URL being used.

**Credentials never travel in a URL or an argument.** A token becomes an HTTP header through
git's environment-only configuration (``GIT_CONFIG_COUNT``), a private key a file in a private
temporary directory named in ``GIT_SSH_COMMAND``; both vanish when the command ends, and git's
messages are scrubbed of the secret before anyone sees them.

**Velocity before the engagement** (``history_velocity``): the changes that landed on the default
branch per week — the commits of its first-parent line (a merged pull request is one merge commit
there; a squash or rebase merge one commit) — over the last ``weeks`` whole weeks before the
engagement started, or since the first commit when the history is shorter. Fewer than one week of
history is no baseline (unknown, never a guess).

No maintained library does this: GitPython and dulwich would run the same git or reimplement
transports; the rules here are a few lines on top of ``agents.hostgit``.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from agents import remote_addresses
from agents.hostgit import GitError, git_remote_run, git_run
from tenants.secrets import Revealed

MAX_URL_CHARS = 500
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SCP = re.compile(r"^(?P<user>[^@/:]+)@(?P<host>[^@/:]+):(?P<path>[^/].*|/.*)$")
_PATH_PART = re.compile(r"^[A-Za-z0-9._~+@-]*$")
REMOTE_NAME = "customer"
DEFAULT_PORTS = {"https": 443, "ssh": 22}


class RemoteError(Exception):
    """The URL or the remote operation is refused or failed; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Remote:
    """A checked remote: its URL (normalised, no credentials) and the one transport it uses."""

    url: str
    scheme: str  # "https", "ssh" or "file"

    @property
    def needs_credential(self) -> bool:
        return self.scheme != "file"


def _check_path(path: str) -> None:
    parts = [part for part in path.split("/") if part]
    if not parts:
        raise RemoteError("The URL names no repository path.")
    for part in parts:
        if part.startswith("-") or not _PATH_PART.match(part) or part in {".", ".."}:
            raise RemoteError(f"The repository path part {part[:40]!r} is not accepted.")


def _check_host(host: str) -> None:
    if not host or host.startswith("-") or not _HOST.match(host):
        raise RemoteError("The URL names no valid host name.")


def _check_address(host: str, port: int) -> None:
    try:
        remote_addresses.check_host(host, port)
    except remote_addresses.AddressRefused as refused:
        raise RemoteError(str(refused)) from None


def remote_parse(raw: str) -> Remote:
    """The remote ``raw`` names, or RemoteError saying why it is refused."""
    url = raw.strip()
    if not url:
        raise RemoteError("Enter the repository's git URL.")
    if len(url) > MAX_URL_CHARS:
        raise RemoteError(f"A repository URL is at most {MAX_URL_CHARS} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise RemoteError("A repository URL has no spaces or control characters.")
    if url.startswith("-"):
        raise RemoteError("A repository URL does not start with '-'.")
    if "::" in url.split("/", 1)[0] or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*::", url):
        raise RemoteError("Remote helper URLs (ext::, fd::, …) are refused: use https://, ssh:// or git@host:path.")
    scp = _SCP.match(url) if "://" not in url else None
    if scp is not None:
        user, host, path = scp.group("user"), scp.group("host"), scp.group("path")
        if not _USER.match(user):
            raise RemoteError("The user name in the URL is not accepted.")
        _check_host(host)
        _check_address(host, 22)
        _check_path(path)
        return Remote(f"ssh://{user}@{host}/{path.lstrip('/')}", "ssh")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise RemoteError("A repository URL has no query or fragment.")
    if scheme == "http":
        raise RemoteError("Plain http:// sends your token unencrypted: use https://.")
    if scheme == "file":
        return _file_remote(parts.netloc, parts.path)
    if scheme not in {"https", "ssh"}:
        raise RemoteError("Only https://, ssh:// and git@host:path repository URLs are accepted.")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if scheme == "https" and userinfo:
        raise RemoteError("Put the access token in the token field, not in the URL.")
    if userinfo and (":" in userinfo or not _USER.match(userinfo)):
        raise RemoteError("The URL carries a password or an unusual user name: put credentials in their field.")
    if hostport.startswith("[") and "]" in hostport:  # an IPv6 literal: a private one is told why
        _check_address(hostport[: hostport.index("]") + 1], DEFAULT_PORTS[scheme])
    host, _, port = hostport.partition(":")
    _check_host(host)
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise RemoteError("The port in the URL is not a number between 1 and 65535.")
    _check_address(host, int(port) if port else DEFAULT_PORTS[scheme])
    _check_path(parts.path)
    return Remote(f"{scheme}://{parts.netloc}{parts.path}", scheme)


def _file_remote(netloc: str, path: str) -> Remote:
    if not settings.HIVE_GIT_ALLOW_FILE_REMOTES:
        raise RemoteError("file:// repositories are not accepted here: use https:// or ssh://.")
    if netloc or not path.startswith("/"):
        raise RemoteError("A file:// URL names an absolute path: file:///path/to/repository.git.")
    _check_path(path)
    return Remote(f"file://{path}", "file")


# --- transport ----------------------------------------------------------------------------------


def _pinned_address(remote: Remote) -> tuple[str, int, str] | None:
    """(host, port, checked address) git must connect to, right before the command runs (the
    name may resolve elsewhere than when the URL was entered); None for file:// or private
    remotes allowed by the setting."""
    if remote.scheme == "file":
        return None
    parts = urlsplit(remote.url)
    host, port = parts.hostname or "", parts.port or DEFAULT_PORTS[remote.scheme]
    try:
        address = remote_addresses.resolve_public(host, port)
    except remote_addresses.AddressRefused as refused:
        raise RemoteError(str(refused)) from None
    return None if address is None else (host, port, str(address))


@contextmanager
def _transport(remote: Remote, secret: Revealed | None) -> Iterator[dict[str, str]]:
    """The environment that gives git the credential for one command, and nothing else; git
    connects to the address checked now (``agents.remote_addresses``)."""
    if remote.needs_credential and (secret is None or not secret.value):
        raise RemoteError("The repository has no credential stored: connect it again with a key or token.")
    pinned = _pinned_address(remote)
    with tempfile.TemporaryDirectory(prefix="hive-remote-") as private:
        os.chmod(private, 0o700)
        env: dict[str, str] = {}
        if remote.scheme == "https" and secret is not None:
            basic = base64.b64encode(f"x-access-token:{secret.value.strip()}".encode()).decode()
            env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader"}
            env["GIT_CONFIG_VALUE_0"] = f"Authorization: Basic {basic}"
            if pinned is not None:
                host, port, address = pinned
                shown = f"[{address}]" if ":" in address else address
                env |= {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_1": "http.curloptResolve"}
                env["GIT_CONFIG_VALUE_1"] = f"{host}:{port}:{shown}"
        elif remote.scheme == "ssh" and secret is not None:
            key = Path(private) / "key"
            key.touch(mode=0o600)
            key.write_text(secret.value.strip() + "\n", encoding="utf-8")
            known = Path(private) / "known_hosts"
            options = (
                f"-F /dev/null -i {shlex.quote(str(key))} -o IdentitiesOnly=yes -o BatchMode=yes"
                f" -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={shlex.quote(str(known))}"
            )
            if pinned is not None:
                host, _, address = pinned
                options += f" -o HostName={shlex.quote(address)} -o HostKeyAlias={shlex.quote(host)}"
            env = {"GIT_SSH_COMMAND": f"ssh {options}"}
        yield env


def remote_git(remote: Remote, secret: Revealed | None, *args: str, git_dir: Path) -> str:
    """Run a git command that talks to ``remote`` (its URL among ``args``) with the credential."""
    try:
        with _transport(remote, secret) as env:
            return git_remote_run(
                *args,
                git_dir=git_dir,
                scheme=remote.scheme,
                environment=env,
                timeout=float(settings.HIVE_GIT_REMOTE_TIMEOUT_SECONDS),
            )
    except GitError as error:
        message = str(error)
        if secret is not None and secret.value:
            for piece in {secret.value, secret.value.strip()}:
                message = message.replace(piece, "[secret]")
        raise RemoteError(message[:500]) from None


def remote_fetch_default(remote: Remote, secret: Revealed | None, *, git_dir: Path, ref: str) -> str:
    """Fetch the remote's default branch (its HEAD) into ``ref``; returns the commit."""
    args = ("fetch", "-q", "--no-tags", "--no-write-fetch-head", remote.url, f"+HEAD:{ref}")
    remote_git(remote, secret, *args, git_dir=git_dir)
    return git_run("rev-parse", ref, git_dir=git_dir).strip()


def remote_push(remote: Remote, secret: Revealed | None, *, git_dir: Path, branch: str, dry_run: bool = False) -> None:
    """Push ``branch`` to the remote under the same name (never forced: the team's work is kept)."""
    args = ["push", "-q", "--porcelain", *(["--dry-run"] if dry_run else []), remote.url]
    remote_git(remote, secret, *args, f"refs/heads/{branch}:refs/heads/{branch}", git_dir=git_dir)


def remote_branches(remote: Remote, secret: Revealed | None, *, git_dir: Path, prefix: str = "") -> dict[str, str]:
    """The remote's branches (name → commit), as the remote says now."""
    out = remote_git(remote, secret, "ls-remote", "--heads", remote.url, git_dir=git_dir)
    heads: dict[str, str] = {}
    for line in out.splitlines():
        commit, _, name = line.partition("\t")
        name = name.removeprefix("refs/heads/")
        if name.startswith(prefix):
            heads[name] = commit
    return heads


# --- velocity -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Velocity:
    """Changes landed per week before the engagement, with how it was measured."""

    per_week: Decimal | None
    changes: int
    weeks: Decimal
    start: datetime | None
    end: datetime
    method: str


def history_velocity(*, git_dir: Path, ref: str, before: datetime, weeks: int = 12) -> Velocity:
    """The velocity of ``ref``'s history before ``before`` (see the module docstring)."""
    out = git_run("log", "--first-parent", "--format=%ct", ref, git_dir=git_dir)
    times = sorted(datetime.fromtimestamp(int(line), tz=before.tzinfo) for line in out.split() if line.isdigit())
    times = [t for t in times if t <= before]
    window_start = before - timedelta(weeks=weeks)
    first = times[0] if times else None
    start = max(window_start, first) if first is not None else None
    span = Decimal((before - start).total_seconds()) / Decimal(7 * 86400) if start is not None else Decimal(0)
    span = span.quantize(Decimal("0.1"))
    counted = [t for t in times if start is not None and t >= start]
    described = (
        f"commits on the default branch's first-parent line (one per merged change) from "
        f"{start:%Y-%m-%d} to {before:%Y-%m-%d}"
        if start is not None
        else "no commit before the engagement"
    )
    if start is None or span < 1:
        method = f"{described}: less than one week of history, so no baseline can be measured"
        return Velocity(None, len(counted), span, start, before, method)
    per_week = (Decimal(len(counted)) / span).quantize(Decimal("0.01"))
    method = f"{len(counted)} {described} over {span} weeks (at most the last {weeks} weeks)"
    return Velocity(per_week, len(counted), span, start, before, method)
