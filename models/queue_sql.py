"""What every dialect of the queue store shares: its tables, row mapping and statements.

The store itself is ``models.queue_store`` (the base class) with one subclass per database,
``models.queue_sqlite`` and ``models.queue_pg``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, func, insert, select, update
from sqlalchemy.sql.elements import ClauseElement

from models.base import utcnow
from models.tables import Task, TaskEvent, TaskStep, Worker
from pipeline.store import EventInfo, EventType, TaskInfo, TaskStatus

tasks = cast(Table, Task.__table__)
steps_t = cast(Table, TaskStep.__table__)
events_t = cast(Table, TaskEvent.__table__)
workers_t = cast(Table, Worker.__table__)

PROCESSING = TaskStatus.PROCESSING.value
PENDING = TaskStatus.PENDING.value

EventSink = Callable[[list[EventInfo]], None]
# What a write operation returns: its result and the events it made.
Result = tuple[Any, list[EventInfo]]

INSERT_TASK = insert(tasks).returning(*tasks.c)
CANCELLED_UNCONFIRMED = "cancelled by request (its worker stopped before confirming)"
# Processing tasks whose lease ran out, with what is known of the worker holding it.
EXPIRED = (
    select(
        tasks.c.id,
        tasks.c.user_id,
        tasks.c.cancel_requested,
        tasks.c.owner,
        workers_t.c.host,
        workers_t.c.pid,
        workers_t.c.heartbeat_at,
    )
    .select_from(tasks.outerjoin(workers_t, workers_t.c.id == tasks.c.owner))
    .where(tasks.c.status == PROCESSING, tasks.c.lease_expires_at < bindparam("now"))
)
# Rows of workers silent for long (stopped without unregistering, killed) and holding
# nothing: they would only grow the table.
FORGET_SILENT_WORKERS = workers_t.delete().where(
    workers_t.c.heartbeat_at < bindparam("before"),
    ~select(tasks.c.id)
    .where(tasks.c.owner == workers_t.c.id, tasks.c.status == PROCESSING)
    .exists(),
)
# Read a task to change it by request (cancel, retry): on PostgreSQL the row stays locked
# until commit, so a claim cannot take it in between (it skips locked rows).
LOCK_TASK = select(tasks).where(tasks.c.id == bindparam("task_id")).with_for_update()
_ACTIVE_COUNT = select(func.count()).where(
    tasks.c.user_id == bindparam("user_id"), tasks.c.status.in_([PENDING, PROCESSING])
)


def active_count(conn: Connection, user_id: str) -> int:
    return int(conn.execute(_ACTIVE_COUNT, {"user_id": user_id}).scalar_one())


def user_lock_key(user_id: str) -> int:
    # Advisory lock keys are 64-bit ints; crc32 spreads users over them deterministically.
    return zlib.crc32(user_id.encode()) + 1_000_000


def is_sql(value: Any) -> bool:
    return isinstance(value, ClauseElement)


def owned_update(values: dict[str, Any]) -> Any:
    """An UPDATE of a task guarded by its owner and status, built once per set of columns.

    Building a Core statement costs several times more than running it on SQLite, and
    these run a few times per task, so they are cached with bound parameters: ``_tid``,
    ``_owner``, ``v_<column>`` for each value that is not SQL, and those of the SQL ones.
    """
    key = tuple(sorted(k if not is_sql(v) else f"{k}={v}" for k, v in values.items()))
    statement = _OWNED_UPDATES.get(key)
    if statement is None:
        assignments = {k: v if is_sql(v) else bindparam(f"v_{k}") for k, v in values.items()}
        statement = (
            update(tasks)
            .where(
                tasks.c.id == bindparam("_tid"),
                tasks.c.owner == bindparam("_owner"),
                tasks.c.status == PROCESSING,
            )
            .values(assignments)
            .returning(tasks.c.user_id)
        )
        _OWNED_UPDATES[key] = statement
    return statement


_OWNED_UPDATES: dict[tuple[str, ...], Any] = {}


def finished(status: TaskStatus) -> dict[str, Any]:
    return {
        "status": status.value,
        "completed_at": utcnow(),
        "owner": None,
        "lease_expires_at": None,
    }


def take_back(conn: Connection, row: Any, now: datetime) -> tuple[EventType, dict[str, Any]] | None:
    """Return a task whose lease expired (an ``EXPIRED`` row) to the queue, or end it if
    its cancel was never confirmed; the event to record, or None if it was not taken."""
    cancel = bool(row.cancel_requested)
    values = (
        finished(TaskStatus.CANCELLED) | {"error": CANCELLED_UNCONFIRMED}
        if cancel
        else {"status": PENDING, "owner": None, "lease_expires_at": None}
    )
    # The lease test is repeated in the UPDATE: on PostgreSQL a heartbeat may commit
    # between the SELECT and here, and that task must stay its owner's.
    taken = conn.execute(
        update(tasks)
        .where(
            tasks.c.id == row.id,
            tasks.c.status == PROCESSING,
            tasks.c.owner == row.owner,
            tasks.c.lease_expires_at < now,
        )
        .values(values)
    )
    if taken.rowcount != 1:
        return None
    if cancel:
        return EventType.CANCELLED, {"reason": CANCELLED_UNCONFIRMED}
    return EventType.RETRYING, {"reason": f"lease of {row.owner} expired"}


def task_info(row: Row[Any]) -> TaskInfo:
    return TaskInfo(
        id=row.id,
        type=row.type,
        status=TaskStatus(row.status),
        user_id=row.user_id,
        payload=row.payload or {},
        result=row.result,
        error=row.error,
        progress=row.progress,
        stage=row.stage,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        owner=row.owner,
        lease_expires_at=row.lease_expires_at,
        run_after=row.run_after,
        cancel_requested=bool(row.cancel_requested),
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
    )
