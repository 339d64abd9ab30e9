"""The queue as producers see it: enqueue, cancel, retry, look, subscribe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pipeline.events import EventHub
from pipeline.settings import QueueSettings
from pipeline.store import EventInfo, QueueStore, TaskInfo, TaskStatus
from pipeline.worker import Worker


class TaskQueue:
    def __init__(self, store: QueueStore, settings: QueueSettings, hub: EventHub) -> None:
        self.store = store
        self.settings = settings
        self.hub = hub
        self._workers: list[Worker] = []

    def attach(self, worker: Worker) -> None:
        """Let cancel requests reach a worker of this process at its next await."""
        self._workers.append(worker)

    async def enqueue(
        self, task_type: str, payload: dict[str, Any], *, user_id: str = "default"
    ) -> TaskInfo:
        """Persist a pending task; raises TaskLimitError when the user is at the limit."""
        return await self.store.enqueue(
            task_type,
            user_id,
            payload,
            max_attempts=self.settings.max_attempts,
            max_active_per_user=self.settings.max_active_per_user,
        )

    async def cancel(self, task_id: int) -> TaskStatus:
        status = await self.store.request_cancel(task_id)
        if status is TaskStatus.PROCESSING:
            self.cancel_local(task_id)
        return status

    def cancel_local(self, task_id: int) -> bool:
        """Stop the task at its next await if a worker of this process runs it."""
        return any([worker.cancel_local(task_id) for worker in self._workers])

    async def retry(self, task_id: int) -> TaskInfo:
        """Requeue a failed or cancelled task; it resumes from its stored stages."""
        return await self.store.retry(
            task_id, max_active_per_user=self.settings.max_active_per_user
        )

    async def get(self, task_id: int) -> TaskInfo:
        return await self.store.get_task(task_id)

    async def wait(self, task_id: int, *, timeout_s: float | None = None) -> TaskInfo:
        """Return the task once it reaches a terminal state."""
        async for _ in self.hub.subscribe(self.store, task_id=task_id, poll_s=0.2):
            info = await self.store.get_task(task_id)
            if info.status.terminal:
                return info
        raise AssertionError("unreachable")  # pragma: no cover

    def subscribe(
        self, *, after_id: int = 0, user_id: str | None = None, task_id: int | None = None
    ) -> AsyncIterator[EventInfo]:
        return self.hub.subscribe(
            self.store,
            after_id=after_id,
            user_id=user_id,
            task_id=task_id,
            poll_s=min(self.settings.poll_s, 0.5),
        )
