"""The SQLAlchemy implementation of ``pipeline.store.QueueStore`` for SQLite and PostgreSQL.

Dialect differences: how a claim or an admission is serialized (SQLite: ``BEGIN
IMMEDIATE`` already holds the single write lock; PostgreSQL: a transaction-level advisory
lock), and the two hottest steps on PostgreSQL, the claim and writing a transaction's events,
run as server-side functions (migration 0004) so that each is one round trip, not five and
three; the claim function locks rows with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Float,
    Row,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ClauseElement

from models.base import utcnow
from models.batcher import TXN_SCRATCH, ThreadRunner, WriteBatcher
from models.db import Database
from models.liveness import HOST, LIVE_LOCK_CLASS, process_alive, process_key
from models.migrate import ensure_schema
from models.retrying import retry_locked, storage_errors_translated
from models.tables import Task, TaskEvent, TaskStep, Worker
from pipeline.errors import ConflictError, NotFoundError, TaskLimitError
from pipeline.store import (
    Claimed,
    EventInfo,
    EventType,
    Limits,
    TaskInfo,
    TaskStatus,
)

tasks = cast(Table, Task.__table__)
steps_t = cast(Table, TaskStep.__table__)
events_t = cast(Table, TaskEvent.__table__)
workers_t = cast(Table, Worker.__table__)

PROCESSING = TaskStatus.PROCESSING.value
PENDING = TaskStatus.PENDING.value
CLAIM_LOCK_KEY = 0x5C0011  # any constant: one advisory lock serializes all claims

EventSink = Callable[[list[EventInfo]], None]
Result = tuple[Any, list[EventInfo]]


class SqlQueueStore:
    def __init__(self, db: Database, on_events: EventSink | None = None) -> None:
        self.db = db
        runner = ThreadRunner(db.sync_write)
        self._pg = db.dialect == "postgresql"
        self._batcher = WriteBatcher(runner, before_commit=self._before_commit)
        self._on_events = on_events
        upsert = postgresql.insert if self._pg else sqlite.insert
        self._insert_step = upsert(steps_t).on_conflict_do_nothing()
        self._statements: dict[tuple[str, ...], Any] = {}

    def _before_commit(self, conn: Connection) -> None:
        if self._pg:
            self._emit_pg(conn)
        else:
            _flush_events(conn)

    def _emit_pg(self, conn: Connection) -> None:
        """The transaction's events and notifications in one round trip (``schoolx_emit``).

        Notifications are delivered at commit to every process LISTENing: idle workers wake
        up to claim, progress views on other machines see the events, cancels arrive at once.
        """
        scratch = conn.info[TXN_SCRATCH]
        buffered: list[dict[str, Any]] = scratch.pop("events", None) or []
        notes: list[str] = scratch.pop("notify", [])
        if buffered:
            types = {e["type"] for e in buffered}
            notes.append("work" if types & _NEW_WORK else "events")
        if not notes:
            return
        conn.execute(
            _PG_EMIT,
            {
                "lock_key": EVENTS_LOCK_KEY,
                "channel": NOTIFY_CHANNEL,
                "task_ids": [e["task_id"] for e in buffered],
                "user_ids": [e["user_id"] for e in buffered],
                "types": [e["type"] for e in buffered],
                "data": [json.dumps(e["data"]) for e in buffered],
                "created": [e["created_at"] for e in buffered],
                "notes": list(dict.fromkeys(notes)),
            },
        )

    def _lease_clock(self, conn: Connection) -> datetime:
        """The time leases are set and judged by. On PostgreSQL it is the database's clock,
        so workers on machines whose clocks disagree still agree on who holds a lease."""
        if self._pg:
            value: datetime = conn.execute(_PG_NOW).scalar_one()
            return value
        return utcnow()

    def _notify(self, conn: Connection, note: str) -> None:
        conn.info[TXN_SCRATCH].setdefault("notify", []).append(note)

    async def create_schema(self) -> None:
        async with storage_errors_translated():
            await ensure_schema(self.db)

    async def close(self) -> None:
        await self._batcher.close()

    # --- plumbing ---------------------------------------------------------------------

    async def _write(self, op: Callable[[Connection], Result], *, last: bool = False) -> Any:
        result, events = await self._batcher.submit(op, last=last)
        if events and self._on_events is not None:
            self._on_events(events)
        return result

    async def _read(self, op: Callable[[Connection], Any]) -> Any:
        async def run() -> Any:
            async with self.db.read.connect() as conn:
                return await conn.run_sync(op)

        return await retry_locked(run)

    def _serialize(self, conn: Connection, key: int) -> None:
        if self._pg:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def _event(
        self,
        conn: Connection,
        task_id: int,
        user_id: str,
        kind: EventType,
        data: dict[str, Any] | None = None,
    ) -> EventInfo:
        # Buffered, and written with the batch's other events in one multi-row INSERT just
        # before the commit (see _flush_events): same transaction, a fraction of the cost.
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

    # --- producers --------------------------------------------------------------------

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
            self._serialize(conn, _user_key(user_id))
            active = _active_count(conn, user_id)
            if active >= max_active_per_user:
                return TaskLimitError(user_id, max_active_per_user, active), []
            now = utcnow()
            row = conn.execute(
                _INSERT_TASK,
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
            info = _task_info(row.one())
            event = self._event(conn, info.id, user_id, EventType.QUEUED, {"type": type})
            return info, [event]

        result = await self._write(op)
        if isinstance(result, TaskLimitError):
            raise result
        return result  # type: ignore[no-any-return]

    async def request_cancel(self, task_id: int) -> TaskStatus:
        def op(conn: Connection) -> Result:
            row = conn.execute(_LOCK_TASK, {"task_id": task_id}).one_or_none()
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
            row = conn.execute(_LOCK_TASK, {"task_id": task_id}).one_or_none()
            if row is None:
                return NotFoundError(f"no task {task_id}"), []
            if row.status not in (TaskStatus.FAILED.value, TaskStatus.CANCELLED.value):
                return ConflictError(
                    f"task {task_id} is {row.status}; only failed or cancelled tasks can be retried"
                ), []
            self._serialize(conn, _user_key(row.user_id))
            active = _active_count(conn, row.user_id)
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
            return _task_info(new.one()), [ev]

        result = await self._write(op)
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[no-any-return]

    # --- workers ----------------------------------------------------------------------

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

    async def claim(self, worker_id: str, want: int, limits: Limits, lease_s: float) -> Claimed:
        def op(conn: Connection) -> Result:
            return self._claim(conn, worker_id, want, limits, lease_s)

        # After the other writes of its transaction: the slots they free are free to it.
        result: Claimed = await self._write(op, last=True)
        return result

    def _claim(
        self, conn: Connection, worker_id: str, want: int, limits: Limits, lease_s: float
    ) -> Result:
        if self._pg:
            return self._claim_pg(conn, worker_id, want, limits, lease_s)
        running = _running_per_user(conn)
        free = min(want, limits.max_processing - sum(running.values()))
        if free <= 0:
            return Claimed(()), []
        now = self._lease_clock(conn)
        candidates = self._candidates(conn, limits.max_processing_per_user, now)
        # Fairness: a user with fewer tasks running goes first, then oldest task first.
        # The PostgreSQL function schoolx_claim (migration 0004) runs this same policy.
        candidates.sort(key=lambda c: (running.get(c.user_id, 0) + c.rn, c.id))
        chosen: list[int] = []
        gave_up: list[int] = []
        events: list[EventInfo] = []
        for cand in candidates:
            if len(chosen) >= free:
                break
            if running.get(cand.user_id, 0) >= limits.max_processing_per_user:
                continue
            if cand.attempts >= cand.max_attempts:
                events += self._give_up(conn, cand, now)
                gave_up.append(cand.id)
                continue
            running[cand.user_id] = running.get(cand.user_id, 0) + 1
            chosen.append(cand.id)
        claimed = self._take(conn, chosen, worker_id, now, lease_s)
        for info in claimed:
            events.append(self._started(conn, info, worker_id))
        return Claimed(tuple(claimed), tuple(gave_up)), events

    def _claim_pg(
        self, conn: Connection, worker_id: str, want: int, limits: Limits, lease_s: float
    ) -> Result:
        """One round trip: the policy above, under the claim lock, in ``schoolx_claim``."""
        rows = conn.execute(
            _PG_CLAIM,
            {
                "lock_key": CLAIM_LOCK_KEY,
                "worker": worker_id,
                "want": want,
                "max": limits.max_processing,
                "per_user": limits.max_processing_per_user,
                "lease_s": lease_s,
            },
        )
        claimed: list[TaskInfo] = []
        gave_up: list[int] = []
        events: list[EventInfo] = []
        for info in map(_task_info, rows):
            if info.status is TaskStatus.PROCESSING:
                claimed.append(info)
                events.append(self._started(conn, info, worker_id))
            else:
                gave_up.append(info.id)
                data = {"error": info.error}
                events.append(self._event(conn, info.id, info.user_id, EventType.FAILED, data))
        return Claimed(tuple(claimed), tuple(gave_up)), events

    def _started(self, conn: Connection, info: TaskInfo, worker_id: str) -> EventInfo:
        data = {"attempt": info.attempts, "worker": worker_id}
        return self._event(conn, info.id, info.user_id, EventType.STARTED, data)

    def _candidates(self, conn: Connection, per_user: int, now: datetime) -> list[Any]:
        return list(conn.execute(_CANDIDATES, {"now": now, "per_user": per_user}))

    def _take(
        self, conn: Connection, ids: list[int], worker_id: str, now: datetime, lease_s: float
    ) -> list[TaskInfo]:
        """Mark the chosen tasks processing in one statement, in the order chosen."""
        if not ids:
            return []
        lease = now + timedelta(seconds=lease_s)
        rows = conn.execute(_TAKE, {"ids": ids, "worker": worker_id, "lease": lease, "now": now})
        taken = {row.id: _task_info(row) for row in rows}
        return [taken[i] for i in ids if i in taken]

    def _give_up(self, conn: Connection, cand: Any, now: datetime) -> list[EventInfo]:
        error = f"gave up after {cand.attempts} attempts"
        prior = (conn.execute(select(tasks.c.error).where(tasks.c.id == cand.id))).scalar()
        if prior:
            error += f"; last error: {prior}"
        conn.execute(
            update(tasks)
            .where(tasks.c.id == cand.id, tasks.c.status == PENDING)
            .values(status=TaskStatus.FAILED.value, error=error, completed_at=now)
        )
        return [self._event(conn, cand.id, cand.user_id, EventType.FAILED, {"error": error})]

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
        statement = self._owned_statement(values)
        bound = {"_tid": task_id, "_owner": owner, **(params or {})}
        bound.update({f"v_{k}": v for k, v in values.items() if not _is_sql(v)})

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

    def _owned_statement(self, values: dict[str, Any]) -> Any:
        """An UPDATE guarded by owner and status, built once per set of columns.

        Building a Core statement costs several times more than running it on SQLite, and
        these run a few times per task, so they are cached with bound parameters.
        """
        key = tuple(sorted(k if not _is_sql(v) else f"{k}={v}" for k, v in values.items()))
        statement = self._statements.get(key)
        if statement is None:
            assignments = {k: v if _is_sql(v) else bindparam(f"v_{k}") for k, v in values.items()}
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
            self._statements[key] = statement
        return statement

    async def save_step(
        self, task_id: int, owner: str, name: str, output: Any, progress: int | None
    ) -> bool:
        def store_step(conn: Connection) -> None:
            # A step is written once; a replay after a lost commit must not fail on it.
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
        values = _finished(TaskStatus.COMPLETED) | {
            "result": result,
            "progress": 100,
            "error": None,
        }
        return await self._owned_update(
            task_id, owner, values, EventType.COMPLETED, {"result": result}
        )

    async def fail(self, task_id: int, owner: str, error: str) -> bool:
        values = _finished(TaskStatus.FAILED) | {"error": error}
        return await self._owned_update(task_id, owner, values, EventType.FAILED, {"error": error})

    async def cancelled(self, task_id: int, owner: str, reason: str) -> bool:
        values = _finished(TaskStatus.CANCELLED) | {"error": reason}
        return await self._owned_update(
            task_id, owner, values, EventType.CANCELLED, {"reason": reason}
        )

    async def requeue(self, task_id: int, owner: str, error: str, delay_s: float) -> bool:
        # The backoff is judged by the claim's clock: on PostgreSQL the database's, so a
        # worker whose clock runs behind cannot make a retry due at once.
        run_after = _PG_RUN_AFTER if self._pg else utcnow() + timedelta(seconds=delay_s)
        values = {
            "status": PENDING,
            "owner": None,
            "lease_expires_at": None,
            "error": error,
            "run_after": run_after,
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

    async def unregister_worker(self, worker_id: str) -> None:
        def op(conn: Connection) -> Result:
            conn.execute(workers_t.delete().where(workers_t.c.id == worker_id))
            return None, []

        await self._write(op)

    async def recover_expired(self, *, silent_worker_s: float = 300.0) -> list[int]:
        def op(conn: Connection) -> Result:
            now = self._lease_clock(conn)
            silent_since = now - timedelta(seconds=silent_worker_s)
            events = []
            recovered: list[int] = []
            for r in list(conn.execute(_EXPIRED, {"now": now})):
                if not r.cancel_requested and self._owner_alive(conn, r, silent_since):
                    continue  # late renewals of a live worker: its lease stands
                cancel = bool(r.cancel_requested)
                values = (
                    _finished(TaskStatus.CANCELLED) | {"error": _CANCELLED_UNCONFIRMED}
                    if cancel
                    else {"status": PENDING, "owner": None, "lease_expires_at": None}
                )
                # The lease test is repeated in the UPDATE: on PostgreSQL a heartbeat may
                # commit between the SELECT and here, and that task must stay its owner's.
                taken = conn.execute(
                    update(tasks)
                    .where(
                        tasks.c.id == r.id,
                        tasks.c.status == PROCESSING,
                        tasks.c.owner == r.owner,
                        tasks.c.lease_expires_at < now,
                    )
                    .values(values)
                )
                if taken.rowcount != 1:
                    continue
                recovered.append(r.id)
                kind, data = (
                    (EventType.CANCELLED, {"reason": _CANCELLED_UNCONFIRMED})
                    if cancel
                    else (EventType.RETRYING, {"reason": f"lease of {r.owner} expired"})
                )
                events.append(self._event(conn, r.id, r.user_id, kind, data))
            conn.execute(_FORGET_SILENT_WORKERS, {"before": silent_since})
            return recovered, events

        result: list[int] = await self._write(op)
        return result

    def _owner_alive(self, conn: Connection, row: Any, silent_since: datetime) -> bool:
        """Whether the lease holder still runs (see ``models.liveness``); an unknown worker
        or one silent since ``silent_since`` counts as gone."""
        if row.host is None or row.heartbeat_at is None or row.heartbeat_at < silent_since:
            return False
        if self._pg:
            key = process_key(row.host, row.pid)
            return bool(conn.execute(_PG_LIVE_LOCK_HELD, {"key": key}).scalar())
        return bool(row.host == HOST and process_alive(row.pid))

    # --- readers ----------------------------------------------------------------------

    async def get_task(self, task_id: int) -> TaskInfo:
        def op(conn: Connection) -> Row[Any] | None:
            return (conn.execute(select(tasks).where(tasks.c.id == task_id))).one_or_none()

        row = await self._read(op)
        if row is None:
            raise NotFoundError(f"no task {task_id}")
        return _task_info(row)

    async def list_tasks(
        self, *, status: TaskStatus | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[TaskInfo]:
        query = select(tasks).order_by(tasks.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(tasks.c.status == status.value)
        if user_id is not None:
            query = query.where(tasks.c.user_id == user_id)

        def op(conn: Connection) -> list[Row[Any]]:
            return list(conn.execute(query))

        return [_task_info(r) for r in await self._read(op)]

    async def find_by_payload(self, type: str, key: str, value: int) -> list[TaskInfo]:
        query = (
            select(tasks)
            .where(tasks.c.type == type, tasks.c.payload[key].as_integer() == value)
            .order_by(tasks.c.id)
        )

        def op(conn: Connection) -> list[Row[Any]]:
            return list(conn.execute(query))

        return [_task_info(r) for r in await self._read(op)]

    async def steps(self, task_id: int, prefix: str = "") -> dict[str, Any]:
        query = select(steps_t.c.name, steps_t.c.output).where(steps_t.c.task_id == task_id)
        if prefix:
            query = query.where(steps_t.c.name.startswith(prefix, autoescape=True))

        def op(conn: Connection) -> dict[str, Any]:
            return {r.name: r.output for r in conn.execute(query)}

        result: dict[str, Any] = await self._read(op)
        return result

    async def events_since(
        self,
        after_id: int,
        *,
        user_id: str | None = None,
        task_id: int | None = None,
        limit: int = 1000,
    ) -> list[EventInfo]:
        query = _EVENTS_SINCE[(user_id is not None, task_id is not None)]
        params = {"after": after_id, "user_id": user_id, "task_id": task_id, "limit": limit}

        def op(conn: Connection) -> list[Row[Any]]:
            return list(conn.execute(query, params))

        return [
            EventInfo(r.id, r.task_id, r.user_id, EventType(r.type), r.data or {}, r.created_at)
            for r in await self._read(op)
        ]

    async def latest_event_id(self) -> int:
        def op(conn: Connection) -> int:
            return int(conn.execute(select(func.coalesce(func.max(events_t.c.id), 0))).scalar_one())

        result: int = await self._read(op)
        return result

    async def counts(self) -> dict[str, int]:
        query = select(tasks.c.status, func.count()).group_by(tasks.c.status)

        def op(conn: Connection) -> dict[str, int]:
            return {r[0]: int(r[1]) for r in conn.execute(query)}

        result: dict[str, int] = await self._read(op)
        return result


def _is_sql(value: Any) -> bool:
    return isinstance(value, ClauseElement)


def _flush_events(conn: Connection) -> None:
    """Write the transaction's buffered events (SQLite) in one multi-row INSERT."""
    buffered = conn.info[TXN_SCRATCH].pop("events", None)
    if buffered:
        conn.execute(insert(events_t), buffered)


