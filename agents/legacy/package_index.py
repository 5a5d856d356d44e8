"""The package index the operator configured (``HIVE_PACKAGE_INDEX_URL``), from the host only.

The sandbox that runs customer code has no network, on purpose; looking releases up and fetching
wheels happens here, on the worker, and only against that one index:

* ``releases``: the project's files from the simple API — PEP 691 JSON when the index offers it,
  PEP 503 HTML otherwise — with ``httpx``: a time-out per request, a cap on the response size
  (read streaming, the connection dropped past it), redirects followed only within the index's own
  scheme and host. Versions come from the wheel file names (``packaging.utils``); a release
  counts only with a wheel this interpreter can install (``packaging.tags``), not yanked and not
  a pre-release;
* ``choose``: the newest such release **within the pin's major version** whose ``Requires-Python``
  admits the target Python. A newer major is only recommended, never applied (a major version is
  the maintainer's word that the API changed); it is marked as required when the current major
  has no release for the target Python;
* ``download``: ``pip download --only-binary=:all: --no-deps`` of exactly ``name==version`` from the
  index into a per-run wheelhouse, ``--isolated`` (no pip configuration, no other index), with a
  time-out. Only wheels: no customer build code runs on the host.
"""

from __future__ import annotations

import html.parser
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import sys_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from agents.tools.process import PYTHON, clean_environment

TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 3
DOWNLOAD_TIMEOUT_SECONDS = 120
_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"


class IndexUnreachable(Exception):
    """The index did not answer (connection, time-out, server error, a redirect off its host)."""


class NotOnIndex(Exception):
    """The index answered, but has no such project (or an answer that cannot be read)."""


@dataclass(frozen=True)
class Release:
    version: Version
    requires_python: SpecifierSet | None


@dataclass(frozen=True)
class Choice:
    chosen: Version | None  # newest release of the same major admitting the target Python
    newest: Version | None  # newest release of any major admitting the target Python
    major_required: bool  # the current major has no release for the target Python


def public_url(url: str) -> str:
    """The index URL as shown to customers: without any user or token in it."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _fetch(client: httpx.Client, url: str) -> httpx.Response:
    start = urlsplit(url)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with client.stream("GET", url, headers={"Accept": _ACCEPT}) as response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("location", ""))
                    if urlsplit(target)[:2] != start[:2]:
                        raise IndexUnreachable(f"a redirect off the index host to {target[:120]}")
                    url = target
                    continue
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise NotOnIndex(f"an answer over {MAX_RESPONSE_BYTES:,} bytes")
                return httpx.Response(response.status_code, headers=response.headers, content=bytes(body))
        except httpx.HTTPError as exc:
            raise IndexUnreachable(f"{type(exc).__name__}: {str(exc)[:160]}") from exc
    raise IndexUnreachable(f"more than {MAX_REDIRECTS} redirects")


def releases(client: httpx.Client, index_url: str, name: str) -> list[Release]:
    """The installable releases of ``name`` on the index. Raises ``IndexUnreachable`` or ``NotOnIndex``."""
    response = _fetch(client, f"{index_url.rstrip('/')}/{canonicalize_name(name)}/")
    if response.status_code == 404:
        raise NotOnIndex("not on the index")
    if response.status_code >= 500:
        raise IndexUnreachable(f"HTTP {response.status_code}")
    if response.status_code != 200:
        raise NotOnIndex(f"HTTP {response.status_code}")
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    files = _json_files(response) if kind.endswith("+json") else _html_files(response.text)
    return _installable(files, canonicalize_name(name))


def _json_files(response: httpx.Response) -> list[dict[str, object]]:
    try:
        data = response.json()
    except ValueError as exc:
        raise NotOnIndex("an unreadable JSON answer") from exc
    files = data.get("files") if isinstance(data, dict) else None
    return [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: list[dict[str, object]] = []
        self._current: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            found = dict(attrs)
            self._current = {
                "filename": "",
                "requires-python": found.get("data-requires-python"),
                "yanked": "data-yanked" in found,
            }

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current["filename"] = str(self._current["filename"]) + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._current is not None:
            self.files.append(self._current)
            self._current = None


def _html_files(text: str) -> list[dict[str, object]]:
    parser = _Anchors()
    parser.feed(text)
    return parser.files


def _installable(files: list[dict[str, object]], name: str) -> list[Release]:
    tags = set(sys_tags())
    found: dict[Version, Release] = {}
    for entry in files:
        filename = str(entry.get("filename") or "").strip()
        if entry.get("yanked") or not filename.endswith(".whl"):
            continue
        try:
            project, version, _, wheel_tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, ValueError):
            continue
        if project != name or version.is_prerelease or version.is_devrelease or not wheel_tags & tags:
            continue
        found.setdefault(version, Release(version, _requires_python(entry.get("requires-python"))))
    return sorted(found.values(), key=lambda r: r.version)


def _requires_python(value: object) -> SpecifierSet | None:
    try:
        return SpecifierSet(str(value)) if value else None
    except InvalidSpecifier:
        return None


def choose(current: Version, available: list[Release], target_python: str) -> Choice:
    python = Version(target_python)
    fits = [r.version for r in available if r.requires_python is None or r.requires_python.contains(python)]
    same = [v for v in fits if v.major == current.major and v >= current]
    newest = max(fits, default=None)
    same_major_any = [r for r in available if r.version.major == current.major]
    return Choice(max(same, default=None), newest, bool(same_major_any) and not same and newest is not None)


def download(index_url: str, name: str, version: Version, wheelhouse: Path) -> str:
    """Fetch the wheel of ``name==version`` into ``wheelhouse``; "" or why it could not be fetched."""
    command = [
        PYTHON,
        "-m",
        "pip",
        "download",
        "--isolated",
        "--disable-pip-version-check",
        "--no-cache-dir",
        "--no-deps",
        "--only-binary=:all:",
        "--index-url",
        index_url,
        "--timeout",
        str(int(TIMEOUT_SECONDS)),
        "--retries",
        "0",
        "--progress-bar",
        "off",
        "--dest",
        str(wheelhouse),
        f"{canonicalize_name(name)}=={version}",
    ]
    try:
        done = subprocess.run(
            command,
            env=clean_environment(),
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"pip download took over {DOWNLOAD_TIMEOUT_SECONDS} s"
    if done.returncode != 0:
        return f"pip download failed: {(done.stderr or done.stdout).strip()[-200:]}"
    return ""
