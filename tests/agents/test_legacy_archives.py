"""Safe intake of legacy code: uploads and server-side git repositories
(agents/legacy/archives.py). Hostile input is refused and nothing is left behind."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.legacy.archives import (
    ArchiveError,
    ArchiveLimits,
    copy_from_git_path,
    extract_archive,
)

BOMB_BYTES = 200 * 1024 * 1024
_CHUNK = b"\0" * (1024 * 1024)


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in entries.items():
            bundle.writestr(zipfile.ZipInfo(name), data)
    return path


def _tar_gz(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as bundle:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                bundle.addfile(info, io.BytesIO(data))
            else:
                bundle.addfile(info)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def _refused(archive: Path, dest: Path, match: str, limits: ArchiveLimits | None = None) -> None:
    with pytest.raises(ArchiveError, match=match):
        if limits is None:
            extract_archive(archive, dest)
        else:
            extract_archive(archive, dest, limits=limits)
    assert not dest.exists(), "a refused archive leaves nothing behind"


def _files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# Good archives -----------------------------------------------------------------------------


def test_it_extracts_a_zip(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "code.zip", {"app/": b"", "app/main.py": b"print(1)\n", "README": b"x"})
    result = extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "app" / "main.py").read_bytes() == b"print(1)\n"
    assert (result.files, result.directories, result.total_bytes) == (2, 1, 10)


def test_it_extracts_a_tar_gz_whatever_its_name(tmp_path: Path) -> None:
    archive = _tar_gz(
        tmp_path / "upload.bin",
        [(_member("src", tarfile.DIRTYPE), None), (_member("src/a.py"), b"a = 1\n")],
    )
    result = extract_archive(archive, tmp_path / "out")
    assert _files_under(tmp_path / "out") == {"src", "src/a.py"}
    assert result.files == 1
    mode = stat.S_IMODE((tmp_path / "out" / "src" / "a.py").stat().st_mode)
    assert mode & 0o6000 == 0  # never setuid/setgid from the archive


# Hostile names and entry types -------------------------------------------------------------


def test_it_refuses_parent_traversal_in_zip_and_tar(tmp_path: Path) -> None:
    zipped = _zip(tmp_path / "a.zip", {"ok.py": b"1", "../evil.py": b"2"})
    _refused(zipped, tmp_path / "out", r"points outside the archive \('\.\.'\)")
    tarred = _tar_gz(tmp_path / "a.tgz", [(_member("ok.py"), b"1"), (_member("src/../../evil.py"), b"2")])
    _refused(tarred, tmp_path / "out", r"'\.\.'")
    backslashed = _zip(tmp_path / "b.zip", {"..\\..\\evil.py": b"2"})
    _refused(backslashed, tmp_path / "out", r"'\.\.'")
    assert not (tmp_path / "evil.py").exists()


def test_it_refuses_absolute_paths(tmp_path: Path) -> None:
    target = tmp_path / "planted.py"
    tarred = _tar_gz(tmp_path / "a.tgz", [(_member(str(target)), b"x")])
    _refused(tarred, tmp_path / "out", "absolute path")
    zipped = _zip(tmp_path / "a.zip", {"C:/Windows/evil.dll": b"x"})
    _refused(zipped, tmp_path / "out", "absolute path")
    assert not target.exists()


def test_it_refuses_links_in_tar(tmp_path: Path) -> None:
    symlink = _tar_gz(tmp_path / "s.tgz", [(_member("passwd", tarfile.SYMTYPE, "/etc/passwd"), None)])
    _refused(symlink, tmp_path / "out", "symbolic link")
    inside = _tar_gz(tmp_path / "i.tgz", [(_member("a.py"), b"1"), (_member("b.py", tarfile.SYMTYPE, "a.py"), None)])
    _refused(inside, tmp_path / "out", "symbolic link")
    hardlink = _tar_gz(tmp_path / "h.tgz", [(_member("shadow", tarfile.LNKTYPE, "/etc/shadow"), None)])
    _refused(hardlink, tmp_path / "out", "hard link")


def test_it_refuses_a_symlink_in_zip(tmp_path: Path) -> None:
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        info = zipfile.ZipInfo("passwd")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(info, "/etc/passwd")
    _refused(archive, tmp_path / "out", "symbolic link")


def test_it_refuses_device_files(tmp_path: Path) -> None:
    device = _member("dev/sda", tarfile.BLKTYPE)
    _refused(_tar_gz(tmp_path / "d.tgz", [(device, None)]), tmp_path / "out", "device or special")
    fifo = _member("pipe", tarfile.FIFOTYPE)
    _refused(_tar_gz(tmp_path / "f.tgz", [(fifo, None)]), tmp_path / "out", "device or special")


def test_it_refuses_duplicate_entries(tmp_path: Path) -> None:
    archive = _tar_gz(tmp_path / "d.tgz", [(_member("a.py"), b"1"), (_member("a.py"), b"2")])
    _refused(archive, tmp_path / "out", "appears twice")


# Bombs, counts and sizes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """200 MiB of zeros, compressed while streamed (never held in memory)."""
    directory = tmp_path_factory.mktemp("bombs")
    zipped = directory / "bomb.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as bundle, bundle.open("zeros.py", "w") as out:
        for _ in range(BOMB_BYTES // len(_CHUNK)):
            out.write(_CHUNK)

    class Zeros(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    tarred = directory / "bomb.tgz"
    with tarfile.open(tarred, "w:gz", compresslevel=1) as tar_bundle:
        info = tarfile.TarInfo("zeros.py")
        info.size = BOMB_BYTES
        tar_bundle.addfile(info, io.BufferedReader(Zeros()))
    yield {"zip": zipped, "tgz": tarred}


def test_it_refuses_a_zip_bomb_by_ratio_while_streaming(bombs: dict[str, Path], tmp_path: Path) -> None:
    assert bombs["zip"].stat().st_size < BOMB_BYTES / 500
    # With the default limits its declared size alone is refused, before inflating anything.
    _refused(bombs["zip"], tmp_path / "out", "unpacks to more than 50 MiB")
    # Limits that would let 200 MiB through: the ratio check stops it once 1 MiB is out.
    limits = ArchiveLimits(max_entry_bytes=BOMB_BYTES * 2, max_total_bytes=BOMB_BYTES * 2)
    _refused(bombs["zip"], tmp_path / "out", "compressed more than 100 to 1", limits)


def test_it_refuses_a_tar_gz_bomb_by_ratio_while_streaming(bombs: dict[str, Path], tmp_path: Path) -> None:
    # The entry is under the per-entry limit here, so it is the stream's ratio that stops it.
    limits = ArchiveLimits(max_entry_bytes=BOMB_BYTES * 2, max_total_bytes=BOMB_BYTES * 2)
    _refused(bombs["tgz"], tmp_path / "out", "compressed more than 100 to 1", limits)


def test_it_refuses_entries_and_totals_over_the_size_limits(tmp_path: Path) -> None:
    noise = os.urandom(40_000)  # incompressible: only the size limits can stop these
    one_big = _zip(tmp_path / "big.zip", {"big.bin": noise})
    _refused(one_big, tmp_path / "out", "unpacks to more than", ArchiveLimits(max_entry_bytes=30_000))
    many = _zip(tmp_path / "many.zip", {f"f{i}.bin": noise for i in range(3)})
    _refused(many, tmp_path / "out", "archive unpacks to more than", ArchiveLimits(max_total_bytes=100_000))
    tarred = _tar_gz(tmp_path / "many.tgz", [(_member(f"f{i}.bin"), noise) for i in range(3)])
    _refused(tarred, tmp_path / "out", "unpacks to more than", ArchiveLimits(max_total_bytes=100_000))


def test_it_refuses_too_many_entries(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_entries=10)
    zipped = _zip(tmp_path / "n.zip", {f"f{i}.py": b"x" for i in range(11)})
    _refused(zipped, tmp_path / "out", "more than 10 entries", limits)
    tarred = _tar_gz(tmp_path / "n.tgz", [(_member(f"f{i}.py"), b"x") for i in range(11)])
    _refused(tarred, tmp_path / "out", "more than 10 entries", limits)


def test_it_refuses_a_declared_entry_count_before_reading_the_directory(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "n.zip", {"a.py": b"x"})
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (60_000).to_bytes(2, "little") * 2  # claims 60,000 entries
    archive.write_bytes(bytes(data))
    _refused(archive, tmp_path / "out", "more than 50,000 entries")


def test_it_refuses_an_oversized_upload(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"a.py": b"x" * 100})
    _refused(archive, tmp_path / "out", "the limit is 50 bytes", ArchiveLimits(max_upload_bytes=50))


# Corrupt input -----------------------------------------------------------------------------


def test_it_refuses_junk_and_corrupt_archives(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(os.urandom(2000).replace(b"PK", b"pk").replace(b"\x1f\x8b", b"xx"))
    _refused(junk, tmp_path / "out", r"not a \.zip or \.tar\.gz")

    good = _zip(tmp_path / "g.zip", {"a.py": os.urandom(5000)}).read_bytes()
    flipped = bytearray(good)
    for offset in range(100, 200):
        flipped[offset] ^= 0xFF
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    _refused(tmp_path / "flipped.zip", tmp_path / "out", "corrupt")

    (tmp_path / "magic.zip").write_bytes(b"PK\x03\x04" + os.urandom(300))
    _refused(tmp_path / "magic.zip", tmp_path / "out", "corrupt")

    tarred = _tar_gz(tmp_path / "t.tgz", [(_member("a.py"), os.urandom(5000))]).read_bytes()
    (tmp_path / "truncated.tgz").write_bytes(tarred[: len(tarred) // 2])
    _refused(tmp_path / "truncated.tgz", tmp_path / "out", "corrupt")

    (tmp_path / "gz-not-tar.gz").write_bytes(__import__("gzip").compress(b"just text, no tar"))
    _refused(tmp_path / "gz-not-tar.gz", tmp_path / "out", "corrupt")


def test_it_cleans_a_given_empty_destination_on_refusal(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    archive = _zip(tmp_path / "a.zip", {"a/ok.py": b"1", "a/b/ok.py": b"2", "/abs.py": b"3"})
    with pytest.raises(ArchiveError):
        extract_archive(archive, dest)
    assert dest.is_dir() and list(dest.iterdir()) == []


def test_it_insists_on_an_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    archive = _zip(tmp_path / "a.zip", {"a.py": b"1"})
    with pytest.raises(ValueError, match="empty directory"):
        extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


# Git repositories on the server ------------------------------------------------------------


def _git(directory: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(directory), *arguments],
        check=True,
        capture_output=True,
    )


def _repository(path: Path) -> Path:
    (path / "pkg").mkdir(parents=True)
    (path / "pkg" / "__init__.py").write_text("")
    (path / "pkg" / "core.py").write_text("x = 1\n")
    (path / "untracked.py").write_text("y = 2\n")
    os.symlink("/etc/passwd", path / "pkg" / "link")
    _git(path, "init", "-q")
    _git(path, "add", "pkg")
    _git(path, "commit", "-q", "-m", "initial")
    return path


def test_it_exports_the_head_of_a_repository_inside_the_allowed_root(tmp_path: Path) -> None:
    root = tmp_path / "repos"
    _repository(root / "legacy")
    result = copy_from_git_path("legacy", allowed_root=root, dest=tmp_path / "out")
    assert _files_under(tmp_path / "out") == {"pkg", "pkg/__init__.py", "pkg/core.py"}
    assert result.skipped_links == 1  # tracked symlink skipped, never created
    sub = copy_from_git_path(root / "legacy" / "pkg", allowed_root=root, dest=tmp_path / "sub")
    assert _files_under(tmp_path / "sub") == {"__init__.py", "core.py"}
    assert sub.files == 2


def test_it_refuses_a_git_path_outside_the_allowed_root(tmp_path: Path) -> None:
    root = tmp_path / "repos"
    root.mkdir()
    outside = _repository(tmp_path / "elsewhere")
    with pytest.raises(ArchiveError, match="outside the directory"):
        copy_from_git_path(outside, allowed_root=root, dest=tmp_path / "out")
    with pytest.raises(ArchiveError, match=r"must not contain '\.\.'"):
        copy_from_git_path("../elsewhere", allowed_root=root, dest=tmp_path / "out")
    with pytest.raises(ArchiveError, match=r"must not contain '\.\.'"):
        copy_from_git_path(root / ".." / "elsewhere", allowed_root=root, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_it_refuses_a_symlink_escaping_the_allowed_root(tmp_path: Path) -> None:
    root = tmp_path / "repos"
    root.mkdir()
    outside = _repository(tmp_path / "elsewhere")
    os.symlink(outside, root / "innocent")
    with pytest.raises(ArchiveError, match="outside the directory"):
        copy_from_git_path("innocent", allowed_root=root, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_it_refuses_a_directory_inside_the_root_of_a_repository_outside_it(tmp_path: Path) -> None:
    outer = _repository(tmp_path / "outer")
    root = outer / "pkg"
    with pytest.raises(ArchiveError, match="is not a git repository"):
        copy_from_git_path(root, allowed_root=root, dest=tmp_path / "out")


def test_it_says_when_a_path_is_not_a_repository(tmp_path: Path) -> None:
    root = tmp_path / "repos"
    (root / "plain").mkdir(parents=True)
    with pytest.raises(ArchiveError, match="'plain' is not a git repository"):
        copy_from_git_path("plain", allowed_root=root, dest=tmp_path / "out")
    with pytest.raises(ArchiveError, match="There is no directory"):
        copy_from_git_path("missing", allowed_root=root, dest=tmp_path / "out")
    (root / "fresh").mkdir()
    _git(root / "fresh", "init", "-q")
    with pytest.raises(ArchiveError, match="has no commits"):
        copy_from_git_path("fresh", allowed_root=root, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()