def _finished(status: TaskStatus) -> dict[str, Any]:
    return {
        "status": status.value,
        "completed_at": utcnow(),
        "owner": None,
        "lease_expires_at": None,
    }


def _user_key(user_id: str) -> int:
    # Advisory lock keys are 64-bit ints; crc32 spreads users over them deterministically.
    return zlib.crc32(user_id.encode()) + 1_000_000


NOTIFY_CHANNEL = "schoolx"
EVENTS_LOCK_KEY = 0x5C0014
_PG_NOW = text("SELECT timezone('utc', now())")
_PG_RUN_AFTER = func.timezone("utc", func.now()) + func.make_interval(
    0, 0, 0, 0, 0, 0, bindparam("delay_s", type_=Float)
)
_NEW_WORK = {EventType.QUEUED.value, EventType.RETRYING.value}
_PG_EMIT = text(
    "SELECT schoolx_emit(:lock_key, :channel, CAST(:task_ids AS integer[]),"
    " CAST(:user_ids AS text[]), CAST(:types AS text[]), CAST(:data AS text[]),"
    " CAST(:created AS timestamp[]), CAST(:notes AS text[]))"
)
_INSERT_TASK = insert(tasks).returning(*tasks.c)
_CANCELLED_UNCONFIRMED = "cancelled by request (its worker stopped before confirming)"
# Processing tasks whose lease ran out, with what is known of the worker holding it.
_EXPIRED = (
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
_PG_LIVE_LOCK_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    f" AND classid = {LIVE_LOCK_CLASS} AND objid = CAST(:key AS oid) AND objsubid = 2)"
)
# Rows of workers silent for long (stopped without unregistering, killed) and holding
# nothing: they would only grow the table.
_FORGET_SILENT_WORKERS = workers_t.delete().where(
    workers_t.c.heartbeat_at < bindparam("before"),
    ~select(tasks.c.id)
    .where(tasks.c.owner == workers_t.c.id, tasks.c.status == PROCESSING)
    .exists(),
)
# Read a task to change it by request (cancel, retry): on PostgreSQL the row stays locked
# until commit, so a claim cannot take it in between (it skips locked rows).
_LOCK_TASK = select(tasks).where(tasks.c.id == bindparam("task_id")).with_for_update()


