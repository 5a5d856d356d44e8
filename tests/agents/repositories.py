"""Installed pure-Python packages laid out as their source repositories, the way customers send code.

A customer uploads a zip of the repository, not of the installed package: the package directory
beside its packaging (``setup.py``, ``pyproject.toml``, ``noxfile.py``), its docs (``docs/conf.py``),
examples and its own tests — inside the package (``aiosmtpd/tests``, ``referencing/tests``: the
real suites the wheels ship) or beside it (``tests/``: h11's wheel ships none, so its repository
gets a small real suite written here that runs against the installed h11). Nothing is downloaded.
"""

from __future__ import annotations

import io
import shutil
import sys
import zipfile
from pathlib import Path

SITE_PACKAGES = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"

H11_TESTS = {
    "tests/__init__.py": "",
    "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef client():\n"
    "    import h11\n\n    return h11.Connection(our_role=h11.CLIENT)\n",
    "tests/test_roundtrip.py": """import h11


def test_a_request_and_its_response_round_trip(client):
    server = h11.Connection(our_role=h11.SERVER)
    data = client.send(h11.Request(method="GET", target="/", headers=[("Host", "example.test")]))
    data += client.send(h11.EndOfMessage())
    server.receive_data(data)
    request = server.next_event()
    assert isinstance(request, h11.Request) and request.target == b"/"
    assert isinstance(server.next_event(), h11.EndOfMessage)
    reply = server.send(h11.Response(status_code=200, headers=[("Content-Length", "2")]))
    reply += server.send(h11.Data(data=b"ok")) + server.send(h11.EndOfMessage())
    client.receive_data(reply)
    assert client.next_event().status_code == 200
    assert client.next_event().data == b"ok"
""",
    "tests/test_headers.py": """import pytest

from h11._headers import normalize_and_validate
from h11._util import LocalProtocolError


def test_header_names_are_lowercased():
    assert normalize_and_validate([("Foo", "bar")]) == [(b"foo", b"bar")]


def test_a_bad_header_name_is_refused():
    with pytest.raises(LocalProtocolError):
        normalize_and_validate([("foo bar", "baz")])
""",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def repository_of(package: str, root: Path) -> Path:
    """``root`` becomes the repository of the installed ``package``; returns ``root``."""
    source = SITE_PACKAGES / package
    if not source.is_dir():
        raise FileNotFoundError(f"{package} is not installed in the venv")
    shutil.copytree(source, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _write(
        root,
        {
            "setup.py": "from setuptools import find_packages, setup\n\n"
            f"setup(name={package!r}, packages=find_packages())\n",
            "pyproject.toml": "[build-system]\nrequires = ['setuptools']\n",
            "noxfile.py": "import nox\n\n\n@nox.session\ndef tests(session):\n    session.install('.')\n"
            "    session.run('pytest')\n",
            "docs/conf.py": f"project = {package!r}\nextensions = ['sphinx.ext.autodoc']\nhtml_theme = 'alabaster'\n",
            "examples/show_version.py": f"import {package}\n\nprint({package}.__name__)\n",
        },
    )
    if package == "h11":
        _write(root, H11_TESTS)
    return root


def zip_of(root: Path, prefix: str) -> bytes:
    """The repository as a customer zips it: one top directory ``prefix``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                bundle.write(path, f"{prefix}/{path.relative_to(root).as_posix()}")
    return buffer.getvalue()
