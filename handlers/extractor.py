"""The protocol every stage-2 extractor implements (offline rules, LLM)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.records import Chunk, ChunkResult, PageText


class Extractor(Protocol):
    """Finds schools in chunks of page text.

    ``chunks`` is pure and deterministic (same pages -> same chunks), so a resumed task can
    skip chunks whose result is already checkpointed. ``extract`` may be called concurrently
    for different chunks of one document.
    """

    name: str

    def chunks(self, pages: Sequence[PageText]) -> list[Chunk]: ...

    async def extract(self, chunk: Chunk) -> ChunkResult: ...