def _take_statement() -> Any:
    """Mark the chosen pending tasks processing (SQLite; ``BEGIN IMMEDIATE`` already holds
    the only write lock, so no row can be taken in between)."""
    return (
        update(tasks)
        .where(tasks.c.id.in_(bindparam("ids", expanding=True)), tasks.c.status == PENDING)
        .values(
            status=PROCESSING,
            owner=bindparam("worker"),
            attempts=tasks.c.attempts + 1,
            lease_expires_at=bindparam("lease"),
            run_after=None,
            started_at=func.coalesce(tasks.c.started_at, bindparam("now")),
        )
        .returning(*tasks.c)
    )


_TAKE = _take_statement()
_PG_CLAIM = text(
    "SELECT * FROM schoolx_claim(:lock_key, :worker, :want, :max, :per_user, :lease_s)"
).columns(*tasks.c)


def _candidates_query() -> Any:
    """Up to ``per_user`` oldest ready tasks of every user, numbered within the user."""
    ready = and_(
        tasks.c.status == PENDING,
        or_(tasks.c.run_after.is_(None), tasks.c.run_after <= bindparam("now")),
    )
    rn = func.row_number().over(partition_by=tasks.c.user_id, order_by=tasks.c.id)
    inner = (
        select(tasks.c.id, tasks.c.user_id, tasks.c.attempts, tasks.c.max_attempts, rn.label("rn"))
        .where(ready)
        .subquery()
    )
    return select(inner).where(inner.c.rn <= bindparam("per_user"))


