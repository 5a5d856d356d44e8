"""Files sent to a browser under ASGI without holding them in memory.

Django's ``FileResponse`` under an ASGI server reads the whole file into a list before sending it
(it cannot iterate a plain file asynchronously), so a large deliverable would sit in the web
process's memory once per download. ``StreamedFileResponse`` reads it in 64 KiB blocks, each in
a worker thread, and sends each block as it comes; under WSGI it is an ordinary ``FileResponse``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import FileResponse


class StreamedFileResponse(FileResponse):
    block_size = 64 * 1024

    async def __aiter__(self) -> AsyncIterator[bytes]:
        filelike = self.file_to_stream
        if filelike is None:  # not a file: what FileResponse would do
            async for part in super().__aiter__():
                yield part
            return
        read = sync_to_async(filelike.read, thread_sensitive=False)
        while block := await read(self.block_size):
            yield block
