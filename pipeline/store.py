"""The narrow async interface between the engine and SQL.

The engine (worker, queue, CLI) sees only this Protocol and the values below; the SQLAlchemy
implementation for SQLite and PostgreSQL lives in ``models.queue_store``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class EventType(enum.StrEnum):
    QUEUED = "task_queued"
    STARTED = "task_started"
    PROGRESS = "task_progress"
    COMPLETED = "task_completed"
    FAILED = "task_failed"
    CANCELLED = "task_cancelled"
    RETRYING = "task_retrying"


@dataclass(frozen=True)
class TaskInfo:
    id: int
    type: str
    status: TaskStatus
    user_id: str
    payload: dict[str, Any]
    result: Any
    error: str | None
    progress: int
    stage: str | None
    attempts: int
    max_attempts: int
    owner: str | None
    lease_expires_at: datetime | None
    run_after: datetime | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The public shape of a task (CLI ``--json`` and the HTTP API)."""
        return {
            "id": self.id,
            "type": self.type,
            "status": self.status.value,
            "user_id": self.user_id,
            "progress": self.progress,
            "stage": self.stage,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "error": self.error,
            "result": self.result,
            "payload": self.payload,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
        }


def _iso(value: datetime | None) -> str | None:
    """Stored times are naive UTC; say so, or browsers read them as local time."""
    return None if value is None else value.replace(tzinfo=UTC).isoformat()


@dataclass(frozen=True)
class EventInfo:
    id: int
    task_id: int
    user_id: str
    type: EventType
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Limits:
    max_processing: int
    max_processing_per_user: int


@dataclass(frozen=True)
class Claimed:
    """What one claim transaction did: tasks to run, and poison tasks it failed instead."""

    tasks: tuple[TaskInfo, ...]
    gave_up: tuple[int, ...] = ()


class QueueStore(Protocol):
    """Every write that changes a task also stores its event, in the same transaction.

    Writes by a worker are conditional on ``owner`` and ``status='processing'``: they return
    False when the task is no longer this worker's (lease taken back, cancelled), and the
    worker then stops quietly.
    """

    async def create_schema(self) -> None: ...

    async def close(self) -> None: ...

    # --- producers ---
    async def enqueue(
        self,
        type: str,
        user_id: str,
        payload: dict[str, Any],
        *,
        max_attempts: int,
        max_active_per_user: int,
    ) -> TaskInfo:
        """Insert a pending task; raises TaskLimitError when the user is at the limit."""
        ...

    async def request_cancel(self, task_id: int) -> TaskStatus: ...

    async def retry(self, task_id: int, *, max_active_per_user: int) -> TaskInfo: ...

    # --- workers ---
    async def register_worker(self, worker_id: str, host: str, pid: int) -> None: ...

    async def unregister_worker(self, worker_id: str) -> None: ...

    async def claim(self, worker_id: str, want: int, limits: Limits, lease_s: float) -> Claimed: ...

    async def heartbeat(self, worker_id: str, task_ids: Sequence[int], lease_s: float) -> set[int]:
        """Extend the leases; returns the ids among ``task_ids`` whose cancel was requested."""
        ...

    async def save_step(
        self, task_id: int, owner: str, name: str, output: Any, progress: int | None
    ) -> bool: ...

    async def update_progress(
        self, task_id: int, owner: str, progress: int, message: str | None
    ) -> bool: ...

    async def complete(self, task_id: int, owner: str, result: Any) -> bool: ...

    async def fail(self, task_id: int, owner: str, error: str) -> bool: ...

    async def cancelled(self, task_id: int, owner: str, reason: str) -> bool: ...

    async def requeue(self, task_id: int, owner: str, error: str, delay_s: float) -> bool: ...

    async def release(self, task_id: int, owner: str) -> bool:
        """Give a task back to pending without counting an attempt (graceful shutdown)."""
        ...

    async def recover_expired(self, *, silent_worker_s: float = 300.0) -> list[int]:
        """Take back tasks whose lease expired and whose worker is gone (or silent for
        ``silent_worker_s``): pending again, or cancelled if asked. A live worker's lease
        stands however late its renewal is."""
        ...

    # --- readers ---
    async def get_task(self, task_id: int) -> TaskInfo: ...

    async def list_tasks(
        self, *, status: TaskStatus | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[TaskInfo]: ...

    async def find_by_payload(self, type: str, key: str, value: int) -> list[TaskInfo]:
        """Tasks of ``type`` whose payload has ``key == value``, oldest first."""
        ...

    async def steps(self, task_id: int, prefix: str = "") -> dict[str, Any]: ...

    async def events_since(
        self,
        after_id: int,
        *,
        user_id: str | None = None,
        task_id: int | None = None,
        limit: int = 1000,
    ) -> list[EventInfo]: ...

    async def latest_event_id(self) -> int: ...

    async def counts(self) -> dict[str, int]:
        """Tasks per status."""
        ...
