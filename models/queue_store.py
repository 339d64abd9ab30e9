"""The SQLAlchemy implementation of ``pipeline.store.QueueStore``: the shared base class.

``SqlQueueStore(db)`` makes the subclass for the database's dialect (``_dialect_class``,
the one place that chooses): ``models.queue_sqlite.SqliteQueueStore`` or
``models.queue_pg.PgQueueStore``. This class holds the SQL both run; a subclass supplies
what differs, in the hooks below: how the transaction's events are written (and, on
PostgreSQL, notified), the lease clock, how an admission is serialized, the claim, a
retry's due time, whether a lease holder's process is alive, and the step upsert. Reads
are in ``models.queue_reads``; the tables and shared statements in ``models.queue_sql``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Connection, and_, insert, or_, select, update

from models.base import utcnow
from models.batcher import TXN_SCRATCH, ThreadRunner, WriteBatcher
from models.db import Database
from models.migrate import ensure_schema
from models.queue_reads import QueueReads
from models.queue_sql import (
    EXPIRED,
    FORGET_SILENT_WORKERS,
    INSERT_TASK,
    LOCK_TASK,
    PENDING,
    PROCESSING,
    EventSink,
    Result,
    active_count,
    finished,
    is_sql,
    owned_update,
    take_back,
    task_info,
    tasks,
    user_lock_key,
    workers_t,
)
from models.retrying import storage_errors_translated
from pipeline.errors import ConflictError, NotFoundError, TaskLimitError
from pipeline.store import Claimed, EventInfo, EventType, Limits, TaskInfo, TaskStatus


class SqlQueueStore(QueueReads):
    # A step is written once; a replay after a lost commit must not fail on it.
    _insert_step: ClassVar[Any]  # INSERT ... ON CONFLICT DO NOTHING, in the dialect's form

    def __new__(cls, db: Database, on_events: EventSink | None = None) -> SqlQueueStore:
        return object.__new__(_dialect_class(db.dialect) if cls is SqlQueueStore else cls)

    def __init__(self, db: Database, on_events: EventSink | None = None) -> None:
        self.db = db
        runner = ThreadRunner(db.sync_write)
        self._batcher = WriteBatcher(runner, before_commit=self._write_events)
        self._on_events = on_events

    # --- what each dialect supplies -----------------------------------------------------

    def _write_events(self, conn: Connection) -> None:
        """Write the events ``_event`` buffered in this transaction, just before commit."""
        raise NotImplementedError

    def _notify(self, conn: Connection, note: str) -> None:
        """Tell other processes ``note`` when this transaction commits, where they listen."""
        raise NotImplementedError

    def _lease_clock(self, conn: Connection) -> datetime:
        """The time leases are set and judged by."""
        raise NotImplementedError

    def _serialize(self, conn: Connection, key: int) -> None:
        """Hold the lock named ``key`` until commit (an admission checks, then inserts)."""
        raise NotImplementedError

    def _claim(
        self, conn: Connection, worker_id: str, want: int, limits: Limits, lease_s: float
    ) -> Result:
        """Take up to ``want`` tasks within ``limits``, fairly, giving up on any out of
        attempts: the claim policy (``Claimed`` and the events it makes)."""
        raise NotImplementedError

    def _run_after(self, delay_s: float) -> Any:
        """When a requeued task is due, by the claim's clock: a value or a SQL expression
        (which may use the bound parameter ``delay_s``)."""
        raise NotImplementedError

    def _process_alive(self, conn: Connection, host: str, pid: int) -> bool:
        """Whether the worker process ``pid`` on ``host`` still runs."""
        raise NotImplementedError

    # --- plumbing -----------------------------------------------------------------------

    async def create_schema(self) -> None:
        async with storage_errors_translated():
            await ensure_schema(self.db)

    async def close(self) -> None:
        await self._batcher.close()

    async def _write(self, op: Callable[[Connection], Result], *, last: bool = False) -> Any:
        result, events = await self._batcher.submit(op, last=last)
        if events and self._on_events is not None:
            self._on_events(events)
        return result

    def _event(
        self,
        conn: Connection,
        task_id: int,
        user_id: str,
        kind: EventType,
        data: dict[str, Any] | None = None,
    ) -> EventInfo:
        # Buffered, and written with the batch's other events just before the commit (see
        # _write_events): same transaction, a fraction of the cost.
        now = utcnow()
        conn.info[TXN_SCRATCH].setdefault("events", []).append(
            {
                "task_id": task_id,
                "user_id": user_id,
                "type": kind.value,
                "data": data or {},
                "created_at": now,
            }
        )
        return EventInfo(0, task_id, user_id, kind, data or {}, now)

    def _started(self, conn: Connection, info: TaskInfo, worker_id: str) -> EventInfo:
        data = {"attempt": info.attempts, "worker": worker_id}
        return self._event(conn, info.id, info.user_id, EventType.STARTED, data)

    # --- producers ----------------------------------------------------------------------

    async def enqueue(
        self,
        type: str,
        user_id: str,
        payload: dict[str, Any],
        *,
        max_attempts: int,
        max_active_per_user: int,
    ) -> TaskInfo:
        def op(conn: Connection) -> Result:
            self._serialize(conn, user_lock_key(user_id))
            active = active_count(conn, user_id)
            if active >= max_active_per_user:
                return TaskLimitError(user_id, max_active_per_user, active), []
            now = utcnow()
            row = conn.execute(
                INSERT_TASK,
                {
                    "type": type,
                    "user_id": user_id,
                    "payload": payload,
                    "status": PENDING,
                    "max_attempts": max_attempts,
                    "created_at": now,
                    "progress": 0,
                    "attempts": 0,
                    "cancel_requested": False,
                },
            )
            info = task_info(row.one())
            event = self._event(conn, info.id, user_id, EventType.QUEUED, {"type": type})
            return info, [event]

        result = await self._write(op)
        if isinstance(result, TaskLimitError):
            raise result
        return result  # type: ignore[no-any-return]

    async def request_cancel(self, task_id: int) -> TaskStatus:
        def op(conn: Connection) -> Result:
            row = conn.execute(LOCK_TASK, {"task_id": task_id}).one_or_none()
            if row is None:
                return None, []
            status = TaskStatus(row.status)
            if status is TaskStatus.PENDING:
                conn.execute(
                    update(tasks)
                    .where(tasks.c.id == task_id, tasks.c.status == PENDING)
                    .values(
                        status=TaskStatus.CANCELLED.value,
                        completed_at=utcnow(),
                        cancel_requested=True,
                        error="cancelled before it started",
                    )
                )
                ev = self._event(conn, task_id, row.user_id, EventType.CANCELLED, {})
                return TaskStatus.CANCELLED, [ev]
            if status is TaskStatus.PROCESSING:
                conn.execute(
                    update(tasks).where(tasks.c.id == task_id).values(cancel_requested=True)
                )
                self._notify(conn, f"cancel:{task_id}")
            return status, []

        status = await self._write(op)
        if status is None:
            raise NotFoundError(f"no task {task_id}")
        return status  # type: ignore[no-any-return]

    async def retry(self, task_id: int, *, max_active_per_user: int) -> TaskInfo:
        def op(conn: Connection) -> Result:
            row = conn.execute(LOCK_TASK, {"task_id": task_id}).one_or_none()
            if row is None:
                return NotFoundError(f"no task {task_id}"), []
            if row.status not in (TaskStatus.FAILED.value, TaskStatus.CANCELLED.value):
                return ConflictError(
                    f"task {task_id} is {row.status}; only failed or cancelled tasks can be retried"
                ), []
            self._serialize(conn, user_lock_key(row.user_id))
            active = active_count(conn, row.user_id)
            if active >= max_active_per_user:
                return TaskLimitError(row.user_id, max_active_per_user, active), []
            new = conn.execute(
                update(tasks)
                .where(tasks.c.id == task_id, tasks.c.status == row.status)
                .values(
                    status=PENDING,
                    attempts=0,
                    error=None,
                    cancel_requested=False,
                    run_after=None,
                    completed_at=None,
                    owner=None,
                    lease_expires_at=None,
                )
                .returning(*tasks.c)
            )
            ev = self._event(conn, task_id, row.user_id, EventType.QUEUED, {"retry": True})
            return task_info(new.one()), [ev]

        result = await self._write(op)
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[no-any-return]

    # --- workers ------------------------------------------------------------------------

    async def register_worker(self, worker_id: str, host: str, pid: int) -> None:
        def op(conn: Connection) -> Result:
            now = utcnow()
            conn.execute(
                insert(workers_t).values(
                    id=worker_id, host=host, pid=pid, started_at=now, heartbeat_at=now
                )
            )
            return None, []

        await self._write(op)

    async def unregister_worker(self, worker_id: str) -> None:
        def op(conn: Connection) -> Result:
            conn.execute(workers_t.delete().where(workers_t.c.id == worker_id))
            return None, []

        await self._write(op)

    async def claim(self, worker_id: str, want: int, limits: Limits, lease_s: float) -> Claimed:
        def op(conn: Connection) -> Result:
            return self._claim(conn, worker_id, want, limits, lease_s)

        # After the other writes of its transaction: the slots they free are free to it.
        result: Claimed = await self._write(op, last=True)
        return result

    async def heartbeat(self, worker_id: str, task_ids: Sequence[int], lease_s: float) -> set[int]:
        def op(conn: Connection) -> Result:
            now = self._lease_clock(conn)
            conn.execute(
                update(workers_t).where(workers_t.c.id == worker_id).values(heartbeat_at=now)
            )
            if not task_ids:
                return set(), []
            mine = and_(
                tasks.c.id.in_(list(task_ids)),
                tasks.c.owner == worker_id,
                tasks.c.status == PROCESSING,
            )
            conn.execute(
                update(tasks).where(mine).values(lease_expires_at=now + timedelta(seconds=lease_s))
            )
            rows = conn.execute(
                select(tasks.c.id).where(
                    tasks.c.id.in_(list(task_ids)),
                    or_(
                        tasks.c.cancel_requested.is_(True),
                        tasks.c.owner != worker_id,
                        tasks.c.status != PROCESSING,
                    ),
                )
            )
            return {r.id for r in rows}, []

        result: set[int] = await self._write(op)
        return result

    # --- a task's owner reports ---------------------------------------------------------

    async def save_step(
        self, task_id: int, owner: str, name: str, output: Any, progress: int | None
    ) -> bool:
        def store_step(conn: Connection) -> None:
            conn.execute(
                self._insert_step,
                {"task_id": task_id, "name": name, "output": output, "created_at": utcnow()},
            )

        values: dict[str, Any] = {"stage": name}
        data: dict[str, Any] = {"stage": name}
        if progress is not None:
            values["progress"] = progress
            data["progress"] = progress
        kind = EventType.PROGRESS if progress is not None else None
        return await self._owned_update(task_id, owner, values, kind, data, before=store_step)

    async def update_progress(
        self, task_id: int, owner: str, progress: int, message: str | None
    ) -> bool:
        data: dict[str, Any] = {"progress": progress}
        if message:
            data["message"] = message
        return await self._owned_update(
            task_id, owner, {"progress": progress}, EventType.PROGRESS, data
        )

    async def complete(self, task_id: int, owner: str, result: Any) -> bool:
        values = finished(TaskStatus.COMPLETED) | {"result": result, "progress": 100, "error": None}
        return await self._owned_update(
            task_id, owner, values, EventType.COMPLETED, {"result": result}
        )

    async def fail(self, task_id: int, owner: str, error: str) -> bool:
        values = finished(TaskStatus.FAILED) | {"error": error}
        return await self._owned_update(task_id, owner, values, EventType.FAILED, {"error": error})

    async def cancelled(self, task_id: int, owner: str, reason: str) -> bool:
        values = finished(TaskStatus.CANCELLED) | {"error": reason}
        return await self._owned_update(
            task_id, owner, values, EventType.CANCELLED, {"reason": reason}
        )

    async def requeue(self, task_id: int, owner: str, error: str, delay_s: float) -> bool:
        values = {
            "status": PENDING,
            "owner": None,
            "lease_expires_at": None,
            "error": error,
            "run_after": self._run_after(delay_s),
        }
        return await self._owned_update(
            task_id,
            owner,
            values,
            EventType.RETRYING,
            {"error": error, "delay_s": round(delay_s, 3)},
            params={"delay_s": delay_s},
        )

    async def release(self, task_id: int, owner: str) -> bool:
        values = {
            "status": PENDING,
            "owner": None,
            "lease_expires_at": None,
            "attempts": tasks.c.attempts - 1,
        }
        return await self._owned_update(
            task_id, owner, values, EventType.RETRYING, {"reason": "worker shut down"}
        )

    async def _owned_update(
        self,
        task_id: int,
        owner: str,
        values: dict[str, Any],
        kind: EventType | None,
        data: dict[str, Any] | None = None,
        before: Callable[[Connection], Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> bool:
        """``params`` binds the parameters of SQL expressions among ``values``."""
        statement = owned_update(values)
        bound = {"_tid": task_id, "_owner": owner, **(params or {})}
        bound.update({f"v_{k}": v for k, v in values.items() if not is_sql(v)})

        def op(conn: Connection) -> Result:
            user_id = conn.execute(statement, bound).scalar_one_or_none()
            if user_id is None:
                return False, []
            if before is not None:
                before(conn)
            if kind is None:
                return True, []
            return True, [self._event(conn, task_id, user_id, kind, data)]

        result: bool = await self._write(op)
        return result

    # --- expired leases -----------------------------------------------------------------

    async def recover_expired(self, *, silent_worker_s: float = 300.0) -> list[int]:
        def op(conn: Connection) -> Result:
            now = self._lease_clock(conn)
            silent_since = now - timedelta(seconds=silent_worker_s)
            events = []
            recovered: list[int] = []
            for r in list(conn.execute(EXPIRED, {"now": now})):
                if not r.cancel_requested and self._owner_alive(conn, r, silent_since):
                    continue  # late renewals of a live worker: its lease stands
                taken = take_back(conn, r, now)
                if taken is not None:
                    recovered.append(r.id)
                    events.append(self._event(conn, r.id, r.user_id, *taken))
            conn.execute(FORGET_SILENT_WORKERS, {"before": silent_since})
            return recovered, events

        result: list[int] = await self._write(op)
        return result

    def _owner_alive(self, conn: Connection, row: Any, silent_since: datetime) -> bool:
        """Whether the lease holder still runs (see ``models.liveness``); an unknown worker
        or one silent since ``silent_since`` counts as gone."""
        if row.host is None or row.heartbeat_at is None or row.heartbeat_at < silent_since:
            return False
        return self._process_alive(conn, row.host, row.pid)


def _dialect_class(dialect: str) -> type[SqlQueueStore]:
    # Imported here, not above: each dialect's module subclasses SqlQueueStore. Only the
    # one in use: the PostgreSQL dialect alone takes a tenth of a second to import.
    if dialect == "sqlite":
        from models.queue_sqlite import SqliteQueueStore

        return SqliteQueueStore
    if dialect == "postgresql":
        from models.queue_pg import PgQueueStore

        return PgQueueStore
    raise ValueError(f"no queue store for the {dialect} dialect")
