"""The in-memory store and the SQL store on SQLite do the same things: the worker's unit
tests run on the first, so it must not drift from the second. (Behaviours that need time
to pass are in tests/unit/test_worker_memory.py on the fake clock, and in the SQL suites.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from models.db import open_database
from models.queue_store import SqlQueueStore
from pipeline.errors import ConflictError, NotFoundError, TaskLimitError
from pipeline.memory_store import MemoryQueueStore
from pipeline.store import EventType, Limits, QueueStore, TaskInfo, TaskStatus

LIMITS = Limits(max_processing=7, max_processing_per_user=5)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[QueueStore]:
    if request.param == "memory":
        yield MemoryQueueStore()
        return
    db = open_database(f"sqlite:///{tmp_path / 'contract.db'}")
    sql = SqlQueueStore(db)
    await sql.create_schema()
    try:
        yield sql
    finally:
        await sql.close()
        await db.dispose()


async def add(store: QueueStore, user: str = "u", **payload: object) -> TaskInfo:
    return await store.enqueue("t", user, dict(payload), max_attempts=3, max_active_per_user=9)


async def test_claims_are_fair_and_within_the_limits(store: QueueStore) -> None:
    for _ in range(5):
        await add(store, "heavy")
    await add(store, "light")
    claimed = await store.claim("w", 7, Limits(7, 3), 30)
    # Fewer running first, then oldest: heavy's first, light's only, heavy's next two.
    assert [(t.user_id, t.id) for t in claimed.tasks] == [
        ("heavy", 1),
        ("light", 6),
        ("heavy", 2),
        ("heavy", 3),
    ]
    assert all(t.status is TaskStatus.PROCESSING and t.attempts == 1 for t in claimed.tasks)
    assert (await store.claim("w2", 7, Limits(7, 3), 30)).tasks == ()
    assert (await store.claim("w2", 7, Limits(4, 5), 30)).tasks == ()  # all 4 slots taken
    assert await store.counts() == {"processing": 4, "pending": 2}


async def test_enqueue_refuses_past_the_active_limit(store: QueueStore) -> None:
    for _ in range(2):
        await store.enqueue("t", "bob", {}, max_attempts=3, max_active_per_user=2)
    with pytest.raises(TaskLimitError, match=r"already has 2 active tasks \(limit 2\)"):
        await store.enqueue("t", "bob", {}, max_attempts=3, max_active_per_user=2)
    events = await store.events_since(0)
    queued = (EventType.QUEUED, {"type": "t"}, "bob")
    assert [(e.type, e.data, e.user_id) for e in events] == [queued] * 2


async def test_only_the_owner_writes_and_a_step_is_written_once(store: QueueStore) -> None:
    info = await add(store)
    await store.claim("w", 1, LIMITS, 30)
    assert await store.save_step(info.id, "other", "one", "x", 10) is False
    assert await store.save_step(info.id, "w", "one", {"n": (1, 2)}, 25) is True
    assert await store.save_step(info.id, "w", "one", "replayed", None) is True
    assert await store.update_progress(info.id, "w", 40, "page 2") is True
    assert await store.steps(info.id) == {"one": {"n": [1, 2]}}
    assert await store.complete(info.id, "other", "x") is False
    assert await store.complete(info.id, "w", {"ok": 1}) is True
    assert await store.complete(info.id, "w", {"ok": 2}) is False
    done = await store.get_task(info.id)
    assert (done.status, done.result, done.progress, done.stage, done.owner) == (
        TaskStatus.COMPLETED,
        {"ok": 1},
        100,
        "one",
        None,
    )
    events = await store.events_since(0, task_id=info.id)
    assert [(e.type, e.data) for e in events][2:] == [
        (EventType.PROGRESS, {"stage": "one", "progress": 25}),
        (EventType.PROGRESS, {"progress": 40, "message": "page 2"}),
        (EventType.COMPLETED, {"result": {"ok": 1}}),
    ]


async def test_cancel_pending_at_once_and_running_by_flag(store: QueueStore) -> None:
    running = await add(store)
    pending = await add(store)
    await store.claim("w", 1, LIMITS, 30)
    assert await store.request_cancel(pending.id) is TaskStatus.CANCELLED
    assert await store.request_cancel(running.id) is TaskStatus.PROCESSING
    assert await store.heartbeat("w", [running.id], 30) == {running.id}
    assert await store.cancelled(running.id, "w", "stopped") is True
    assert await store.request_cancel(running.id) is TaskStatus.CANCELLED
    cancelled = await store.get_task(pending.id)
    assert cancelled.error == "cancelled before it started" and cancelled.attempts == 0
    with pytest.raises(NotFoundError):
        await store.request_cancel(999)


async def test_requeued_to_exhaustion_a_task_is_given_up_by_the_claim(store: QueueStore) -> None:
    info = await add(store)
    for attempt in (1, 2, 3):
        (claimed,) = (await store.claim("w", 1, LIMITS, 30)).tasks
        assert claimed.attempts == attempt
        assert await store.requeue(info.id, "w", f"boom {attempt}", 0) is True
    claimed_none = await store.claim("w", 1, LIMITS, 30)
    assert claimed_none.tasks == () and claimed_none.gave_up == (info.id,)
    failed = await store.get_task(info.id)
    assert failed.status is TaskStatus.FAILED
    assert failed.error == "gave up after 3 attempts; last error: boom 3"
    kinds = [e.type for e in await store.events_since(0, task_id=info.id)]
    assert kinds == [EventType.QUEUED] + [EventType.STARTED, EventType.RETRYING] * 3 + [
        EventType.FAILED
    ]
    retried = await store.retry(info.id, max_active_per_user=5)
    assert (retried.status, retried.attempts, retried.error) == (TaskStatus.PENDING, 0, None)
    with pytest.raises(ConflictError, match="only failed or cancelled"):
        await store.retry(info.id, max_active_per_user=5)


async def test_a_released_task_gets_its_attempt_back(store: QueueStore) -> None:
    info = await add(store)
    await store.claim("w", 1, LIMITS, 30)
    assert await store.release(info.id, "w") is True
    back = await store.get_task(info.id)
    assert (back.status, back.attempts, back.owner) == (TaskStatus.PENDING, 0, None)
    (last,) = await store.events_since(await store.latest_event_id() - 1)
    assert last.type is EventType.RETRYING and last.data == {"reason": "worker shut down"}


async def test_readers_filter_order_and_limit_alike(store: QueueStore) -> None:
    for i in range(4):
        await add(store, "ab"[i % 2], doc=i)
    await store.claim("w", 1, LIMITS, 30)
    assert [t.id for t in await store.list_tasks()] == [4, 3, 2, 1]
    assert [t.id for t in await store.list_tasks(user_id="a", limit=1)] == [3]
    assert [t.id for t in await store.list_tasks(status=TaskStatus.PROCESSING)] == [1]
    assert [t.id for t in await store.find_by_payload("t", "doc", 2)] == [3]
    assert await store.find_by_payload("other", "doc", 2) == []
    assert [e.task_id for e in await store.events_since(2, user_id="b")] == [4]
    assert [e.id for e in await store.events_since(0, limit=2)] == [1, 2]
    assert await store.latest_event_id() == 5
    with pytest.raises(NotFoundError):
        await store.get_task(999)
