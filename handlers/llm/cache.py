"""Replies already paid for, keyed by hash(model, prompt version, schema, chunk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.tables import LlmCacheEntry
from pipeline.errors import StoreError


@dataclass(frozen=True)
class CachedReply:
    model: str
    reply: dict[str, Any]  # the validated reply, as JSON
    prompt_tokens: int
    completion_tokens: int


class ResponseCache(Protocol):
    async def get(self, key: str) -> CachedReply | None: ...

    async def put(
        self,
        key: str,
        model: str,
        reply_json: dict[str, Any],
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None: ...


class MemoryResponseCache:
    """For tests and one-off runs; first write wins, like the SQL cache."""

    def __init__(self) -> None:
        self.entries: dict[str, CachedReply] = {}

    async def get(self, key: str) -> CachedReply | None:
        return self.entries.get(key)

    async def put(
        self,
        key: str,
        model: str,
        reply_json: dict[str, Any],
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        self.entries.setdefault(
            key, CachedReply(model, reply_json, prompt_tokens, completion_tokens)
        )


class SqlResponseCache:
    """The ``llm_cache`` table. Concurrent writers of one key are fine: first one wins."""

    def __init__(self, engine: AsyncEngine, read_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        # On SQLite the write engine begins every transaction with BEGIN IMMEDIATE; lookups
        # go through the read engine so they never queue for the write lock.
        self.read_engine = read_engine or engine

    async def get(self, key: str) -> CachedReply | None:
        query = select(
            LlmCacheEntry.model,
            LlmCacheEntry.response,
            LlmCacheEntry.prompt_tokens,
            LlmCacheEntry.completion_tokens,
        ).where(LlmCacheEntry.key == key)
        try:
            async with self.read_engine.connect() as conn:
                row = (await conn.execute(query)).first()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the LLM cache failed: {exc}") from exc
        if row is None:
            return None
        return CachedReply(row.model, row.response, row.prompt_tokens, row.completion_tokens)

    async def put(
        self,
        key: str,
        model: str,
        reply_json: dict[str, Any],
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        values = {
            "key": key,
            "model": model,
            "response": reply_json,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(self._insert_ignore(values))
        except IntegrityError:
            pass  # generic dialects: someone else stored this key first
        except SQLAlchemyError as exc:
            raise StoreError(f"writing the LLM cache failed: {exc}") from exc

    def _insert_ignore(self, values: dict[str, Any]) -> Any:
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return sqlite.insert(LlmCacheEntry).values(values).on_conflict_do_nothing()
        if dialect == "postgresql":
            return postgresql.insert(LlmCacheEntry).values(values).on_conflict_do_nothing()
        return insert(LlmCacheEntry).values(values)