_CANDIDATES = _candidates_query()


def _events_query(by_user: bool, by_task: bool) -> Any:
    query = select(events_t).where(events_t.c.id > bindparam("after"))
    if by_user:
        query = query.where(events_t.c.user_id == bindparam("user_id"))
    if by_task:
        query = query.where(events_t.c.task_id == bindparam("task_id"))
    return query.order_by(events_t.c.id).limit(bindparam("limit"))


# Subscribers read after every commit; prebuilt queries keep that cheap.
_EVENTS_SINCE = {(u, t): _events_query(u, t) for u in (False, True) for t in (False, True)}
_ACTIVE_COUNT = select(func.count()).where(
    tasks.c.user_id == bindparam("user_id"), tasks.c.status.in_([PENDING, PROCESSING])
)
_RUNNING_PER_USER = (
    select(tasks.c.user_id, func.count())
    .where(tasks.c.status == PROCESSING)
    .group_by(tasks.c.user_id)
)


def _active_count(conn: Connection, user_id: str) -> int:
    return int(conn.execute(_ACTIVE_COUNT, {"user_id": user_id}).scalar_one())


def _running_per_user(conn: Connection) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in conn.execute(_RUNNING_PER_USER)}


def _task_info(row: Row[Any]) -> TaskInfo:
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
