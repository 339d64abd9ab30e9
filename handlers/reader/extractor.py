"""The offline extractor (``--extractor rules``): the reader behind the Extractor protocol.

Each chunk is one page. Its context carries the lines of earlier pages that still apply (a
table header that is not repeated, the district heading above the rows), so chunks stay
independent and can be read in any order or again after a crash.

Reading is pure CPU: with an executor (the process pool) it runs there under a time limit,
so a slow page never holds the event loop that renews the worker's leases; without one it
runs in a thread.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Sequence
from concurrent.futures import Executor

from domain.records import Chunk, ChunkResult, Evidence, PageText, SchoolRecord
from handlers.boilerplate import find_boilerplate
from handlers.reader.page import Found, carry, page_confidence, read_page
from handlers.text import run_with_deadline

DEFAULT_CHUNK_TIMEOUT_S = 20.0
_PADDING = re.compile(r" {3,}")


class OfflineReader:
    """Extractor protocol implementation that needs no network and no model."""

    name = "rules"

    def __init__(
        self, executor: Executor | None = None, timeout_s: float = DEFAULT_CHUNK_TIMEOUT_S
    ) -> None:
        self.executor = executor
        self.timeout_s = timeout_s

    def chunks(self, pages: Sequence[PageText]) -> list[Chunk]:
        usable = [p for p in pages if not p.needs_ocr and not p.skipped and p.text.strip()]
        boiler = find_boilerplate([p.text for p in usable])
        chunks: list[Chunk] = []
        context = ""
        for i, page in enumerate(usable):
            chunks.append(Chunk(i, page.page, page.text, 0, context, boiler))
            context = carry(page.text, context)
        return chunks

    async def extract(self, chunk: Chunk) -> ChunkResult:
        job = functools.partial(read_chunk, chunk, self.timeout_s)
        if self.executor is None:
            return await asyncio.to_thread(job)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, job)


def read_chunk(chunk: Chunk, timeout_s: float = DEFAULT_CHUNK_TIMEOUT_S) -> ChunkResult:
    """Records of one chunk (picklable, for a process pool). A page that takes longer than
    ``timeout_s`` gives no records and a warning instead of holding a pool process."""
    try:
        found = run_with_deadline(
            lambda: read_page(chunk.text, chunk.context, chunk.boilerplate), timeout_s
        )
    except TimeoutError:
        warning = f"page {chunk.page}: reading took longer than {timeout_s:g}s; skipped"
        return ChunkResult(records=(), warnings=(warning,), confidence=0.0)
    records = tuple(_record(chunk, f) for f in found)
    return ChunkResult(records=records, confidence=page_confidence(chunk.text, found))


def _tidy(text: str) -> str:
    """The evidence as a reader wants it: line breaks kept, the layout's padding cut to the
    two spaces that still show where one cell ends and the next begins."""
    lines = (_PADDING.sub("  ", raw.strip()) for raw in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _record(chunk: Chunk, found: Found) -> SchoolRecord:
    start, end = chunk.offset + found.start, chunk.offset + found.end
    snippet = _tidy(chunk.text[found.start : found.end])
    evidence = Evidence(chunk.page, start, end, snippet)
    return SchoolRecord.of(found.name, evidence, found.values, found.identifiers)
