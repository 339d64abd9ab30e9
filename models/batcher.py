"""Group commit: many small writes from concurrently running tasks share one transaction.

A SQLite commit costs about a millisecond, and every statement sent through aiosqlite costs
a thread hop; with seven tasks each writing a checkpoint, an event and a progress update per
stage, one transaction per write caps the queue near 60 tasks/s here. So writes are plain
synchronous SQLAlchemy Core functions: callers submit one and await its result; the writer
runs every operation waiting at that moment in one transaction, in one dedicated thread with
a synchronous driver (pysqlite, psycopg): a single hop for the whole batch. It resolves them
all after the commit, so each caller still sees its write durable before it
goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from models.retrying import retry_locked

T = TypeVar("T")
Operation = Callable[[Connection], Any]


Hook = Callable[[Connection], None]
# Per-transaction scratch space in ``Connection.info``, emptied whatever the outcome, so
# nothing an operation buffered can leak into the next transaction on a pooled connection.
TXN_SCRATCH = "schoolx_txn"


class ThreadRunner:
    """One writer thread with a synchronous engine: one thread hop per batch."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="schoolx-writer")

    async def run(self, ops: list[Operation], before_commit: Hook) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _run_all, self._engine, ops, before_commit)

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._engine.dispose()


def _run_all(engine: Engine, ops: list[Operation], before_commit: Hook) -> list[Any]:
    with engine.begin() as conn:
        return _run_in(conn, ops, before_commit)


def _run_in(conn: Connection, ops: list[Operation], before_commit: Hook) -> list[Any]:
    conn.info[TXN_SCRATCH] = {}
    try:
        results = [op(conn) for op in ops]
        before_commit(conn)
        return results
    finally:
        conn.info.pop(TXN_SCRATCH, None)


def _nothing(_conn: Connection) -> None:
    return None


class WriteBatcher:
    def __init__(
        self, runner: ThreadRunner, *, before_commit: Hook = _nothing, max_batch: int = 256
    ) -> None:
        self._runner = runner
        self._before_commit = before_commit
        self._max_batch = max_batch
        self._pending: list[tuple[Operation, asyncio.Future[Any]]] = []
        self._pending_firsts = 0  # how many of _pending, at its head, are not ``last``
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None

    async def submit(self, op: Callable[[Connection], T], *, last: bool = False) -> T:
        """Run ``op`` in the next transaction. ``last`` ops run after the others of their
        transaction: a claim then sees the slots that the terminal writes beside it free,
        whichever was submitted first."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if last:
            self._pending.append((op, future))
        else:
            self._pending.insert(self._pending_firsts, (op, future))
            self._pending_firsts += 1
        self._ensure_running().set()
        return await future

    def _ensure_running(self) -> asyncio.Event:
        if self._loop_task is None or self._loop_task.done():
            self._wake = asyncio.Event()
            self._loop_task = asyncio.get_running_loop().create_task(self._serve())
        assert self._wake is not None
        return self._wake

    async def close(self) -> None:
        pending, self._pending = self._pending, []
        self._pending_firsts = 0
        for _op, fut in pending:
            if not fut.done():
                fut.set_exception(RuntimeError("the store was closed before this write ran"))
        if self._loop_task is not None and not self._loop_task.done():
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        self._loop_task = None
        await self._runner.close()

    async def _serve(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            await self._gather_stragglers()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                self._pending_firsts = max(0, self._pending_firsts - len(batch))
                await self._run_batch(batch)

    async def _gather_stragglers(self) -> None:
        """Let writers woken by the same event join this batch (a finished task's terminal
        write and the claim of the next task), without waiting on the clock."""
        seen = -1
        for _ in range(4):
            if len(self._pending) == seen:
                return
            seen = len(self._pending)
            await asyncio.sleep(0)

    async def _run_batch(self, batch: list[tuple[Operation, asyncio.Future[Any]]]) -> None:
        # A caller cancelled while waiting still gets its write: a terminal write or a claim
        # that is skipped would leave a task "processing" until its lease runs out.
        live = batch
        try:
            results = await retry_locked(
                lambda: self._runner.run([op for op, _ in live], self._before_commit)
            )
        except Exception:
            # One bad operation must not fail its neighbours: run each alone to isolate it.
            for op, fut in live:
                await self._run_alone(op, fut)
            return
        for (_, fut), result in zip(live, results, strict=True):
            if not fut.done():
                fut.set_result(result)

    async def _run_alone(self, op: Operation, fut: asyncio.Future[Any]) -> None:
        try:
            (result,) = await retry_locked(lambda: self._runner.run([op], self._before_commit))
        except Exception as exc:
            if not fut.done():
                fut.set_exception(exc)
        else:
            if not fut.done():
                fut.set_result(result)
