"""The ``llm`` extractor: chunk -> cached or fresh model reply -> grounded records."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from collections.abc import Mapping, Sequence
from types import TracebackType

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.records import Chunk, ChunkResult, PageText
from handlers.llm.cache import ResponseCache, SqlResponseCache
from handlers.llm.chunking import chunk_pages
from handlers.llm.client import CallStats, ChatReply, LlmClient
from handlers.llm.config import LlmConfig
from handlers.llm.cost import estimate_cost
from handlers.llm.grounding import ground
from handlers.llm.limits import LIMITER, Limiter
from handlers.llm.parse import ReplyInvalid, parse_reply
from handlers.llm.prompt import PROMPT_VERSION, build_messages, reask_messages
from handlers.llm.schema import SCHEMA_TEXT, SchoolsReply
from pipeline.errors import PermanentError

__all__ = ["InvalidReplyError", "LlmExtractor", "cache_key", "estimate_cost"]

MAX_REPLY_IN_REASK = 8000  # longer (or truncated) replies are not echoed back


class InvalidReplyError(PermanentError):
    """The model's reply stayed unusable after re-asks and fresh requests. ``raw_reply``
    is kept so the caller can store it for review; ``usage`` is what the attempts cost."""

    def __init__(self, message: str, raw_reply: str | None, usage: dict[str, int]) -> None:
        super().__init__(message)
        self.raw_reply = raw_reply
        self.usage = usage


def cache_key(model: str, chunk: Chunk) -> str:
    """Everything that shapes the reply, and nothing that does not (page, index, offset)."""
    parts = [model, PROMPT_VERSION, SCHEMA_TEXT, chunk.context, chunk.text]
    parts.extend(sorted(chunk.boilerplate))
    digest = hashlib.sha256()
    for part in parts:
        # Length-prefixed so ("ab", "c") and ("a", "bc") hash differently.
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


class LlmExtractor:
    name = "llm"

    def __init__(self, config: LlmConfig, cache: ResponseCache, limiter: Limiter = LIMITER):
        self.config = config
        self.cache = cache
        self.limiter = limiter
        self._client: LlmClient | None = None

    @classmethod
    def from_env(
        cls,
        engine: AsyncEngine,
        env: Mapping[str, str] | None = None,
        read_engine: AsyncEngine | None = None,
    ) -> LlmExtractor:
        config = LlmConfig.from_env(os.environ if env is None else env)
        return cls(config, SqlResponseCache(engine, read_engine))

    async def __aenter__(self) -> LlmExtractor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def chunks(self, pages: Sequence[PageText]) -> list[Chunk]:
        return chunk_pages(
            pages, max_chars=self.config.max_chunk_chars, context_chars=self.config.context_chars
        )

    def cost(self, usage: Mapping[str, int]) -> float | None:
        return estimate_cost(usage, self.config.model, self.config.prices)

    async def extract(self, chunk: Chunk) -> ChunkResult:
        key = cache_key(self.config.model, chunk)
        cached = await self._cached(key)
        if cached is not None:
            usage = {"requests": 0, "cached": 1, "prompt_tokens": 0, "completion_tokens": 0}
            return _result(chunk, cached, usage)
        stats = CallStats()
        reply = await self._ask(chunk, stats)
        await self.cache.put(
            key,
            self.config.model,
            reply.model_dump(mode="json"),
            stats.prompt_tokens,
            stats.completion_tokens,
        )
        return _result(chunk, reply, _usage(stats))

    async def _cached(self, key: str) -> SchoolsReply | None:
        entry = await self.cache.get(key)
        if entry is None:
            return None
        try:
            return SchoolsReply.model_validate(entry.reply)
        except ValidationError:
            return None  # an entry we can no longer read is just a miss

    async def _ask(self, chunk: Chunk, stats: CallStats) -> SchoolsReply:
        """Ask, re-ask once with the reason; if the reply is still unusable, start over
        with a fresh request (after a backoff), ``invalid_retries`` times: a model that
        slips now and then (small local ones do) mostly answers a fresh request well."""
        reason = ""
        raw: str | None = None
        for round_no in range(self.config.invalid_retries + 1):
            if round_no:
                await asyncio.sleep(self._backoff(round_no))
            try:
                return await self._ask_and_reask(chunk, stats)
            except ReplyInvalid as exc:
                reason, raw = exc.reason, exc.raw
        tries = self.config.invalid_retries + 1
        raise InvalidReplyError(
            f"chunk {chunk.index} on page {chunk.page}: the model's reply was not valid "
            f"JSON for the schema after a re-ask, {tries} times: {reason}",
            raw_reply=raw,
            usage=_usage(stats),
        )

    async def _ask_and_reask(self, chunk: Chunk, stats: CallStats) -> SchoolsReply:
        client = self._client_for_loop()
        messages = build_messages(chunk)
        first = await client.complete(messages, stats)
        try:
            return _validate(first)
        except ReplyInvalid as exc:
            reason = exc.reason
        echo = first.content if _echo_worthy(first) else None
        second = await client.complete(reask_messages(messages, echo, reason), stats)
        try:
            return _validate(second)
        except ReplyInvalid as exc:
            raise ReplyInvalid(exc.reason, raw=second.content) from exc

    def _backoff(self, round_no: int) -> float:
        c = self.config
        ceiling = min(c.backoff_max_s, c.backoff_initial_s * 2 ** (round_no - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _client_for_loop(self) -> LlmClient:
        # Created on first use so that constructing an extractor needs no running loop.
        if self._client is None:
            self._client = LlmClient(self.config, self.limiter)
        return self._client


def _validate(reply: ChatReply) -> SchoolsReply:
    if reply.finish_reason == "length":
        raise ReplyInvalid("the reply was truncated (it hit the length limit); be concise")
    return parse_reply(reply.content)


def _echo_worthy(reply: ChatReply) -> bool:
    content = reply.content or ""
    return reply.finish_reason != "length" and 0 < len(content) <= MAX_REPLY_IN_REASK


def _usage(stats: CallStats) -> dict[str, int]:
    return {
        "requests": stats.attempts,
        "cached": 0,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
    }


def _result(chunk: Chunk, reply: SchoolsReply, usage: dict[str, int]) -> ChunkResult:
    records, dropped = ground(chunk, reply)
    return ChunkResult(records=tuple(records), dropped=dropped, usage=usage)
