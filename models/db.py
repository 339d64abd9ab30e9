"""Engines from a URL as users write it; SQLite tuned for several processes on one file."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pipeline.errors import ConfigError

SQLITE_BUSY_TIMEOUT_S = 60.0
T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Accept ``sqlite:///x.db`` and ``postgresql://`` (or ``postgres://``) URLs as written."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:///file.db or postgresql://")


def default_url(home: str | None = None) -> str:
    home_dir = Path(home or os.environ.get("SCHOOLX_HOME") or "schoolx-data")
    home_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(home_dir / 'schoolx.db').resolve()}"


@dataclass(frozen=True)
class Database:
    """A write engine and a read engine (the same object on PostgreSQL).

    On SQLite there is also ``sync_write``: the queue's group-commit writer runs whole
    batches on it in one thread (see ``models.batcher``).
    """

    url: str
    write: AsyncEngine
    read: AsyncEngine
    sync_write: Engine | None = None

    @property
    def dialect(self) -> str:
        return self.write.dialect.name

    async def dispose(self) -> None:
        await self.write.dispose()
        if self.read is not self.write:
            await self.read.dispose()
        if self.sync_write is not None:
            self.sync_write.dispose()


def run_sync_transaction(db: Database, fn: Callable[[Connection], T]) -> Awaitable[T]:
    """Run ``fn`` in one write transaction with a synchronous connection.

    For many small statements in a row: on SQLite the whole function runs in a thread on
    the synchronous engine (aiosqlite would hop threads for every statement); on PostgreSQL
    it runs through the async engine's ``run_sync``.
    """
    if db.sync_write is not None:
        engine = db.sync_write

        def work() -> T:
            with engine.begin() as conn:
                return fn(conn)

        return asyncio.to_thread(work)
    return _run_async(db, fn)


async def _run_async(db: Database, fn: Callable[[Connection], T]) -> T:
    async with db.write.begin() as conn:
        return await conn.run_sync(fn)


def open_database(url: str) -> Database:
    full = normalize_url(url)
    if full.startswith("sqlite"):
        return _open_sqlite(full)
    # No pre-ping: it costs a round trip per transaction on the claim path; a dropped
    # connection is invalidated and the transaction retried (models.retrying).
    engine = create_async_engine(full, pool_size=10, max_overflow=10)
    return Database(full, engine, engine)


def _open_sqlite(url: str) -> Database:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    write = create_async_engine(url, connect_args=connect_args)
    read = create_async_engine(url, connect_args=connect_args)
    sync_write = create_engine(
        str(make_url(url).set(drivername="sqlite+pysqlite")), connect_args=connect_args
    )
    _tune(write.sync_engine, begin="BEGIN IMMEDIATE")
    _tune(read.sync_engine, begin="BEGIN")
    _tune(sync_write, begin="BEGIN IMMEDIATE")
    return Database(url, write, read, sync_write)


def _tune(engine: Engine, *, begin: str) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock up
    # front; we emit BEGIN ourselves so writers queue on the busy timeout instead of failing
    # with "database is locked" on lock upgrade.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
