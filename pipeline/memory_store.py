"""A ``QueueStore`` in memory, for unit tests of the engine (as procrastinate's in-memory
connector): the same transitions, events and errors as ``models.queue_store`` on SQLite, in
dicts, judged by an injectable clock so that tests move time instead of waiting for it.

Each operation runs without an await between its reads and its writes, so it is atomic
on the event loop as a transaction is in the database; a lock would guard nothing. Every
operation yields to the loop once first, as a round trip to a database does, so that the
worker's tasks interleave as they do against a real store.

The SQL store stays the reference: ``tests/integration/test_store_contract.py`` runs the same
behaviours against both.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.errors import ConflictError, NotFoundError, TaskLimitError
from pipeline.store import (
    Claimed,
    EventInfo,
    EventType,
    Limits,
    QueueStore,
    TaskInfo,
    TaskStatus,
)

Clock = Callable[[], datetime]
EventSink = Callable[[list[EventInfo]], None]

PENDING, PROCESSING = TaskStatus.PENDING, TaskStatus.PROCESSING
CANCELLED_UNCONFIRMED = "cancelled by request (its worker stopped before confirming)"


def utc_now() -> datetime:
    """Naive UTC, as the SQL store keeps its times."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class _WorkerRow:
    host: str
    pid: int
    heartbeat_at: datetime


