"""A live worker keeps a lease it is renewing, however late the renewal; a dead or hung
worker's tasks are taken back. SQLite and PostgreSQL, real worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from models.base import utcnow
from models.tables import Task, Worker
from pipeline.store import EventType, TaskInfo, TaskStatus
from schoolx.app import App
from tests.integration.test_queue_processes import start_worker, worker_env
from tests.support.procs import stop_all


async def set_past(app: App, changes: list[tuple[Any, str, object]]) -> bool:
    """Move leases or heartbeats an hour into the past (time passes by editing rows),
    waiting at most 0.2 s for a lock: False if a stopped process holds one."""
    statements = [
        update(table).where(table.id == row_id).values({column: utcnow() - timedelta(hours=1)})
        for table, column, row_id in changes
    ]
    if app.db.dialect == "sqlite":
        return await asyncio.to_thread(_set_past_sqlite, app, statements)
    try:
        async with app.db.write.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            for statement in statements:
                await conn.execute(statement)
    except DBAPIError:
        return False
    return True


def _set_past_sqlite(app: App, statements: list[Any]) -> bool:
    engine = create_engine(
        make_url(app.db.url).set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": 0.2},
        poolclass=NullPool,
    )
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(statement)
    except OperationalError:
        return False
    finally:
        engine.dispose()
    return True


@contextlib.asynccontextmanager
async def stopped_and_aged(
    app: App, proc: subprocess.Popen[bytes], changes: list[tuple[Any, str, object]]
) -> AsyncIterator[None]:
    """Stop the process (it lives but does nothing, as one whose renewals wait behind a
    long transaction or a busy CPU) at a moment it holds no lock, then age the rows."""
    for _ in range(200):
        os.kill(proc.pid, signal.SIGSTOP)
        if await set_past(app, changes):
            break
        os.kill(proc.pid, signal.SIGCONT)  # stopped inside a transaction: try again
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("never caught the worker outside a transaction")
    try:
        yield
    finally:
        os.kill(proc.pid, signal.SIGCONT)


async def wait_running(app: App, task_id: int) -> TaskInfo:
    for _ in range(600):
        info = await app.queue.get(task_id)
        if info.status is TaskStatus.PROCESSING and info.owner:
            return info
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never started")


async def worker_running_task(
    app: App, db_url: str, tmp_path: Path, seconds: float, until: Path | None = None
) -> tuple[TaskInfo, subprocess.Popen[bytes]]:
    """A task of ``seconds`` (or until the file ``until`` exists), running in a worker
    process of its own (lease 30 s)."""
    payload: dict[str, Any] = {"seconds": seconds}
    if until is not None:
        payload["until"] = str(until)
    info = await app.queue.enqueue("sleep", payload, user_id="u")
    proc = start_worker(db_url, worker_env(tmp_path / "counter.txt", SCHOOLX_LEASE_S="30"))
    try:
        return await wait_running(app, info.id), proc
    except BaseException:
        stop_all([proc])
        raise


async def test_live_worker_keeps_its_lease_and_its_attempt(
    app: App, db_url: str, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    info, proc = await worker_running_task(app, db_url, tmp_path, 300, until=release)
    try:
        async with stopped_and_aged(app, proc, [(Task, "lease_expires_at", info.id)]):
            # Another process sweeps: the lease ran out, but its holder is alive. The task
            # runs until the file exists, so it is surely still running here.
            assert (await app.queue.get(info.id)).status is TaskStatus.PROCESSING
            assert await app.store.recover_expired() == []
        release.touch()
        done = await app.queue.wait(info.id)
    finally:
        stop_all([proc])
    assert done.status is TaskStatus.COMPLETED, done.error
    assert done.attempts == 1 and done.owner is None
    events = await app.store.events_since(0, task_id=info.id)
    assert [e.type for e in events if e.type is EventType.STARTED] == [EventType.STARTED]
    assert not [e for e in events if e.type is EventType.RETRYING]


async def test_hung_and_dead_workers_lose_their_tasks(
    app: App, db_url: str, tmp_path: Path
) -> None:
    hung, proc = await worker_running_task(app, db_url, tmp_path, 60)
    try:
        silent: list[tuple[Any, str, object]] = [
            (Task, "lease_expires_at", hung.id),
            (Worker, "heartbeat_at", hung.owner),
        ]
        async with stopped_and_aged(app, proc, silent):  # silent for an hour: hung
            assert await app.store.recover_expired() == [hung.id]
        assert (await app.queue.get(hung.id)).status is not TaskStatus.COMPLETED
        dead = await wait_running(app, hung.id)  # the same worker claims it again
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert await set_past(app, [(Task, "lease_expires_at", dead.id)])
        assert await app.store.recover_expired() == [dead.id]
    finally:
        stop_all([proc])
