"""Live delivery of the durable events: one tail of the events table per process, fanned
out to every subscriber.

Every event is written in the same transaction as the change it describes, so the table is
the single source of truth. Each process reads it once for all its subscribers: a tail task
reads new events (woken at once by writers in this process, or by NOTIFY on PostgreSQL;
otherwise every ``poll_s``) into a window kept in memory, and subscribers take theirs from
that window. Two hundred idle SSE streams used to poll the database twice a second each;
now they cost one query per poll. A subscriber resuming from an id older than the window
(SSE ``Last-Event-ID``) first reads its backlog from the store, then joins the window.

Event ids are in commit order (SQLite has one writer; on PostgreSQL events are written
under an advisory lock held to commit), which is what makes "everything up to id N"
a position both the tail and a catching-up subscriber can stand on.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import AsyncIterator

from pipeline.store import EventInfo, EventType, QueueStore

NEW_WORK = frozenset({EventType.QUEUED, EventType.RETRYING})
WINDOW = 20_000  # events kept in memory for subscribers
READ_LIMIT = 1000


class _Tail:
    """The one reader of new events in this process, while anyone subscribes.

    ``events`` holds what was read, in id order; ``dropped`` counts events let go from its
    front, so ``dropped + i`` is a stable position subscribers can keep.
    """

    def __init__(self, store: QueueStore, head: int, poll_s: float) -> None:
        self.store = store
        self.head = head  # every event up to here has been read
        self.floor = head  # every event after here is in ``events``
        self.events: list[EventInfo] = []
        self.dropped = 0
        self.poll_s = poll_s
        self.changed = asyncio.Event()  # set (and replaced) when head moves
        self.wake = asyncio.Event()  # set by publish: new events were committed here
        self.error: Exception | None = None
        self.users = 0
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            while True:
                self.wake.clear()  # before reading, so a publish meanwhile is not lost
                batch = await self.store.events_since(self.head, limit=READ_LIMIT)
                if batch:
                    self._append(batch)
                    if len(batch) == READ_LIMIT:
                        continue  # more waiting: read on at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll_s)
        except Exception as exc:  # subscribers raise it; the next one starts a new tail
            self.error = exc
            self._notify()

    def _append(self, batch: list[EventInfo]) -> None:
        self.events.extend(batch)
        self.head = batch[-1].id
        if len(self.events) > 2 * WINDOW:
            cut = len(self.events) - WINDOW
            self.floor = self.events[cut - 1].id
            del self.events[:cut]
            self.dropped += cut
        self._notify()

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def position(self, after_id: int) -> int:
        """The position of the first event after ``after_id`` (which is >= floor)."""
        return self.dropped + bisect.bisect_right(self.events, after_id, key=lambda e: e.id)


class EventHub:
    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()
        self._work_waiters: set[asyncio.Event] = set()
        self._tail: _Tail | None = None

    def publish(self, events: list[EventInfo], *, new_work: bool = False) -> None:
        """Called after a commit that stored events (or a notification from another
        process): the tail reads them now, not at its next poll.

        Idle workers are woken only when there may be a task to claim (queued, or back to
        pending): waking every worker on every progress event makes them queue up on the
        claim lock for nothing.
        """
        if self._tail is not None:
            self._tail.wake.set()
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
        tail = await self._join(store, poll_s)
        pos: int | None = None  # where in the window this subscriber reads next
        try:
            while True:
                changed = tail.changed
                if tail.error is not None:
                    raise tail.error
                if pos is None or pos < tail.dropped:
                    if after_id < tail.floor:  # older than the window: from the store
                        head = tail.head
                        batch = await store.events_since(
                            after_id, user_id=user_id, task_id=task_id, limit=READ_LIMIT
                        )
                        for event in batch:
                            after_id = event.id
                            yield event
                        if len(batch) < READ_LIMIT:  # nothing more of ours up to ``head``
                            after_id = max(after_id, head)
                        continue
                    pos = tail.position(after_id)
                new = tail.events[pos - tail.dropped :]
                pos += len(new)
                mine = [
                    e
                    for e in new
                    if e.id > after_id
                    and (user_id is None or e.user_id == user_id)
                    and (task_id is None or e.task_id == task_id)
                ]
                for event in mine:
                    after_id = event.id
                    yield event
                if not new:
                    await changed.wait()
        finally:
            self._leave(tail)

    async def _join(self, store: QueueStore, poll_s: float) -> _Tail:
        if self._tail is None:
            head = await store.latest_event_id()
            if self._tail is None:  # another subscriber may have started it meanwhile
                self._tail = _Tail(store, head, poll_s)
        tail = self._tail
        tail.poll_s = min(tail.poll_s, poll_s)
        tail.users += 1
        if tail.task is None or tail.task.done():
            tail.task = asyncio.get_running_loop().create_task(tail.run(), name="event-tail")
        return tail

    def _leave(self, tail: _Tail) -> None:
        tail.users -= 1
        if tail.users == 0 and tail.task is not None:
            # Nobody listens: stop reading (a CLI command or a quiet server costs nothing).
            tail.task.cancel()
            tail.task = None
            if self._tail is tail:
                self._tail = None