class MemoryQueueStore:
    def __init__(self, clock: Clock = utc_now, on_events: EventSink | None = None) -> None:
        self.clock = clock
        self._on_events = on_events
        self._tasks: dict[int, TaskInfo] = {}
        self._steps: dict[int, dict[str, Any]] = {}
        self._events: list[EventInfo] = []
        self._workers: dict[str, _WorkerRow] = {}

    async def create_schema(self) -> None:
        return None

    async def close(self) -> None:
        return None

    # --- plumbing ---------------------------------------------------------------------

    async def _turn(self) -> None:
        await asyncio.sleep(0)

    def _event(
        self, task: TaskInfo, kind: EventType, data: dict[str, Any] | None = None
    ) -> EventInfo:
        event = EventInfo(
            len(self._events) + 1, task.id, task.user_id, kind, _json(data or {}), self.clock()
        )
        self._events.append(event)
        return event

    def _publish(self, events: list[EventInfo]) -> None:
        # After the change, as the SQL store calls its sink after the commit.
        if events and self._on_events is not None:
            self._on_events(events)

    def _get(self, task_id: int) -> TaskInfo:
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFoundError(f"no task {task_id}")
        return task

    def _set(self, task: TaskInfo, **values: Any) -> TaskInfo:
        new = replace(task, **values)
        self._tasks[task.id] = new
        return new

    def _finished(self, status: TaskStatus) -> dict[str, Any]:
        return {
            "status": status,
            "completed_at": self.clock(),
            "owner": None,
            "lease_expires_at": None,
        }

    def _active(self, user_id: str) -> int:
        return sum(
            t.user_id == user_id and t.status in (PENDING, PROCESSING) for t in self._tasks.values()
        )

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
        await self._turn()
        active = self._active(user_id)
        if active >= max_active_per_user:
            raise TaskLimitError(user_id, max_active_per_user, active)
        task = TaskInfo(
            id=max(self._tasks, default=0) + 1,
            type=type,
            status=PENDING,
            user_id=user_id,
            payload=_json(payload),
            result=None,
            error=None,
            progress=0,
            stage=None,
            attempts=0,
            max_attempts=max_attempts,
            owner=None,
            lease_expires_at=None,
            run_after=None,
            cancel_requested=False,
            created_at=self.clock(),
            started_at=None,
            completed_at=None,
        )
        self._tasks[task.id] = task
        self._publish([self._event(task, EventType.QUEUED, {"type": type})])
        return _copy(task)

    async def request_cancel(self, task_id: int) -> TaskStatus:
        await self._turn()
        task = self._get(task_id)
        if task.status is PENDING:
            error = "cancelled before it started"
            finished = self._finished(TaskStatus.CANCELLED)
            task = self._set(task, **finished, error=error, cancel_requested=True)
            self._publish([self._event(task, EventType.CANCELLED)])
            return TaskStatus.CANCELLED
        if task.status is PROCESSING:
            self._set(task, cancel_requested=True)
        return task.status

    async def retry(self, task_id: int, *, max_active_per_user: int) -> TaskInfo:
        await self._turn()
        task = self._get(task_id)
        if task.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise ConflictError(
                f"task {task_id} is {task.status.value}; only failed or cancelled tasks can be "
                "retried"
            )
        active = self._active(task.user_id)
        if active >= max_active_per_user:
            raise TaskLimitError(task.user_id, max_active_per_user, active)
        task = self._set(
            task,
            status=PENDING,
            attempts=0,
            error=None,
            cancel_requested=False,
            run_after=None,
            completed_at=None,
            owner=None,
            lease_expires_at=None,
        )
        self._publish([self._event(task, EventType.QUEUED, {"retry": True})])
        return _copy(task)

    # --- workers ----------------------------------------------------------------------

    async def register_worker(self, worker_id: str, host: str, pid: int) -> None:
        await self._turn()
        self._workers[worker_id] = _WorkerRow(host, pid, self.clock())

    async def unregister_worker(self, worker_id: str) -> None:
        await self._turn()
        self._workers.pop(worker_id, None)

    async def claim(self, worker_id: str, want: int, limits: Limits, lease_s: float) -> Claimed:
        await self._turn()
        running = Counter(t.user_id for t in self._tasks.values() if t.status is PROCESSING)
        free = min(want, limits.max_processing - running.total())
        if free <= 0:
            return Claimed(())
        now = self.clock()
        # As the SQL store: a user with fewer tasks running goes first, then the oldest
        # task; only each user's ``per_user`` oldest ready tasks are candidates.
        ready = [
            t
            for t in sorted(self._tasks.values(), key=lambda t: t.id)
            if t.status is PENDING and (t.run_after is None or t.run_after <= now)
        ]
        rank: Counter[str] = Counter()
        candidates: list[tuple[int, int, TaskInfo]] = []
        for t in ready:
            rank[t.user_id] += 1
            if rank[t.user_id] <= limits.max_processing_per_user:
                candidates.append((running[t.user_id] + rank[t.user_id], t.id, t))
        candidates.sort(key=lambda c: c[:2])
        chosen: list[TaskInfo] = []
        gave_up: list[int] = []
        events: list[EventInfo] = []
        for _, _, cand in candidates:
            if len(chosen) >= free:
                break
            if running[cand.user_id] >= limits.max_processing_per_user:
                continue
            if cand.attempts >= cand.max_attempts:
                events.append(self._give_up(cand, now))
                gave_up.append(cand.id)
                continue
            running[cand.user_id] += 1
            chosen.append(cand)
        lease = now + timedelta(seconds=lease_s)
        taken = [
            self._set(
                t,
                status=PROCESSING,
                owner=worker_id,
                attempts=t.attempts + 1,
                lease_expires_at=lease,
                run_after=None,
                started_at=t.started_at or now,
            )
            for t in chosen
        ]
        for t in taken:
            data = {"attempt": t.attempts, "worker": worker_id}
            events.append(self._event(t, EventType.STARTED, data))
        self._publish(events)
        return Claimed(tuple(map(_copy, taken)), tuple(gave_up))

    def _give_up(self, task: TaskInfo, now: datetime) -> EventInfo:
        error = f"gave up after {task.attempts} attempts"
        if task.error:
            error += f"; last error: {task.error}"
        task = self._set(task, status=TaskStatus.FAILED, error=error, completed_at=now)
        return self._event(task, EventType.FAILED, {"error": error})

    async def heartbeat(self, worker_id: str, task_ids: Sequence[int], lease_s: float) -> set[int]:
        await self._turn()
        now = self.clock()
        row = self._workers.get(worker_id)
        if row is not None:
            row.heartbeat_at = now
        flagged: set[int] = set()
        for task_id in task_ids:
            task = self._tasks.get(task_id)
            if task is None:
                continue
            if task.owner == worker_id and task.status is PROCESSING:
                self._set(task, lease_expires_at=now + timedelta(seconds=lease_s))
            if task.cancel_requested or task.owner != worker_id or task.status is not PROCESSING:
                flagged.add(task_id)
        return flagged

    async def _owned_update(
        self,
        task_id: int,
        owner: str,
        values: dict[str, Any] | Callable[[TaskInfo], dict[str, Any]],
        kind: EventType | None,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Change a task only while ``owner`` holds it; False when it no longer does.
        ``values`` computed from the task are read after the yield, as SQL's ``SET a = a - 1``."""
        await self._turn()
        task = self._tasks.get(task_id)
        if task is None or task.owner != owner or task.status is not PROCESSING:
            return False
        task = self._set(task, **(values(task) if callable(values) else values))
        if kind is not None:
            self._publish([self._event(task, kind, data)])
        return True

    async def save_step(
        self, task_id: int, owner: str, name: str, output: Any, progress: int | None
    ) -> bool:
        values: dict[str, Any] = {"stage": name}
        data: dict[str, Any] = {"stage": name}
        if progress is not None:
            values["progress"] = data["progress"] = progress
        kind = EventType.PROGRESS if progress is not None else None
        if not await self._owned_update(task_id, owner, values, kind, data):
            return False
        # A step is written once: a replay keeps the first output, as ON CONFLICT DO NOTHING.
        self._steps.setdefault(task_id, {}).setdefault(name, _json(output))
        return True

    async def update_progress(
        self, task_id: int, owner: str, progress: int, message: str | None
    ) -> bool:
        data: dict[str, Any] = {"progress": progress}
        if message:
            data["message"] = message
        values = {"progress": progress}
        return await self._owned_update(task_id, owner, values, EventType.PROGRESS, data)

    async def complete(self, task_id: int, owner: str, result: Any) -> bool:
        result = _json(result)
        values = self._finished(TaskStatus.COMPLETED) | {
            "result": result,
            "progress": 100,
            "error": None,
        }
        data = {"result": result}
        return await self._owned_update(task_id, owner, values, EventType.COMPLETED, data)

    async def fail(self, task_id: int, owner: str, error: str) -> bool:
        values = self._finished(TaskStatus.FAILED) | {"error": error}
        data = {"error": error}
        return await self._owned_update(task_id, owner, values, EventType.FAILED, data)

    async def cancelled(self, task_id: int, owner: str, reason: str) -> bool:
        values = self._finished(TaskStatus.CANCELLED) | {"error": reason}
        data = {"reason": reason}
        return await self._owned_update(task_id, owner, values, EventType.CANCELLED, data)

    async def requeue(self, task_id: int, owner: str, error: str, delay_s: float) -> bool:
        values = {
            "status": PENDING,
            "owner": None,
            "lease_expires_at": None,
            "error": error,
            "run_after": self.clock() + timedelta(seconds=delay_s),
        }
        data = {"error": error, "delay_s": round(delay_s, 3)}
        return await self._owned_update(task_id, owner, values, EventType.RETRYING, data)

    async def release(self, task_id: int, owner: str) -> bool:
        def values(task: TaskInfo) -> dict[str, Any]:
            return {
                "status": PENDING,
                "owner": None,
                "lease_expires_at": None,
                "attempts": task.attempts - 1,
            }

        data = {"reason": "worker shut down"}
        return await self._owned_update(task_id, owner, values, EventType.RETRYING, data)

    async def recover_expired(self, *, silent_worker_s: float = 300.0) -> list[int]:
        await self._turn()
        now = self.clock()
        silent_since = now - timedelta(seconds=silent_worker_s)
        recovered: list[int] = []
        events: list[EventInfo] = []
        for task in sorted(self._tasks.values(), key=lambda t: t.id):
            lease = task.lease_expires_at
            if task.status is not PROCESSING or lease is None or lease >= now:
                continue
            if not task.cancel_requested and self._owner_alive(task.owner, silent_since):
                continue  # late renewals of a live worker: its lease stands
            recovered.append(task.id)
            if task.cancel_requested:
                values = self._finished(TaskStatus.CANCELLED) | {"error": CANCELLED_UNCONFIRMED}
                kind, data = EventType.CANCELLED, {"reason": CANCELLED_UNCONFIRMED}
            else:
                values = {"status": PENDING, "owner": None, "lease_expires_at": None}
                kind, data = EventType.RETRYING, {"reason": f"lease of {task.owner} expired"}
            events.append(self._event(self._set(task, **values), kind, data))
        holding = {t.owner for t in self._tasks.values() if t.status is PROCESSING}
        for worker_id, row in list(self._workers.items()):
            if row.heartbeat_at < silent_since and worker_id not in holding:
                del self._workers[worker_id]
        self._publish(events)
        return recovered

    def _owner_alive(self, owner: str | None, silent_since: datetime) -> bool:
        """Every worker of this store runs in this process, so a registered worker is a
        live one, unless silent since ``silent_since`` (hung). An unknown owner is gone."""
        row = self._workers.get(owner) if owner is not None else None
        return row is not None and row.heartbeat_at >= silent_since

    # --- readers ----------------------------------------------------------------------

    async def get_task(self, task_id: int) -> TaskInfo:
        await self._turn()
        return _copy(self._get(task_id))

    async def list_tasks(
        self, *, status: TaskStatus | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[TaskInfo]:
        await self._turn()
        found = [
            t
            for t in sorted(self._tasks.values(), key=lambda t: -t.id)
            if (status is None or t.status is status) and (user_id is None or t.user_id == user_id)
        ]
        return [_copy(t) for t in found[:limit]]

    async def find_by_payload(self, type: str, key: str, value: int) -> list[TaskInfo]:
        await self._turn()
        return [
            _copy(t)
            for t in sorted(self._tasks.values(), key=lambda t: t.id)
            if t.type == type and _as_int(t.payload.get(key)) == value
        ]

    async def steps(self, task_id: int, prefix: str = "") -> dict[str, Any]:
        await self._turn()
        saved = self._steps.get(task_id, {})
        return {k: copy.deepcopy(v) for k, v in saved.items() if k.startswith(prefix)}

    async def events_since(
        self,
        after_id: int,
        *,
        user_id: str | None = None,
        task_id: int | None = None,
        limit: int = 1000,
    ) -> list[EventInfo]:
        await self._turn()
        found: list[EventInfo] = []
        # Events are kept in id order: a subscriber's read starts where it left off.
        for event in self._events[bisect.bisect_right(self._events, after_id, key=_id) :]:
            if len(found) >= limit:
                break
            if (user_id is None or event.user_id == user_id) and (
                task_id is None or event.task_id == task_id
            ):
                found.append(replace(event, data=copy.deepcopy(event.data)))
        return found

    async def latest_event_id(self) -> int:
        await self._turn()
        return self._events[-1].id if self._events else 0

    async def counts(self) -> dict[str, int]:
        await self._turn()
        return dict(Counter(t.status.value for t in self._tasks.values()))


def _json(value: Any) -> Any:
    """What a JSON column gives back: a fresh copy, tuples as lists; and a value the SQL
    store could not write fails here too."""
    return json.loads(json.dumps(value))


def _copy(task: TaskInfo) -> TaskInfo:
    # A caller may change the payload or result it was given; the stored task must not.
    return replace(task, payload=copy.deepcopy(task.payload), result=copy.deepcopy(task.result))


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _id(event: EventInfo) -> int:
    return event.id


_: type[QueueStore] = MemoryQueueStore
