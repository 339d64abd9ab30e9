"""Engines from a URL as users write it; SQLite tuned for several processes on one file."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pipeline.errors import ConfigError, NotFoundError

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
        asyncpg_url = _with_ssl_option(parsed, "ssl").set(drivername="postgresql+asyncpg")
        return asyncpg_url.render_as_string(hide_password=False)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:///file.db or postgresql://")


# Options only asyncpg understands; psycopg (libpq) refuses unknown ones.
_ASYNCPG_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")
_SSL_BOOL = {"true": "require", "false": "disable"}


def _with_ssl_option(url: URL, name: str) -> URL:
    """TLS mode under the name the driver takes: ``ssl`` for asyncpg, ``sslmode`` for
    libpq/psycopg. Users write either (libpq's ``sslmode`` is the habit); the values
    (disable … verify-full) mean the same to both."""
    query = dict(url.query)
    mode = query.pop("sslmode", None) or query.pop("ssl", None)
    if isinstance(mode, str):
        query[name] = _SSL_BOOL.get(mode.lower(), mode) if name == "sslmode" else mode
    return url.set(query=query)


def psycopg_url(url: str) -> URL:
    """The same PostgreSQL database for psycopg, from a normalized (asyncpg) URL."""
    parsed = _with_ssl_option(make_url(url), "sslmode")
    query = {k: v for k, v in parsed.query.items() if k not in _ASYNCPG_ONLY}
    return parsed.set(drivername="postgresql+psycopg", query=query)


def upsert(dialect: str) -> Callable[[Any], Any]:
    """The dialect's ``insert`` (the one with ``on_conflict_do_*``). Imported on use: the
    PostgreSQL dialect alone takes longer to import than a SQLite command's whole work."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def default_url(home: str | None = None) -> str:
    home_dir = Path(home or os.environ.get("SCHOOLX_HOME") or "schoolx-data")
    return f"sqlite:///{(home_dir / 'schoolx.db').resolve()}"


def require_database(url: str) -> None:
    """Commands that only read or change what exists must not create an empty database
    (a mistyped path would then answer "no tasks"): a SQLite file that is not there is
    an error naming it."""
    parsed = make_url(normalize_url(url))
    path = parsed.database
    is_file = parsed.get_backend_name() == "sqlite" and path and path != ":memory:"
    if is_file and not Path(str(path)).is_file():
        raise NotFoundError(f"no database at {path}")


@dataclass(frozen=True)
class Database:
    """A write engine and a read engine (the same object on PostgreSQL), and
    ``sync_write``, a synchronous engine on the same database: the queue's group-commit
    writer runs whole batches on it in one thread (see ``models.batcher``), and so do
    long runs of small statements (``run_sync_transaction``). A batch's statements then
    cost no event-loop turn each: on PostgreSQL that took a finished task's write and the
    next claim from ~4.4 ms to ~3.2 ms, and several workers from 0.91 to 0.92 of the
    limits' bound (``bench.scale``).
    """

    url: str
    write: AsyncEngine
    read: AsyncEngine
    sync_write: Engine
    # SQLite only (None on PostgreSQL): the synchronous engines ``run_read`` uses, in a
    # thread and on the event loop; the second gives up on a lock at once (see run_read).
    sync_read: Engine | None = None
    inline_read: Engine | None = None
    # PostgreSQL only: ``read`` in autocommit mode, for ``run_read(inline=True)``.
    autocommit_read: AsyncEngine | None = None

    @property
    def dialect(self) -> str:
        return self.write.dialect.name

    async def dispose(self) -> None:
        await self.write.dispose()
        if self.read is not self.write:
            await self.read.dispose()
        self.sync_write.dispose()
        if self.sync_read is not None:
            self.sync_read.dispose()
        if self.inline_read is not None:
            self.inline_read.dispose()


def run_sync_transaction(db: Database, fn: Callable[[Connection], T]) -> Awaitable[T]:
    """Run ``fn`` in one write transaction with a synchronous connection.

    For many small statements in a row: the whole function runs in a thread on the
    synchronous engine, one thread hop instead of one event-loop turn per statement.
    """

    def work() -> T:
        with db.sync_write.begin() as conn:
            return fn(conn)

    return asyncio.to_thread(work)


async def run_read(db: Database, fn: Callable[[Connection], T], *, inline: bool = False) -> T:
    """Run ``fn`` with a read connection (no transaction is left open); ``fn`` only reads,
    so running it twice is harmless.

    On SQLite, on a synchronous engine: aiosqlite hops to its thread and back for each
    connect, BEGIN, execute, fetch, cursor close and rollback, and those hops were most of
    the cost of an API read under concurrent clients. Whole in one hop to a thread, so the
    event loop stays free while SQLite works; or, with ``inline``, on the loop's own thread,
    for reads an index bounds to a few milliseconds (a row by key, a first page): there the
    hop and the GIL contention with the thread cost more than the read (docs/architecture.md,
    "Where a read runs"). A WAL reader rarely meets a lock (recovery after a killed writer,
    a checkpoint), but waiting for one on the loop would stall every request: the inline
    engine gives up at once and the read waits in a thread instead.
    On PostgreSQL, asyncpg needs no thread: ``fn`` runs on the async engine.
    """
    sync_read, inline_read = db.sync_read, db.inline_read
    if sync_read is None:
        # A bounded read needs no transaction of its own: without one it saves asyncpg's
        # BEGIN and ROLLBACK, two of a token check's three round trips (the count and the
        # page of a list may then see the database a moment apart).
        engine = db.autocommit_read if inline and db.autocommit_read is not None else db.read
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    if inline and inline_read is not None:
        try:
            with inline_read.connect() as here:
                return fn(here)
        except OperationalError as exc:
            if "database is locked" not in str(exc).lower():
                raise

    def work() -> T:
        with sync_read.connect() as conn:
            return fn(conn)

    return await asyncio.to_thread(work)


def open_database(url: str) -> Database:
    full = normalize_url(url)
    if full.startswith("sqlite"):
        return _open_sqlite(full)
    # No pre-ping: it costs a round trip per transaction on the claim path; a dropped
    # connection is invalidated and the transaction retried (models.retrying).
    engine = create_async_engine(full, pool_size=10, max_overflow=10, json_deserializer=read_json)
    # The writer thread's engine (see Database): psycopg, a synchronous driver, because
    # statements run through asyncpg from a thread would each hop back to the event loop.
    # No overflow cap: besides the writer thread, every running task's save holds a
    # connection here while it waits for the save lock, so a cap below the worker's
    # capacity could starve the writer (heartbeats, claims) of connections.
    sync_write = create_engine(psycopg_url(full), pool_size=4, max_overflow=-1)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return Database(full, engine, engine, sync_write, autocommit_read=autocommit)


def read_json(text: str) -> Any:
    """``json.loads``, skipped for the empty object and list that most schools hold
    (identifiers, locked fields): a page of 50 schools decodes 100 of them."""
    if text == "{}":
        return {}
    if text == "[]":
        return []
    return json.loads(text)


def _open_sqlite(url: str) -> Database:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S},
        "json_deserializer": read_json,
    }
    write = create_async_engine(url, **options)
    read = create_async_engine(url, **options)
    sync_url = str(make_url(url).set(drivername="sqlite+pysqlite"))
    sync_write = create_engine(sync_url, **options)
    sync_read = create_engine(sync_url, **options)
    _tune(write.sync_engine, begin="BEGIN IMMEDIATE")
    _tune(read.sync_engine, begin="BEGIN")
    _tune(sync_write, begin="BEGIN IMMEDIATE")
    _tune(sync_read, begin="BEGIN")
    inline_options = options | {"connect_args": {"timeout": 0}}
    inline_read = create_engine(sync_url, **inline_options)
    _tune(inline_read, begin="BEGIN", busy_timeout_s=0)
    return Database(url, write, read, sync_write, sync_read, inline_read)


def _tune(engine: Engine, *, begin: str, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock up
    # front; we emit BEGIN ourselves so writers queue on the busy timeout instead of failing
    # with "database is locked" on lock upgrade.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
