"""Safe intake of legacy code: uploaded archives and server-side git repositories.

This module owns getting a customer's code onto disk without trusting it. Two ways in:

:func:`extract_archive`
    a ``.zip`` or gzip-compressed tar (``.tar.gz``/``.tgz``) upload, recognised by its first
    bytes, not by its name.
:func:`copy_from_git_path`
    a git repository on this server, accepted only inside a configured root; its ``HEAD`` is
    exported with ``git archive`` and unpacked through the same checks as an upload. The
    repository is the customer's, so git reads its objects through a git directory of the
    platform's and never its configuration (``agents.hostgit``).

What is refused, each with an :class:`ArchiveError` whose message can be shown to the customer:
an upload over ``max_upload_bytes``; anything that is neither zip nor gzip; corrupt or encrypted
archives; entry names that are absolute (``/x``, ``C:\\x``), contain a ``..`` component or a NUL
byte; symbolic and hard links; device files, FIFOs and other special entries; more than
``max_entries`` entries; an entry over ``max_entry_bytes`` or all entries together over
``max_total_bytes`` uncompressed; and a compression ratio over ``max_ratio`` (per zip entry,
and for the whole archive), checked once ``ratio_grace_bytes`` are out so small, very regular
files are not refused. Sizes and ratios are enforced on the bytes actually produced while
streaming — headers are only used to refuse early, never trusted to allow. For a tar.gz, the
decompressed stream (tar headers included) is counted too.

Extraction writes only inside ``dest``, which must be empty or absent: files are created with
``O_EXCL | O_NOFOLLOW`` and fixed permissions (no modes, owners or times from the archive), and
every target is checked to resolve inside ``dest``. On refusal everything written so far is
removed (and ``dest`` too, when this call created it).

A repository's tracked symlinks are skipped (and counted) rather than refused: the repository is
already on the server and a link in it is a normal thing for a project to have, but the
analysed copy never contains links.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

from agents.hostgit import GitError, git_dir_trusted_view, git_run, git_start

_MIB = 1024 * 1024
_CHUNK = 64 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"
_TAR_BLOCK = 512
_EOCD_SIZE = 22
_ZIP64_LOCATOR_SIZE = 20
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ArchiveError(Exception):
    """Legacy code refused; the message says why, in words a customer understands."""


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what an upload may unpack to."""

    max_upload_bytes: int = 200 * _MIB
    max_entries: int = 50_000
    max_entry_bytes: int = 50 * _MIB
    max_total_bytes: int = 1024 * _MIB
    max_ratio: float = 100.0
    ratio_grace_bytes: int = 1 * _MIB


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class ExtractedTree:
    """What was written under ``root``."""

    root: Path
    files: int
    directories: int
    total_bytes: int
    skipped_links: int = 0


