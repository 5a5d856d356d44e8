"""Raising a legacy code base's dependency pins (issue #18) against a package index served here,
from wheels this test writes itself: nothing leaves the machine.

The index is a thread ``http.server`` speaking PEP 691 JSON (or PEP 503 HTML); ``hivepin`` exists
in 1.0.0, 1.4.0 and 2.0.0, ``hivebreak`` in 1.0.0 and 1.5.0, whose ``double`` no longer doubles."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.version import Version
from pytest_django.fixtures import Settings as SettingsWrapper

from agents.legacy.package_index import Release, choose
from agents.legacy.pins import raise_pins
from agents.legacy.requirement_files import read_pins
from tests.agents.test_builtin_roles import Agent

PACKAGES = {
    "hivepin": {"1.0.0": "", "1.4.0": "", "2.0.0": ""},
    "hivebreak": {"1.0.0": "def double(x):\n    return x * 2\n", "1.5.0": "def double(x):\n    return x * 3\n"},
}


def write_wheel(folder: Path, name: str, version: str, body: str) -> Path:
    """A pure-Python wheel: the module, METADATA, WHEEL and a RECORD with every file's hash."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n{body}",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hive-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@dataclass
class Index:
    url: str
    requests: list[str] = field(default_factory=list)


def _handler(folder: Path, seen: list[str], *, json_api: bool) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            if parts[:1] == ["files"] and len(parts) == 2 and (folder / parts[1]).is_file():
                return self._send(200, "application/octet-stream", (folder / parts[1]).read_bytes())
            if parts[:1] != ["simple"] or len(parts) != 2 or parts[1] not in PACKAGES:
                return self._send(404, "text/plain", b"not found")
            wheels = sorted(folder.glob(f"{parts[1]}-*.whl"))
            digests = {w.name: hashlib.sha256(w.read_bytes()).hexdigest() for w in wheels}
            if json_api and "json" in self.headers.get("Accept", ""):
                files = [{"filename": n, "url": f"/files/{n}", "hashes": {"sha256": d}} for n, d in digests.items()]
                body = json.dumps({"meta": {"api-version": "1.0"}, "name": parts[1], "files": files})
                return self._send(200, "application/vnd.pypi.simple.v1+json", body.encode())
            anchors = "".join(f'<a href="/files/{n}#sha256={d}">{n}</a><br>' for n, d in digests.items())
            return self._send(200, "text/html", f"<html><body>{anchors}</body></html>".encode())

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def serve(folder: Path, *, json_api: bool = True) -> Iterator[Index]:
    seen: list[str] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(folder, seen, json_api=json_api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Index(f"http://127.0.0.1:{server.server_address[1]}/simple", seen)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name, versions in PACKAGES.items():
        for version, body in versions.items():
            write_wheel(folder, name, version, body)
    return folder


@pytest.fixture
def index(wheels: Path) -> Iterator[Index]:
    yield from serve(wheels)


LEGACY_CODE = "import hivebreak\nimport hivepin\n\n\ndef version():\n    return hivepin.__version__\n\n\n"
LEGACY_CODE += "def double(x):\n    return hivebreak.double(x)\n"
LEGACY_TESTS = """from pathlib import Path

import legacy_app


def test_double():
    assert legacy_app.double(21) == 42


def test_version_is_recorded():
    Path(__file__).with_name("seen.txt").write_text(legacy_app.version())
    assert legacy_app.version().startswith("1.")
"""


def legacy_tree(root: Path, requirements: str) -> Path:
    root.mkdir()
    (root / "legacy_app.py").write_text(LEGACY_CODE)
    (root / "tests").mkdir()
    (root / "tests" / "test_legacy_app.py").write_text(LEGACY_TESTS)
    (root / "requirements.txt").write_text(requirements)
    return root


def test_it_raises_a_pin_within_its_major_and_keeps_the_one_that_breaks_the_tests(tmp_path: Path, index: Index) -> None:
    tree = legacy_tree(
        tmp_path / "legacy",
        "# pins\nhivepin==1.0.0  # the greeting library\nhivebreak==1.0.0 ; python_version >= '3'\n",
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    report = raise_pins(tree, index_url=index.url, target_python="3.11", scratch=scratch)
    assert [r.line() for r in report.raised] == ["hivepin ==1.0.0 → ==1.4.0 (2 of 2 tests pass against 1.4.0)"]
    assert report.recommended == ["hivepin ==1.0.0 → 2.0.0 (a new major version may change the API; not applied)"]
    assert len(report.kept) == 1 and report.kept[0].startswith("hivebreak ==1.0.0 kept: 1.5.0 broke 1 tests")
    assert "test_double" in report.kept[0] and report.tests_ran
    assert (tree / "requirements.txt").read_text() == (
        "# pins\nhivepin==1.4.0  # the greeting library\nhivebreak==1.0.0 ; python_version >= '3'\n"
    )
    # The tests really ran in the sandbox against what was installed: the legacy code reported
    # hivepin's __version__ — 1.0.0 on the baseline run, 1.4.0 on the run that accepted the raise.
    seen = {p.parent.parent.parent.name: p.read_text() for p in scratch.glob("run-*/tree/tests/seen.txt")}
    assert seen["run-1"] == "1.0.0" and seen[f"run-{len(seen)}"] == "1.4.0"
    assert sorted(p.name for p in (scratch / "wheelhouse").iterdir()) == [
        "hivebreak-1.0.0-py3-none-any.whl",
        "hivebreak-1.5.0-py3-none-any.whl",
        "hivepin-1.0.0-py3-none-any.whl",
        "hivepin-1.4.0-py3-none-any.whl",
    ]
    assert report.to_dict()["raised"] == [
        {
            "name": "hivepin",
            "file": "requirements.txt",
            "before": "==1.0.0",
            "after": "==1.4.0",
            "tests": "2 of 2 tests pass against 1.4.0",
        }
    ]


def test_an_unreachable_index_raises_nothing_and_says_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tree = legacy_tree(tmp_path / "legacy", "hivepin==1.0.0\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    url = f"http://127.0.0.1:{port}/simple"
    # The operator's credentials in the index URL never reach the customer's pages.
    secret = f"http://hive:s3cret-token@127.0.0.1:{port}/simple"
    report = raise_pins(tree, index_url=secret, target_python="3.11", scratch=scratch)
    assert "s3cret" not in str(report.to_dict())
    assert report.raised == [] and not report.tests_ran
    assert report.cannot[0].startswith(f"dependency pins not checked: the package index {url} could not be reached (")
    assert (tree / "requirements.txt").read_text() == "hivepin==1.0.0\n"


def test_no_configured_index_is_said(tmp_path: Path) -> None:
    tree = legacy_tree(tmp_path / "legacy", "hivepin==1.0.0\n")
    report = raise_pins(tree, index_url="", target_python="3.11", scratch=tmp_path)
    assert report.cannot == ["dependency pins not checked: no package index is configured (HIVE_PACKAGE_INDEX_URL)"]


def test_pyproject_floors_are_read_from_the_html_index_and_raised(tmp_path: Path, wheels: Path) -> None:
    tree = tmp_path / "legacy"
    tree.mkdir()
    (tree / "legacy_app.py").write_text("import hivepin\n\n\ndef version():\n    return hivepin.__version__\n")
    (tree / "test_app.py").write_text("import legacy_app\n\n\ndef test_it():\n    assert legacy_app.version()\n")
    (tree / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = [\n  "hivepin[fast]>=1.0.0",\n  "requests",\n]\n'
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for html_index in serve(wheels, json_api=False):
        report = raise_pins(tree, index_url=html_index.url, target_python="3.11", scratch=scratch)
    assert [r.line() for r in report.raised] == ["hivepin >=1.0.0 → >=1.4.0 (1 of 1 tests pass against 1.4.0)"]
    assert '"hivepin[fast]>=1.4.0"' in (tree / "pyproject.toml").read_text()


def test_the_choice_stays_in_the_major_unless_the_target_python_needs_more() -> None:
    from packaging.specifiers import SpecifierSet

    old = SpecifierSet("<3.10")
    available = [Release(Version("1.0.0"), old), Release(Version("1.9.0"), old), Release(Version("2.1.0"), None)]
    choice = choose(Version("1.0.0"), available, "3.11")
    assert choice.chosen is None and choice.newest == Version("2.1.0") and choice.major_required
    choice = choose(Version("1.0.0"), available, "3.9")
    assert choice.chosen == Version("1.9.0") and not choice.major_required


def test_pins_are_read_with_comments_extras_and_markers(tmp_path: Path) -> None:
    (tmp_path / "requirements-dev.txt").write_text(
        "Django[argon2]==4.2.1 # web\nclick>=7\nattrs~=21.0\nsix\nfoo==1.*\nbar==2.0; sys_platform == 'nonexistent'\n"
        "hashed==1.0 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n"
    )
    found = read_pins(tmp_path)
    assert [(p.name, p.operator, str(p.version), p.line) for p in found.pins] == [
        ("django", "==", "4.2.1", 1),
        ("click", ">=", "7", 2),
    ]
    assert found.cannot == (
        "requirements-dev.txt:3: attrs~=21.0 (a range, not a pin (only == pins and >= floors are raised))",
        "requirements-dev.txt:5: foo==1.* (a range, not a pin (only == pins and >= floors are raised))",
        "requirements-dev.txt:6: bar==2.0; sys_platform == 'nonexistent' "
        "(its marker excludes the Python the tests run on: kept as it is)",
        "requirements-dev.txt:7: hashed==1.0 --hash=sha256:abc --hash=sha256:def "
        "(carries pip options (--hash …): kept, the new release's hashes are not written here)",
    )
    assert found.pins[0].raised(Version("4.2.9")) == "Django[argon2]==4.2.9"  # the name as the customer wrote it


def test_the_first_segment_raises_the_pins_and_its_page_lists_them(
    tmp_path: Path, index: Index, settings: SettingsWrapper
) -> None:
    settings.HIVE_PACKAGE_INDEX_URL = index.url
    legacy = legacy_tree(tmp_path / "legacy", "hivepin==1.0.0\nhivebreak==1.0.0\n-e git+https://example.invalid/x\n")
    agent = Agent(tmp_path / "project", project="Pinned")
    agent.run("legacy_analyst", "legacy_analysis", legacy_dir=str(legacy))
    outcome = agent.run("modernization_developer", "segment", item={"number": 1, "modules": ["legacy_app.py"]})
    data = outcome.data
    assert data["pins"]["raised"][0]["after"] == "==1.4.0" and data["pins"]["tests_ran"]
    assert {
        "module": "requirements.txt",
        "tools": ["dependency pins"],
        "rewrites": ["hivepin ==1.0.0 → ==1.4.0 (2 of 2 tests pass against 1.4.0)"],
    } in data["changes"]
    assert any(c.startswith("dependency pin kept: hivebreak ==1.0.0 kept: 1.5.0 broke 1 tests") for c in data["cannot"])
    assert any("-e git+https://example.invalid/x (a pip option" in c for c in data["cannot"])
    page = (agent.workspace / "docs/modernization/segments/01.md").read_text()
    assert "## Dependency pins" in page and "| hivepin | requirements.txt | \\==1.0.0 | \\==1.4.0 |" in page
    assert "hivepin ==1.0.0 → 2.0.0 (a new major version may change the API; not applied)" in page
    assert (agent.workspace / "requirements.txt").read_text().startswith("hivepin==1.4.0\nhivebreak==1.0.0\n")
    assert "1 dependency pins raised" in agent.log("-1", "--format=%s", "HEAD^2")
    second = agent.run("modernization_developer", "segment", item={"number": 2, "modules": []})
    assert second.data["pins"] is None  # the code base's pins are raised once


def test_a_segment_without_a_configured_index_says_the_pins_were_not_checked(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.HIVE_PACKAGE_INDEX_URL = ""
    legacy = legacy_tree(tmp_path / "legacy", "hivepin==1.0.0\n")
    agent = Agent(tmp_path / "project", project="Unpinned")
    agent.run("legacy_analyst", "legacy_analysis", legacy_dir=str(legacy))
    outcome = agent.run("modernization_developer", "segment", item={"number": 1, "modules": ["legacy_app.py"]})
    assert (
        "dependency pins not checked: no package index is configured (HIVE_PACKAGE_INDEX_URL)" in outcome.data["cannot"]
    )
    assert "dependency pins not checked" in (agent.workspace / "docs/modernization/segments/01.md").read_text()


def test_no_pin_is_raised_when_no_test_passes_on_the_current_pins(tmp_path: Path, index: Index) -> None:
    # hivebreak is not pinned, so the legacy module cannot even be imported: there is no evidence.
    tree = legacy_tree(tmp_path / "legacy", "hivepin==1.0.0\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    report = raise_pins(tree, index_url=index.url, target_python="3.11", scratch=scratch)
    assert report.raised == [] and not report.tests_ran
    assert report.cannot == ["hivepin ==1.0.0 not raised to 1.4.0: no test passes on the current pins (1 ran)"]
    assert (tree / "requirements.txt").read_text() == "hivepin==1.0.0\n"
