"""LISTEN on PostgreSQL: one connection per process turns NOTIFY into local wake-ups."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any

import asyncpg

from models.db import psycopg_url
from models.liveness import HOST, LIVE_LOCK_CLASS, process_key
from models.queue_pg import NOTIFY_CHANNEL

log = logging.getLogger("schoolx.listen")


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    # A libpq-style DSN: asyncpg.connect reads ``sslmode`` there (not ``ssl``), like psycopg.
    url = psycopg_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgListener:
    """Calls ``on_note(payload)`` for every notification; polling covers any gap. Its
    connection also holds this process's liveness lock."""

    def __init__(self, sqlalchemy_url: str, on_note: Callable[[str], None]) -> None:
        self._dsn = asyncpg_dsn(sqlalchemy_url)
        self._on_note = on_note
        self._conn: Any = None

    async def start(self) -> None:
        try:
            self._conn = await asyncpg.connect(self._dsn, timeout=10)
            await self._conn.add_listener(NOTIFY_CHANNEL, self._callback)
            # Held while this connection lives: other processes see this one is alive
            # (models.liveness) and do not take its leases while its renewals are late.
            # Shared: several Apps of one process each hold it without waiting.
            await self._conn.execute(
                "SELECT pg_advisory_lock_shared($1, $2)",
                LIVE_LOCK_CLASS,
                process_key(HOST, os.getpid()),
            )
        except (OSError, asyncpg.PostgresError) as exc:
            # Without LISTEN the workers still poll: slower to react, never wrong.
            log.warning("LISTEN unavailable, polling only: %s", exc)
            self._conn = None

    def _callback(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_note(payload)

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=5)
            self._conn = None
