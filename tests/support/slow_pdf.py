"""Plugin for crash tests: the real PDF handler with a slow, counted stage 2.

``schoolx worker --plugin tests.support.slow_pdf``: each chunk appends ``chunk TASK INDEX``
to SCHOOLX_TEST_COUNTER before it runs and then sleeps SCHOOLX_TEST_CHUNK_DELAY_S, so a
test can SIGKILL the worker in the middle of extraction and count what ran again.

With SCHOOLX_TEST_HOLD_AFTER=N, every chunk after the process's first N waits (before it
returns) until the file SCHOOLX_TEST_RELEASE exists: a test can act while the task is
certainly in the middle of its extraction, however slow the machine is.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from domain.records import Chunk, ChunkResult, PageText
from handlers.extractor import Extractor
from handlers.extractors import Extractors
from handlers.pdf import TASK_TYPE, PdfHandler
from pipeline.handlers import HandlerRegistry


class SlowExtractor:
    def __init__(self, inner: Extractor) -> None:
        self.inner = inner
        self.name = inner.name

    def chunks(self, pages: Sequence[PageText]) -> list[Chunk]:
        return self.inner.chunks(pages)

    async def extract(self, chunk: Chunk) -> ChunkResult:
        global _started
        _started += 1
        number = _started  # this chunk's place: others begin while it sleeps
        path = os.environ.get("SCHOOLX_TEST_COUNTER")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"chunk {chunk.page} {chunk.index}\n")
        await asyncio.sleep(float(os.environ.get("SCHOOLX_TEST_CHUNK_DELAY_S", "0.2")))
        hold_after = os.environ.get("SCHOOLX_TEST_HOLD_AFTER")
        if hold_after is not None and number > int(hold_after):
            release = Path(os.environ["SCHOOLX_TEST_RELEASE"])
            while not release.exists():  # a cancel interrupts this wait
                await asyncio.sleep(0.05)
        return await self.inner.extract(chunk)


_started = 0  # chunks this process has begun


class SlowExtractors:
    def __init__(self, inner: Extractors) -> None:
        self.inner = inner

    def get(self, name: str) -> Extractor:
        return SlowExtractor(self.inner.get(name))

    async def aclose(self) -> None:
        await self.inner.aclose()


def register(registry: HandlerRegistry) -> None:
    handler = registry.get(TASK_TYPE)
    assert isinstance(handler, PdfHandler)
    handler.extractors = SlowExtractors(handler.extractors)  # type: ignore[assignment]
