"""The ``hybrid`` extractor (``--extractor auto`` with an LLM configured): the offline
reader on every page, the LLM only on the pages the reader is unsure of.

Chunks are the reader's (one per page), so a page's result, LLM part included, is one
checkpoint; the LLM's replies are cached by content, so a page resumed after a crash does
not pay for a request twice. A page the LLM cannot read either (an invalid reply after its
retries) keeps the reader's records and says so in a warning rather than failing the
document. Usage counts ``llm_pages``: how many pages went to the model.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence

from domain.records import Chunk, ChunkResult, PageText
from handlers.llm.extractor import InvalidReplyError, LlmExtractor
from handlers.reader.extractor import OfflineReader

UNSURE_BELOW = 0.5  # page confidence under which the page goes to the LLM


class HybridExtractor:
    name = "hybrid"

    def __init__(self, reader: OfflineReader, llm: LlmExtractor) -> None:
        self.reader = reader
        self.llm = llm

    def chunks(self, pages: Sequence[PageText]) -> list[Chunk]:
        return self.reader.chunks(pages)

    def cost(self, usage: Mapping[str, int]) -> float | None:
        return self.llm.cost(usage)

    async def extract(self, chunk: Chunk) -> ChunkResult:
        offline = await self.reader.extract(chunk)
        if offline.confidence is None or offline.confidence >= UNSURE_BELOW:
            return offline
        pieces = self.llm.chunks([PageText(chunk.page, chunk.text)])
        try:
            replies = await asyncio.gather(*(self.llm.extract(p) for p in pieces))
        except InvalidReplyError as exc:
            spent = Counter(exc.usage)
            spent["llm_pages"] += 1
            warning = f"page {chunk.page}: the LLM could not read it either ({exc})"
            return ChunkResult(
                offline.records,
                offline.dropped,
                dict(spent),
                (*offline.warnings, warning),
                offline.confidence,
            )
        usage: Counter[str] = Counter()
        for reply in replies:
            usage.update(reply.usage)
        usage["llm_pages"] += 1
        records = tuple(r for reply in replies for r in reply.records)
        return ChunkResult(
            records,
            sum(reply.dropped for reply in replies),
            dict(usage),
            offline.warnings,
            1.0 if records else offline.confidence,
        )
