"""Deliverables go out in blocks under ASGI, never read whole into the web process's memory."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

from projects.delivery.downloads import StreamedFileResponse

SIZE = 1024 * 1024 + 5


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "deliverable.bundle"
    path.write_bytes(bytes(range(256)) * (SIZE // 256) + b"x" * (SIZE % 256))
    return path


def test_it_streams_blocks_asynchronously_without_reading_the_whole_file(tmp_path: Path) -> None:
    path = _file(tmp_path)
    handle = path.open("rb")
    response = StreamedFileResponse(handle, as_attachment=True, filename="shop.bundle")
    seen: list[int] = []

    async def consume() -> bytes:
        parts = []
        async for part in response:
            # Only what was sent so far has been read from the file.
            seen.append(handle.tell())
            parts.append(part)
        return b"".join(parts)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body = asyncio.run(consume())
    assert body == path.read_bytes()
    assert seen[0] == 64 * 1024 and len(seen) == 17
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]
    assert response["Content-Length"] == str(SIZE)
    assert 'filename="shop.bundle"' in response["Content-Disposition"]
    response.close()
    assert handle.closed


def test_it_is_an_ordinary_file_response_under_wsgi(tmp_path: Path) -> None:
    path = _file(tmp_path)
    response = StreamedFileResponse(path.open("rb"), as_attachment=True, filename="shop.bundle")
    assert b"".join(response) == path.read_bytes()
    response.close()
