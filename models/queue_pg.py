"""The queue store on PostgreSQL: many processes on many machines, many writers.

Admissions and claims are serialized by transaction-level advisory locks; leases go by
the database's clock, so workers whose clocks disagree still agree on who holds a lease;
a lease holder is alive while its liveness lock is held (``models.liveness``). The two
hottest steps run as server-side functions (migration 0004), one round trip each instead
of five and three: the claim (``schoolx_claim``, which locks rows with ``FOR UPDATE SKIP
LOCKED``) and writing a transaction's events with their notifications (``schoolx_emit``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, bindparam, func, text
from sqlalchemy.dialects import postgresql

from models.batcher import TXN_SCRATCH
from models.liveness import LIVE_LOCK_CLASS, process_key
from models.queue_sql import Result, steps_t, task_info, tasks
from models.queue_store import SqlQueueStore
from pipeline.store import Claimed, EventInfo, EventType, Limits, TaskInfo, TaskStatus

NOTIFY_CHANNEL = "schoolx"
CLAIM_LOCK_KEY = 0x5C0011  # any constant: one advisory lock serializes all claims
EVENTS_LOCK_KEY = 0x5C0014


class PgQueueStore(SqlQueueStore):
    _insert_step = postgresql.insert(steps_t).on_conflict_do_nothing()

    def _write_events(self, conn: Connection) -> None:
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
            _EMIT,
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

    def _notify(self, conn: Connection, note: str) -> None:
        conn.info[TXN_SCRATCH].setdefault("notify", []).append(note)

    def _lease_clock(self, conn: Connection) -> datetime:
        value: datetime = conn.execute(_NOW).scalar_one()
        return value

    def _serialize(self, conn: Connection, key: int) -> None:
        conn.execute(_ADVISORY_XACT_LOCK, {"k": key})

    def _run_after(self, delay_s: float) -> Any:
        # By the database's clock, as the claim judges it: a worker whose clock runs behind
        # cannot make a retry due at once.
        return _RUN_AFTER

    def _process_alive(self, conn: Connection, host: str, pid: int) -> bool:
        return bool(conn.execute(_LIVE_LOCK_HELD, {"key": process_key(host, pid)}).scalar())

    def _claim(
        self, conn: Connection, worker_id: str, want: int, limits: Limits, lease_s: float
    ) -> Result:
        """One round trip: the claim policy, under the claim lock, in ``schoolx_claim``."""
        rows = conn.execute(
            _CLAIM,
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
        for info in map(task_info, rows):
            if info.status is TaskStatus.PROCESSING:
                claimed.append(info)
                events.append(self._started(conn, info, worker_id))
            else:
                gave_up.append(info.id)
                data = {"error": info.error}
                events.append(self._event(conn, info.id, info.user_id, EventType.FAILED, data))
        return Claimed(tuple(claimed), tuple(gave_up)), events


_NEW_WORK = {EventType.QUEUED.value, EventType.RETRYING.value}
_EMIT = text(
    "SELECT schoolx_emit(:lock_key, :channel, CAST(:task_ids AS integer[]),"
    " CAST(:user_ids AS text[]), CAST(:types AS text[]), CAST(:data AS text[]),"
    " CAST(:created AS timestamp[]), CAST(:notes AS text[]))"
)
_NOW = text("SELECT timezone('utc', now())")
_ADVISORY_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_RUN_AFTER = func.timezone("utc", func.now()) + func.make_interval(
    0, 0, 0, 0, 0, 0, bindparam("delay_s", type_=Float)
)
_LIVE_LOCK_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    f" AND classid = {LIVE_LOCK_CLASS} AND objid = CAST(:key AS oid) AND objsubid = 2)"
)
_CLAIM = text(
    "SELECT * FROM schoolx_claim(:lock_key, :worker, :want, :max, :per_user, :lease_s)"
).columns(*tasks.c)
