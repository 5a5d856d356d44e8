"""Reading a legacy code base's dependency pins, and writing raised ones back.

Every file is hostile (it came with the customer's upload): it is read only when it is a regular
file (never a symbolic link) under ``MAX_FILE_BYTES``, at most ``MAX_LINES`` lines of at most
``MAX_LINE_CHARS`` characters each, and nothing it names is followed. pip options (``-r`` includes,
``-e`` editables, ``--index-url`` and the other index or trust options), URLs and local paths, and
``name @ url`` requirements are refused line by line with the reason — the index is the one the
operator configured, never one a customer file names. Requirements are parsed with ``packaging``
(PEP 508: extras, markers, specifiers).

What counts as a pin: a single ``==`` on a release (no wildcard) or a single ``>=`` floor. Other
specifiers (``~=``, ``<``, ranges) are listed, not raised; a requirement with no specifier has no
pin to raise.

Sources: ``requirements*.txt`` anywhere in the tree (outside skipped directories), and at the
root ``pyproject.toml`` (``[project].dependencies``, read with ``tomllib``) and ``setup.cfg``
(``[options] install_requires``).
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from agents.legacy.sources import SKIPPED_DIRS

MAX_FILE_BYTES = 256 * 1024
MAX_LINES = 2000
MAX_LINE_CHARS = 1000
MAX_FILES = 20
MAX_DEPTH = 4
_CONTINUED = "\\"
_URL = re.compile(r"[a-z][a-z0-9+.-]*://|^file:|^[./~\\]", re.I)


@dataclass(frozen=True)
class Pin:
    file: str  # relative to the tree
    line: int  # 1-based; 0 where the format has no lines of its own (pyproject's array)
    text: str  # the requirement as written (without comment)
    name: str  # canonical name
    operator: str  # "==" or ">="
    version: Version

    def raised(self, to: Version) -> str:
        """The requirement with the pin moved to ``to``: same name, extras and marker."""
        requirement = Requirement(self.text)
        requirement.specifier = SpecifierSet(f"{self.operator}{to}")
        return str(requirement)


@dataclass(frozen=True)
class Pins:
    pins: tuple[Pin, ...]
    cannot: tuple[str, ...]  # "requirements.txt:3: -e git+… (why)"
    files: tuple[str, ...]


def dependency_files(tree: Path) -> list[str]:
    """Relative paths of the dependency files of ``tree`` (regular files only)."""
    found: list[str] = []
    for name in ("pyproject.toml", "setup.cfg"):
        path = tree / name
        if path.is_file() and not path.is_symlink():
            found.append(name)
    found.extend(_requirements_files(tree, tree, 0))
    return found[:MAX_FILES]


def _requirements_files(tree: Path, folder: Path, depth: int) -> list[str]:
    if depth > MAX_DEPTH:
        return []
    found: list[str] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir() and entry.name not in SKIPPED_DIRS and not entry.name.startswith("."):
            found.extend(_requirements_files(tree, entry, depth + 1))
        elif entry.is_file() and entry.name.startswith("requirements") and entry.suffix == ".txt":
            found.append(entry.relative_to(tree).as_posix())
    return found


def read_pins(tree: Path) -> Pins:
    pins: list[Pin] = []
    cannot: list[str] = []
    files = dependency_files(tree)
    for name in files:
        text, refused = _read_capped(tree / name)
        if refused:
            cannot.append(f"{name}: {refused}")
            continue
        if name == "pyproject.toml":
            entries = _pyproject(text, name, cannot)
        elif name == "setup.cfg":
            entries = _setup_cfg(text, name, cannot)
        else:
            entries = _requirements_txt(text)
        for line, raw in entries:
            pin, why = parse_line(raw)
            where = f"{name}:{line}" if line else name
            if why:
                cannot.append(f"{where}: {raw[:200]} ({why})")
            elif pin is not None:
                pins.append(Pin(name, line, pin.text, pin.name, pin.operator, pin.version))
    return Pins(tuple(pins), tuple(cannot), tuple(files))


def _read_capped(path: Path) -> tuple[str, str]:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return "", f"{size:,} bytes, over the {MAX_FILE_BYTES:,}-byte cap: not read"
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    text = data.decode("utf-8", errors="replace")
    if text.count("\n") > MAX_LINES:
        return "", f"more than {MAX_LINES:,} lines: not read"
    return text, ""


def _requirements_txt(text: str) -> list[tuple[int, str]]:
    """(first line number, the logical line without its comment); ``\\`` continues a line."""
    entries: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = re.sub(r"(^|\s)#.*$", "", line).strip()
        start, sofar = pending if pending else (number, "")
        piece = stripped.removesuffix(_CONTINUED).strip()
        joined = f"{sofar} {piece}".strip()
        pending = (start, joined) if stripped.endswith(_CONTINUED) else None
        if pending is None and joined:
            entries.append((start, joined))
    if pending and pending[1]:
        entries.append(pending)
    return entries


def _pyproject(text: str, name: str, cannot: list[str]) -> list[tuple[int, str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        cannot.append(f"{name}: not valid TOML ({str(exc)[:120]})")
        return []
    project = data.get("project")
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    if not isinstance(dependencies, list):
        return []
    return [(0, str(item).strip()) for item in dependencies[:MAX_LINES] if isinstance(item, str)]


def _setup_cfg(text: str, name: str, cannot: list[str]) -> list[tuple[int, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        cannot.append(f"{name}: not readable ({str(exc)[:120]})")
        return []
    value = parser.get("options", "install_requires", fallback="")
    wanted = [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]
    lines = text.splitlines()
    return [(next((i for i, row in enumerate(lines, 1) if row.strip() == item), 0), item) for item in wanted]


@dataclass(frozen=True)
class _Parsed:
    text: str
    name: str
    operator: str
    version: Version


def parse_line(raw: str) -> tuple[_Parsed | None, str]:
    """(the pin, "") or (None, why it is refused) or (None, "") for a requirement with no pin."""
    if len(raw) > MAX_LINE_CHARS:
        return None, f"a line over {MAX_LINE_CHARS} characters"
    if " --hash" in raw or " -" in raw.split(";")[0]:
        return None, "carries pip options (--hash …): kept, the new release's hashes are not written here"
    if raw.startswith("-"):
        return None, "a pip option: includes, editables and other indexes are not followed"
    if _URL.search(raw):
        return None, "a URL or a local path, not a release on the configured index"
    try:
        requirement = Requirement(raw)
    except InvalidRequirement as exc:
        return None, f"not a requirement: {str(exc)[:120]}"
    if requirement.url:
        return None, "a direct reference (name @ url), not a release on the configured index"
    if requirement.marker is not None and not requirement.marker.evaluate():
        return None, "its marker excludes the Python the tests run on: kept as it is"
    specifiers = list(requirement.specifier)
    if not specifiers:
        return None, ""
    if len(specifiers) != 1 or specifiers[0].operator not in ("==", ">=") or "*" in specifiers[0].version:
        return None, "a range, not a pin (only == pins and >= floors are raised)"
    try:
        version = Version(specifiers[0].version)
    except InvalidVersion:
        return None, "not a valid version"
    return _Parsed(raw, canonicalize_name(requirement.name), specifiers[0].operator, version), ""


def rewrite(tree: Path, pin: Pin, to: Version) -> bool:
    """Write ``pin`` raised to ``to`` into its file; False when the text to replace is not found
    exactly once (the file is then left as it was)."""
    path = tree / pin.file
    if path.is_symlink() or not path.is_file():
        return False
    text = path.read_text("utf-8", errors="replace")
    new = pin.raised(to)
    if pin.file == "pyproject.toml":
        olds = [f'"{pin.text}"', f"'{pin.text}'"]
        hits = [old for old in olds if text.count(old) == 1]
        if len(hits) != 1:
            return False
        path.write_text(text.replace(hits[0], hits[0][0] + new + hits[0][0]), "utf-8")
        return True
    lines = text.splitlines(keepends=True)
    if not 0 < pin.line <= len(lines) or lines[pin.line - 1].count(pin.text) != 1:
        return False
    lines[pin.line - 1] = lines[pin.line - 1].replace(pin.text, new)
    path.write_text("".join(lines), "utf-8")
    return True
