"""The queue store on SQLite: one machine, one writer.

Every write transaction starts with ``BEGIN IMMEDIATE`` and so already holds the
database's only write lock: admissions and claims need no lock of their own, and the
claim runs in Python between reading the candidates and taking them. Leases go by this
machine's clock; workers are processes on it, so whether a lease holder lives is a
question for the kernel. Nothing listens: other processes poll.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import sqlite

from models.base import utcnow
from models.batcher import TXN_SCRATCH
from models.liveness import HOST, process_alive
from models.queue_sql import PENDING, PROCESSING, Result, events_t, steps_t, task_info, tasks
from models.queue_store import SqlQueueStore
from pipeline.store import Claimed, EventInfo, EventType, Limits, TaskInfo, TaskStatus


class SqliteQueueStore(SqlQueueStore):
    _insert_step = sqlite.insert(steps_t).on_conflict_do_nothing()

    def _write_events(self, conn: Connection) -> None:
        buffered = conn.info[TXN_SCRATCH].pop("events", None)
        if buffered:
            conn.execute(insert(events_t), buffered)

    def _notify(self, conn: Connection, note: str) -> None:
        pass

    def _lease_clock(self, conn: Connection) -> datetime:
        return utcnow()

    def _serialize(self, conn: Connection, key: int) -> None:
        pass

    def _run_after(self, delay_s: float) -> Any:
        return utcnow() + timedelta(seconds=delay_s)

    def _process_alive(self, conn: Connection, host: str, pid: int) -> bool:
        # Another host's pid cannot be checked: its lease alone decides.
        return host == HOST and process_alive(pid)

    def _claim(
        self, conn: Connection, worker_id: str, want: int, limits: Limits, lease_s: float
    ) -> Result:
        running = _running_per_user(conn)
        free = min(want, limits.max_processing - sum(running.values()))
        if free <= 0:
            return Claimed(()), []
        now = self._lease_clock(conn)
        per_user = limits.max_processing_per_user
        candidates = list(conn.execute(_CANDIDATES, {"now": now, "per_user": per_user}))
        # The claim policy, also written in PL/pgSQL as schoolx_claim (migration 0004);
        # tests/integration/test_queue.py::test_claim_policy_is_the_same_on_both_databases
        # keeps the two equal. Fairness: a user with fewer tasks running goes first, then
        # the oldest task first.
        candidates.sort(key=lambda c: (running.get(c.user_id, 0) + c.rn, c.id))
        chosen: list[int] = []
        gave_up: list[int] = []
        events: list[EventInfo] = []
        for cand in candidates:
            if len(chosen) >= free:
                break
            if running.get(cand.user_id, 0) >= per_user:
                continue
            if cand.attempts >= cand.max_attempts:
                events.append(self._give_up(conn, cand, now))
                gave_up.append(cand.id)
                continue
            running[cand.user_id] = running.get(cand.user_id, 0) + 1
            chosen.append(cand.id)
        claimed = self._take(conn, chosen, worker_id, now, lease_s)
        events += [self._started(conn, info, worker_id) for info in claimed]
        return Claimed(tuple(claimed), tuple(gave_up)), events

    def _take(
        self, conn: Connection, ids: list[int], worker_id: str, now: datetime, lease_s: float
    ) -> list[TaskInfo]:
        """Mark the chosen tasks processing in one statement, in the order chosen."""
        if not ids:
            return []
        lease = now + timedelta(seconds=lease_s)
        rows = conn.execute(_TAKE, {"ids": ids, "worker": worker_id, "lease": lease, "now": now})
        taken = {row.id: task_info(row) for row in rows}
        return [taken[i] for i in ids if i in taken]

    def _give_up(self, conn: Connection, cand: Any, now: datetime) -> EventInfo:
        error = f"gave up after {cand.attempts} attempts"
        prior = (conn.execute(select(tasks.c.error).where(tasks.c.id == cand.id))).scalar()
        if prior:
            error += f"; last error: {prior}"
        conn.execute(
            update(tasks)
            .where(tasks.c.id == cand.id, tasks.c.status == PENDING)
            .values(status=TaskStatus.FAILED.value, error=error, completed_at=now)
        )
        return self._event(conn, cand.id, cand.user_id, EventType.FAILED, {"error": error})


def _running_per_user(conn: Connection) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in conn.execute(_RUNNING_PER_USER)}


_RUNNING_PER_USER = (
    select(tasks.c.user_id, func.count())
    .where(tasks.c.status == PROCESSING)
    .group_by(tasks.c.user_id)
)


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
# No row can be taken in between: the transaction holds the only write lock.
_TAKE = (
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