def extract_archive(archive: Path, dest: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> ExtractedTree:
    """Unpack a zip or tar.gz upload into ``dest`` (empty or absent), or refuse it."""
    archive = Path(archive)
    try:
        size = archive.stat().st_size
        with archive.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ArchiveError("The upload could not be read.") from exc
    if size > limits.max_upload_bytes:
        raise ArchiveError(f"The upload is {_size(size)}; the limit is {_size(limits.max_upload_bytes)}.")
    if magic.startswith(_ZIP_MAGIC):
        return _extract_into(dest, lambda writer: _extract_zip(archive, size, writer), limits)
    if magic.startswith(_GZIP_MAGIC):
        return _extract_into(dest, lambda writer: _extract_tar_gz(archive, writer), limits)
    raise ArchiveError("The upload is not a .zip or .tar.gz archive.")


def copy_from_git_path(
    path: str | Path,
    *,
    allowed_root: Path,
    dest: Path,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> ExtractedTree:
    """Export the ``HEAD`` of the git repository at ``path`` into ``dest``, or refuse it.

    ``path`` may be absolute or relative to ``allowed_root``; it must not contain ``..`` and
    must resolve (symlinks followed) inside ``allowed_root``, and so must the repository's top
    level. A path inside a repository exports that subdirectory of ``HEAD``.
    """
    text = str(path).strip()
    if not text or "\x00" in text:
        raise ArchiveError("Give the path of a git repository on the server.")
    given = Path(text)
    shown = _shown(text)
    if ".." in given.parts:
        raise ArchiveError(f"The repository path '{shown}' must not contain '..'.")
    root = Path(os.path.realpath(allowed_root))
    resolved = Path(os.path.realpath(given if given.is_absolute() else root / given))
    if not resolved.is_relative_to(root):
        raise ArchiveError(f"The repository path '{shown}' is outside the directory repositories may be read from.")
    if not resolved.is_dir():
        raise ArchiveError(f"There is no directory at '{shown}'.")
    found = _repository_of(resolved, root)
    if found is None:
        raise ArchiveError(f"'{shown}' is not a git repository.")
    git_dir, top_path = found
    if not Path(os.path.realpath(git_dir)).is_relative_to(root) or not top_path.is_relative_to(root):
        raise ArchiveError(
            f"The repository containing '{shown}' is outside the directory repositories may be read from."
        )
    relative = resolved.relative_to(top_path).as_posix()
    subdirectory = "" if relative == "." or git_dir == top_path else relative
    try:
        commit = git_run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", git_dir=git_dir, timeout=60).strip()
    except GitError:
        raise ArchiveError(f"The repository at '{shown}' has no commits.") from None
    except OSError as exc:
        raise ArchiveError("git could not be run on the server.") from exc
    treeish = f"{commit}:{subdirectory}" if subdirectory else commit
    exporter = _Git(git_dir)
    return _extract_into(dest, lambda writer: exporter.export(treeish, writer), limits)


# ---------------------------------------------------------------------------------------------
# Writing entries
# ---------------------------------------------------------------------------------------------


class _Writer:
    """Creates the entries of one archive inside ``root``, enforcing names, count and sizes."""

    def __init__(self, root: Path, limits: ArchiveLimits) -> None:
        self.root = root
        self.limits = limits
        self.entries = 0
        self.files = 0
        self.directories = 0
        self.total_bytes = 0
        self.skipped_links = 0

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise ArchiveError(f"The archive has more than {self.limits.max_entries:,} entries.")

    def target(self, name: str) -> Path | None:
        """Where an entry goes, None for the archive root itself; refuses unsafe names."""
        shown = _shown(name)
        if "\x00" in name:
            raise ArchiveError(f"The entry '{shown}' has an invalid name.")
        normal = name.replace("\\", "/")
        if normal.startswith("/") or _DRIVE.match(normal):
            raise ArchiveError(f"The entry '{shown}' has an absolute path.")
        parts = [part for part in normal.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise ArchiveError(f"The entry '{shown}' points outside the archive ('..').")
        if not parts:
            return None
        target = self.root.joinpath(*parts)
        if not Path(os.path.realpath(target.parent)).is_relative_to(self.root):
            raise ArchiveError(f"The entry '{shown}' points outside the archive.")
        return target

    def directory(self, name: str) -> None:
        target = self.target(name)
        if target is None:
            return
        try:
            target.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ArchiveError(f"The entry '{_shown(name)}' clashes with a file.") from exc
        self.directories += 1

    def file(self, name: str, stream: IO[bytes], *, compressed_bytes: int | None) -> None:
        target = self.target(name)
        if target is None:
            raise ArchiveError(f"The entry '{_shown(name)}' has no file name.")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            raise ArchiveError(f"The entry '{_shown(name)}' appears twice or clashes with a directory.") from exc
        limits = self.limits
        written = 0
        with os.fdopen(descriptor, "wb") as out:
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                self.total_bytes += len(chunk)
                if written > limits.max_entry_bytes:
                    raise ArchiveError(
                        f"The entry '{_shown(name)}' unpacks to more than {_size(limits.max_entry_bytes)}."
                    )
                if self.total_bytes > limits.max_total_bytes:
                    raise ArchiveError(f"The archive unpacks to more than {_size(limits.max_total_bytes)}.")
                if (
                    compressed_bytes is not None
                    and written > limits.ratio_grace_bytes
                    and written > limits.max_ratio * max(compressed_bytes, 1)
                ):
                    raise ArchiveError(
                        f"The entry '{_shown(name)}' is compressed more than {limits.max_ratio:g} to 1 (a zip bomb?)."
                    )
                out.write(chunk)
        self.files += 1


def _extract_into(dest: Path, extract: Callable[[_Writer], None], limits: ArchiveLimits) -> ExtractedTree:
    dest = Path(dest)
    created = not dest.exists()
    if created:
        dest.mkdir(parents=True)
    elif not dest.is_dir() or any(dest.iterdir()):
        raise ValueError(f"{dest} must be an empty directory")
    root = Path(os.path.realpath(dest))
    writer = _Writer(root, limits)
    try:
        extract(writer)
    except ArchiveError:
        _remove_contents(root, remove_root=created)
        raise
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        zlib.error,
        lzma.LZMAError,
        EOFError,
        NotImplementedError,
        ValueError,
        OSError,
    ) as exc:
        _remove_contents(root, remove_root=created)
        raise ArchiveError("The archive is corrupt or uses an unsupported format.") from exc
    except BaseException:
        _remove_contents(root, remove_root=created)
        raise
    return ExtractedTree(
        root=root,
        files=writer.files,
        directories=writer.directories,
        total_bytes=writer.total_bytes,
        skipped_links=writer.skipped_links,
    )


def _remove_contents(root: Path, *, remove_root: bool) -> None:
    if remove_root:
        shutil.rmtree(root, ignore_errors=True)
        return
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Zip
# ---------------------------------------------------------------------------------------------


def _declared_zip_entries(archive: Path) -> int | None:
    """The entry count in the end-of-central-directory record (zip64 too), None if absent.

    Read before :class:`zipfile.ZipFile` loads the whole central directory into memory, so an
    archive declaring millions of entries is refused without building millions of objects.
    """
    with archive.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        tail_start = max(0, size - (_EOCD_SIZE + 0xFFFF + _ZIP64_LOCATOR_SIZE))
        handle.seek(tail_start)
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD_SIZE:
            return None
        entries = int.from_bytes(tail[at + 10 : at + 12], "little")
        locator = at - _ZIP64_LOCATOR_SIZE
        if entries != 0xFFFF or locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
            return entries
        record_offset = int.from_bytes(tail[locator + 8 : locator + 16], "little")
        handle.seek(record_offset)
        record = handle.read(40)
        if record[:4] != b"PK\x06\x06" or len(record) < 40:
            return None
        return int.from_bytes(record[32:40], "little")


def _extract_zip(archive: Path, archive_bytes: int, writer: _Writer) -> None:
    limits = writer.limits
    declared = _declared_zip_entries(archive)
    if declared is not None and declared > limits.max_entries:
        raise ArchiveError(f"The archive has more than {limits.max_entries:,} entries.")
    with zipfile.ZipFile(archive) as bundle:
        entries = bundle.infolist()
        if len(entries) > limits.max_entries:
            raise ArchiveError(f"The archive has more than {limits.max_entries:,} entries.")
        for info in entries:
            writer.count_entry()
            name = info.filename
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                raise ArchiveError(f"The entry '{_shown(name)}' is a symbolic link.")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveError(f"The entry '{_shown(name)}' is a device or special file.")
            if info.flag_bits & 0x1:
                raise ArchiveError(f"The entry '{_shown(name)}' is encrypted.")
            if info.is_dir() or kind == stat.S_IFDIR:
                writer.directory(name)
                continue
            if info.file_size > limits.max_entry_bytes:
                raise ArchiveError(f"The entry '{_shown(name)}' unpacks to more than {_size(limits.max_entry_bytes)}.")
            with bundle.open(info) as stream:
                writer.file(name, stream, compressed_bytes=info.compress_size)
            if writer.total_bytes > limits.ratio_grace_bytes and writer.total_bytes > limits.max_ratio * max(
                archive_bytes, 1
            ):
                raise ArchiveError(f"The archive is compressed more than {limits.max_ratio:g} to 1 (a zip bomb?).")


# ---------------------------------------------------------------------------------------------
# Tar (gzip-compressed uploads, and git archive output)
# ---------------------------------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _BoundedStream(io.RawIOBase):
    """The decompressed tar stream, refused once it outgrows the limits or the ratio.

    ``compressed_position`` reports how many compressed bytes have been consumed (None when
    the stream is not compressed, as for ``git archive``).
    """

    def __init__(
        self,
        source: _Readable,
        limits: ArchiveLimits,
        compressed_position: Callable[[], int] | None,
    ) -> None:
        super().__init__()
        self.source = source
        self.limits = limits
        self.compressed_position = compressed_position
        # Entries' contents plus a header and padding per entry plus the end-of-archive record.
        self.allowed = limits.max_total_bytes + limits.max_entries * 3 * _TAR_BLOCK + _MIB
        self.produced = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        data = self.source.read(size)
        self.produced += len(data)
        limits = self.limits
        if self.produced > self.allowed:
            raise ArchiveError(f"The archive unpacks to more than {_size(limits.max_total_bytes)}.")
        if (
            self.compressed_position is not None
            and self.produced > limits.ratio_grace_bytes
            and self.produced > limits.max_ratio * max(self.compressed_position(), 1)
        ):
            raise ArchiveError(f"The archive is compressed more than {limits.max_ratio:g} to 1 (a zip bomb?).")
        return data


def _extract_tar_gz(archive: Path, writer: _Writer) -> None:
    with archive.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as decompressed:
        stream = _BoundedStream(decompressed, writer.limits, raw.tell)
        _extract_tar_stream(stream, writer, links="refuse")


def _extract_tar_stream(stream: _BoundedStream, writer: _Writer, *, links: Literal["refuse", "skip"]) -> None:
    with tarfile.open(fileobj=stream, mode="r|") as bundle:
        for member in bundle:
            writer.count_entry()
            name = member.name
            if member.issym() or member.islnk():
                if links == "skip":
                    writer.skipped_links += 1
                    continue
                kind = "symbolic link" if member.issym() else "hard link"
                raise ArchiveError(f"The entry '{_shown(name)}' is a {kind}.")
            if member.isdir():
                writer.directory(name)
                continue
            if not member.isreg() or member.issparse():
                raise ArchiveError(f"The entry '{_shown(name)}' is a device or special file.")
            if member.size > writer.limits.max_entry_bytes:
                raise ArchiveError(
                    f"The entry '{_shown(name)}' unpacks to more than {_size(writer.limits.max_entry_bytes)}."
                )
            content = bundle.extractfile(member)
            if content is None:
                raise ArchiveError(f"The entry '{_shown(name)}' could not be read.")
            with content:
                writer.file(name, content, compressed_bytes=None)


# ---------------------------------------------------------------------------------------------
# Git
# ---------------------------------------------------------------------------------------------


def _repository_of(directory: Path, root: Path) -> tuple[Path, Path] | None:
    """The git directory and top level of the repository ``directory`` is in, looked for the
    way git does (a ``.git`` directory or ``gitdir:`` file, else a bare repository) from
    ``directory`` up to ``root`` and never above it. Done here rather than by git's discovery so
    that git is only ever run with an explicit ``--git-dir`` (agents.hostgit)."""
    current = directory
    while True:
        pointer = current / ".git"
        if pointer.is_dir() and _is_git_dir(pointer):
            return pointer, current
        if pointer.is_file():
            try:
                text = pointer.read_text("utf-8", errors="replace")[:4096].strip()
            except OSError:
                return None
            if not text.startswith("gitdir:"):
                return None
            target = Path(text.removeprefix("gitdir:").strip())
            target = Path(os.path.realpath(target if target.is_absolute() else current / target))
            return (target, current) if _is_git_dir(target) else None
        if _is_git_dir(current):
            return current, current
        if current == root or current.parent == current:
            return None
        current = current.parent


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and ((path / "objects").is_dir() or (path / "commondir").is_file())


def _objects_of(git_dir: Path) -> Path:
    """The object store of a git directory (a linked worktree's is its common directory's)."""
    common = git_dir / "commondir"
    if common.is_file():
        shared = common.read_text("utf-8", errors="replace").strip()
        return Path(os.path.realpath(git_dir / shared)) / "objects"
    return git_dir / "objects"


class _Git:
    """Export of one commit of a customer's repository. The repository's refs and configuration
    are the customer's: git reads only its objects, through a git directory of the platform's
    (``git_dir_trusted_view``), so its configuration and ``info/attributes`` can name no filter
    or other program that ``git archive`` would run."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir

    def export(self, treeish: str, writer: _Writer) -> None:
        with tempfile.TemporaryFile() as errors, git_dir_trusted_view(_objects_of(self.git_dir).parent) as view:
            try:
                process = git_start(["archive", "--format=tar", treeish], git_dir=view, stderr=errors)
            except OSError as exc:
                raise ArchiveError("git could not be run on the server.") from exc
            assert process.stdout is not None
            try:
                stream = _BoundedStream(process.stdout, writer.limits, None)
                try:
                    _extract_tar_stream(stream, writer, links="skip")
                except tarfile.ReadError:
                    # git writes an empty tree as a tar with no members, which tarfile
                    # rejects; and when git fails, its exit status below says why.
                    if writer.entries > 0:
                        raise
                # Drain the end-of-archive padding so git exits normally.
                while process.stdout.read(_CHUNK):
                    pass
            except BaseException:
                process.kill()
                process.wait()
                raise
            finally:
                process.stdout.close()
            if process.wait() != 0:
                errors.seek(0)
                detail = _shown(errors.read().decode("utf-8", "replace").strip())
                raise ArchiveError(f"git could not export the repository: {detail}")


def _shown(text: str, limit: int = 200) -> str:
    """A name safe to put in a message: control characters replaced, length bounded."""
    cleaned = _CONTROL.sub("?", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _size(count: int) -> str:
    if count >= _MIB:
        return f"{count / _MIB:g} MiB"
    return f"{count:,} bytes"
