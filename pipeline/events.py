"""Live delivery of the durable events: subscribers tail the events table.

Every event is written in the same transaction as the change it describes, so the table is
the single source of truth. Writers in this process poke the hub after each commit, which
wakes subscribers at once; events written by other processes are seen on the next poll.
A subscriber resumes from any event id, which is what SSE's ``Last-Event-ID`` needs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from pipeline.store import EventInfo, EventType, QueueStore

NEW_WORK = frozenset({EventType.QUEUED, EventType.RETRYING})


class EventHub:
    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()
        self._work_waiters: set[asyncio.Event] = set()

    def publish(self, events: list[EventInfo], *, new_work: bool = False) -> None:
        """Called after a commit that stored events; subscribers then read them.

        Idle workers are woken only when there may be a task to claim (queued, or back to
        pending): waking every worker on every progress event makes them queue up on the
        claim lock for nothing.
        """
        for waiter in self._waiters:
            waiter.set()
        if new_work or any(e.type in NEW_WORK for e in events):
            for waiter in self._work_waiters:
                waiter.set()

    def waiter(self, *, work_only: bool = False) -> asyncio.Event:
        event = asyncio.Event()
        (self._work_waiters if work_only else self._waiters).add(event)
        return event

    def forget(self, event: asyncio.Event) -> None:
        self._waiters.discard(event)
        self._work_waiters.discard(event)

    async def subscribe(
        self,
        store: QueueStore,
        *,
        after_id: int = 0,
        user_id: str | None = None,
        task_id: int | None = None,
        poll_s: float = 0.5,
    ) -> AsyncIterator[EventInfo]:
        """Yield stored events after ``after_id``, then new ones as they are committed."""
        wake = self.waiter()
        try:
            while True:
                wake.clear()  # before reading, so a publish during the read is not lost
                batch = await store.events_since(after_id, user_id=user_id, task_id=task_id)
                for event in batch:
                    after_id = event.id
                    yield event
                if not batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), poll_s)
        finally:
            self.forget(wake)
