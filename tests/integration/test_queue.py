"""The queue on a real SQLite file and on the real PostgreSQL server, in one process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy
from sqlalchemy import Connection, update

from models.base import utcnow
from models.tables import Task
from pipeline.context import TaskContext
from pipeline.errors import ConflictError, NotFoundError, TaskLimitError, TransientError
from pipeline.store import EventType, TaskStatus
from pipeline.worker import Worker
from schoolx.app import App


@contextlib.asynccontextmanager
async def running(app: App) -> AsyncIterator[Worker]:
    worker = app.new_worker()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def wait_status(app: App, task_id: int, timeout_s: float = 60) -> TaskStatus:
    info = await asyncio.wait_for(app.queue.wait(task_id), timeout_s)
    return info.status


async def test_enqueue_stores_task_and_queued_event(app: App) -> None:
    info = await app.queue.enqueue("staged", {"x": 1}, user_id="alice")
    assert info.status is TaskStatus.PENDING
    assert info.payload == {"x": 1}
    events = await app.store.events_since(0, task_id=info.id)
    assert [e.type for e in events] == [EventType.QUEUED]
    assert events[0].user_id == "alice"


async def test_sixth_active_task_is_refused_with_the_limit_in_the_message(app: App) -> None:
    for _ in range(5):
        await app.queue.enqueue("staged", {}, user_id="bob")
    with pytest.raises(TaskLimitError, match=r"already has 5 active tasks \(limit 5\)"):
        await app.queue.enqueue("staged", {}, user_id="bob")
    # Another user is not affected.
    await app.queue.enqueue("staged", {}, user_id="carol")


async def test_twenty_concurrent_enqueues_never_exceed_the_limit(app: App) -> None:
    results = await asyncio.gather(
        *(app.queue.enqueue("staged", {}, user_id="race") for _ in range(20)),
        return_exceptions=True,
    )
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, TaskLimitError)]
    assert len(accepted) == 5 and len(refused) == 15
    assert len(await app.store.list_tasks(user_id="race")) == 5


async def test_concurrent_enqueues_from_two_connections_never_exceed_the_limit(
    app: App, db_url: str
) -> None:
    from schoolx.app import open_app
    from tests.conftest import FAST

    other = await open_app(db_url, FAST)
    try:
        results = await asyncio.gather(
            *(q.enqueue("staged", {}, user_id="race2") for q in [app.queue, other.queue] * 10),
            return_exceptions=True,
        )
    finally:
        await other.close()
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert len(await app.store.list_tasks(user_id="race2")) == 5


async def test_stages_run_in_order_with_progress_and_events(app: App) -> None:
    info = await app.queue.enqueue("staged", {}, user_id="alice")
    async with running(app):
        assert await wait_status(app, info.id) is TaskStatus.COMPLETED
    done = await app.queue.get(info.id)
    assert done.progress == 100
    assert done.result == {"outputs": ["one-done", "two-done", "three-done", "four-done"]}
    assert set(await app.store.steps(info.id)) == {"one", "two", "three", "four"}
    events = await app.store.events_since(0, task_id=info.id)
    kinds = [e.type for e in events]
    assert kinds == [EventType.QUEUED, EventType.STARTED] + [EventType.PROGRESS] * 4 + [
        EventType.COMPLETED
    ]
    assert [e.data["progress"] for e in events if e.type is EventType.PROGRESS] == [25, 50, 75, 100]
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_unknown_type_fails_with_its_name(app: App) -> None:
    info = await app.queue.enqueue("no_such_type", {}, user_id="alice")
    async with running(app):
        assert await wait_status(app, info.id) is TaskStatus.FAILED
    assert (await app.queue.get(info.id)).error == "Unknown task type: no_such_type"


async def test_permanent_error_fails_at_once_with_its_message(app: App) -> None:
    info = await app.queue.enqueue("broken", {"message": "not a PDF"}, user_id="alice")
    async with running(app):
        assert await wait_status(app, info.id) is TaskStatus.FAILED
    done = await app.queue.get(info.id)
    assert done.error == "not a PDF" and done.attempts == 1


async def test_transient_error_is_retried_with_backoff_then_succeeds(app: App) -> None:
    info = await app.queue.enqueue("flaky", {"fail_times": 2}, user_id="alice")
    async with running(app):
        assert await wait_status(app, info.id) is TaskStatus.COMPLETED
    done = await app.queue.get(info.id)
    assert done.attempts == 3
    retrying = [
        e for e in await app.store.events_since(0, task_id=info.id) if e.type is EventType.RETRYING
    ]
    assert len(retrying) == 2 and all(e.data["delay_s"] > 0 for e in retrying)


async def test_a_retry_waits_out_its_backoff(app: App) -> None:
    app.settings = replace(app.settings, retry_base_s=0.3, retry_cap_s=0.3)
    info = await app.queue.enqueue("flaky", {"fail_times": 1}, user_id="alice")
    async with running(app):
        assert await wait_status(app, info.id) is TaskStatus.COMPLETED
    events = await app.store.events_since(0, task_id=info.id)
    (retrying,) = [e for e in events if e.type is EventType.RETRYING]
    restarted = [e for e in events if e.type is EventType.STARTED][1]
    waited = (restarted.created_at - retrying.created_at).total_seconds()
    assert waited >= retrying.data["delay_s"] - 0.02, (waited, retrying.data)


async def test_transient_error_gives_up_after_max_attempts(app: App) -> None:
    info = await app.queue.enqueue("flaky", {"fail_times": 99}, user_id="alice")
    async with running(app):
        assert await wait_status(app, info.id) is TaskStatus.FAILED
    done = await app.queue.get(info.id)
    assert done.attempts == 3
    assert done.error is not None and done.error.startswith("gave up after 3 attempts")


async def test_cancel_pending_is_immediate(app: App) -> None:
    info = await app.queue.enqueue("staged", {}, user_id="alice")
    assert await app.queue.cancel(info.id) is TaskStatus.CANCELLED
    assert (await app.queue.get(info.id)).status is TaskStatus.CANCELLED
    kinds = [e.type for e in await app.store.events_since(0, task_id=info.id)]
    assert kinds == [EventType.QUEUED, EventType.CANCELLED]


async def test_cancel_running_in_same_process_stops_at_next_await(app: App) -> None:
    info = await app.queue.enqueue("staged", {"sleep": {"two": 30}}, user_id="alice")
    async with running(app):
        await wait_for_stage(app, info.id, "one")
        await app.queue.cancel(info.id)
        assert await wait_status(app, info.id) is TaskStatus.CANCELLED
    steps = await app.store.steps(info.id)
    assert set(steps) == {"one"}


async def test_cancel_from_another_connection_reaches_the_worker(app: App, db_url: str) -> None:
    from schoolx.app import open_app
    from tests.conftest import FAST

    info = await app.queue.enqueue("staged", {"sleep": {"two": 30}}, user_id="alice")
    other = await open_app(db_url, FAST)
    try:
        async with running(app):
            await wait_for_stage(app, info.id, "one")
            # The other App has no local worker: only the flag in the database is set.
            assert await other.queue.cancel(info.id) is TaskStatus.PROCESSING
            assert await wait_status(app, info.id) is TaskStatus.CANCELLED
    finally:
        await other.close()


async def test_late_write_cannot_overwrite_a_cancellation(app: App) -> None:
    info = await app.queue.enqueue("staged", {}, user_id="alice")
    claimed = await app.store.claim("old-worker", 1, app.queue_limits(), 30)
    assert [t.id for t in claimed.tasks] == [info.id]
    await app.store.request_cancel(info.id)
    await expire_lease(app, info.id)
    assert await app.store.recover_expired() == [info.id]
    assert (await app.queue.get(info.id)).status is TaskStatus.CANCELLED
    # The old run wakes up late and tries to finish: nothing changes.
    assert await app.store.complete(info.id, "old-worker", {"late": True}) is False
    assert await app.store.save_step(info.id, "old-worker", "one", "x", 25) is False
    done = await app.queue.get(info.id)
    assert done.status is TaskStatus.CANCELLED and done.result is None


async def test_expired_lease_goes_back_to_pending_and_live_leases_stay(app: App) -> None:
    a = await app.queue.enqueue("staged", {}, user_id="alice")
    b = await app.queue.enqueue("staged", {}, user_id="alice")
    claimed = await app.store.claim("w1", 2, app.queue_limits(), 30)
    assert {t.id for t in claimed.tasks} == {a.id, b.id}
    await expire_lease(app, a.id)
    assert await app.store.recover_expired() == [a.id]
    assert (await app.queue.get(a.id)).status is TaskStatus.PENDING
    assert (await app.queue.get(b.id)).status is TaskStatus.PROCESSING


async def test_poison_task_that_keeps_crashing_ends_failed(app: App) -> None:
    info = await app.queue.enqueue("staged", {}, user_id="alice")
    for attempt in range(1, 4):
        claimed = await app.store.claim(f"crashy-{attempt}", 1, app.queue_limits(), 30)
        assert [t.attempts for t in claimed.tasks] == [attempt]
        await expire_lease(app, info.id)  # the worker "died"
        await app.store.recover_expired()
    claimed = await app.store.claim("next", 1, app.queue_limits(), 30)
    assert claimed.tasks == () and claimed.gave_up == (info.id,)
    done = await app.queue.get(info.id)
    assert done.status is TaskStatus.FAILED
    assert done.error is not None and done.error.startswith("gave up after 3 attempts")


async def test_claim_respects_global_and_per_user_limits_and_is_fair(app: App) -> None:
    app.settings = app.settings  # limits 7 / 5 by default
    for _ in range(5):
        await app.queue.enqueue("staged", {}, user_id="heavy")
    await app.queue.enqueue("staged", {}, user_id="light")
    claimed = await app.store.claim("w", 7, app.queue_limits(per_user=3), 30)
    users = [t.user_id for t in claimed.tasks]
    assert users.count("heavy") == 3  # per-user limit
    assert "light" in users  # not starved by heavy's backlog
    more = await app.store.claim("w2", 7, app.queue_limits(per_user=3), 30)
    assert more.tasks == ()


async def test_claim_policy_is_the_same_on_both_databases(app: App) -> None:
    # The claim policy is written twice: in Python for SQLite (models/queue_sqlite.py) and
    # in PL/pgSQL for PostgreSQL (schoolx_claim, migration 0004). Both must give exactly
    # this order: fewest running for the user plus rank within the user, then oldest; the
    # limits; tasks out of attempts given up; tasks not yet due left alone.
    async def add(user: str, **values: object) -> int:
        task_id = (await app.queue.enqueue("staged", {}, user_id=user)).id
        if values:
            async with app.db.write.begin() as conn:
                await conn.execute(update(Task).where(Task.id == task_id).values(**values))
        return task_id

    a1 = await add("a")
    assert [t.id for t in (await app.store.claim("w0", 1, app.queue_limits(), 30)).tasks] == [a1]
    a2, a3, b1, b2, b3, c1 = [await add(u) for u in "aabbbc"]
    d1 = await add("d", attempts=Task.max_attempts, error="boom")
    e1 = await add("e", run_after=utcnow() + timedelta(hours=1))
    f1 = await add("f")

    async def claim(want: int, total: int) -> tuple[list[int], list[int]]:
        got = await app.store.claim("w", want, app.queue_limits(total=total, per_user=2), 30)
        return [t.id for t in got.tasks], list(got.gave_up)

    assert await claim(4, 10) == ([b1, c1, f1, a2], [d1])
    assert await claim(10, 6) == ([b2], [])
    assert await claim(10, 10) == ([], [])
    gave_up = await app.store.get_task(d1)
    assert gave_up.status is TaskStatus.FAILED
    assert gave_up.error == f"gave up after {gave_up.max_attempts} attempts; last error: boom"
    for pending in (a3, b3, e1):
        assert (await app.store.get_task(pending)).status is TaskStatus.PENDING


async def test_a_finished_task_and_the_next_claim_share_one_transaction(app: App) -> None:
    # One slot and no idle polling: every claim after the first follows a finished task.
    app.settings = replace(
        app.settings, worker_concurrency=1, poll_s=30.0, heartbeat_s=60.0, sweep_s=60.0
    )
    ids = [
        (await app.queue.enqueue("sleep", {"seconds": 0.01}, user_id=f"u{i % 2}")).id
        for i in range(10)
    ]
    commits = 0

    def counted(_conn: Connection) -> None:
        nonlocal commits
        commits += 1

    sqlalchemy.event.listen(app.db.sync_write, "commit", counted)
    try:
        async with running(app):
            for task_id in ids:
                assert await wait_status(app, task_id) is TaskStatus.COMPLETED
            seen = commits
    finally:
        sqlalchemy.event.remove(app.db.sync_write, "commit", counted)
    # Registration, the first sweep and the first claim, then one transaction per task
    # (its completion and the next claim), and a claim or two that find the queue empty.
    # Written separately it would be at least 2 per task: 23 here.
    assert seen <= len(ids) + 6, seen


async def test_no_task_is_claimed_once_stop_is_set(app: App) -> None:
    app.settings = replace(app.settings, worker_concurrency=1)
    stop = asyncio.Event()
    ran: list[int] = []

    async def stops_the_worker(ctx: TaskContext) -> None:
        ran.append(ctx.task.id)
        stop.set()  # as a signal would, while this handler is returning

    app.handlers.register("stopper", stops_the_worker)
    first = await app.queue.enqueue("stopper", {}, user_id="u")
    second = await app.queue.enqueue("stopper", {}, user_id="u")
    await asyncio.wait_for(app.new_worker().run(stop), 60)
    assert ran == [first.id]
    assert (await app.store.get_task(second.id)).status is TaskStatus.PENDING


async def test_a_retry_claimed_in_its_own_requeue_transaction_stays_tracked(app: App) -> None:
    # No backoff: the requeue and the claim right behind it share one transaction, so
    # the worker takes the same task again while the first attempt is still returning.
    app.settings = replace(app.settings, retry_base_s=1e-6, retry_cap_s=1e-6)
    attempts: list[int] = []
    first: list[asyncio.Task[object]] = []  # the first attempt's task
    second_started = asyncio.Event()
    release = asyncio.Event()

    async def fails_once(ctx: TaskContext) -> str:
        attempts.append(ctx.task.attempts)
        if ctx.task.attempts == 1:
            current = asyncio.current_task()
            assert current is not None
            first.append(current)
            raise TransientError("once")
        second_started.set()
        await release.wait()
        return "ok"

    app.handlers.register("fails_once", fails_once)
    info = await app.queue.enqueue("fails_once", {}, user_id="u")
    async with running(app) as worker:
        await asyncio.wait_for(second_started.wait(), 60)
        await asyncio.wait(first, timeout=60)  # the first attempt has returned for good
        assert first[0].done() and not release.is_set()
        assert worker.running == [info.id]  # still tracked: heartbeats, shutdown, slots
        release.set()
        assert await wait_status(app, info.id) is TaskStatus.COMPLETED
    assert attempts == [1, 2]
    assert (await app.store.get_task(info.id)).attempts == 2


async def test_retry_resumes_from_checkpoints(app: App) -> None:
    info = await app.queue.enqueue("staged", {"sleep": {"three": 30}}, user_id="alice")
    async with running(app):
        await wait_for_stage(app, info.id, "two")
        await app.queue.cancel(info.id)
        assert await wait_status(app, info.id) is TaskStatus.CANCELLED
    await app.queue.retry(info.id)
    with pytest.raises(ConflictError, match="only failed or cancelled"):
        await app.queue.retry(info.id)
    # The retried run must not sleep in stage three forever: drop the sleep via payload edit.
    async with app.db.write.begin() as conn:
        await conn.execute(update(Task).where(Task.id == info.id).values(payload={}))
    async with running(app):
        assert await wait_status(app, info.id) is TaskStatus.COMPLETED
    assert (await app.queue.get(info.id)).result["outputs"][:2] == ["one-done", "two-done"]


async def test_progress_is_clamped(app: App) -> None:
    from pipeline.context import clamp_progress

    assert clamp_progress(-5) == 0 and clamp_progress(250) == 100 and clamp_progress(42.4) == 42


async def test_unknown_task_id_is_not_found(app: App) -> None:
    with pytest.raises(NotFoundError):
        await app.queue.get(987654)
    with pytest.raises(NotFoundError):
        await app.queue.cancel(987654)


async def test_subscribers_get_stored_then_live_events(app: App) -> None:
    first = await app.queue.enqueue("staged", {}, user_id="sub")
    seen: list[tuple[int, EventType]] = []

    async def collect() -> None:
        async for event in app.queue.subscribe(user_id="sub"):
            seen.append((event.task_id, event.type))
            if event.type is EventType.COMPLETED and event.task_id != first.id:
                return

    collector = asyncio.create_task(collect())
    async with running(app):
        second = await app.queue.enqueue("staged", {}, user_id="sub")
        await asyncio.wait_for(collector, 60)
    assert seen[0] == (first.id, EventType.QUEUED)
    assert (second.id, EventType.COMPLETED) in seen


async def wait_for_stage(app: App, task_id: int, stage: str, timeout_s: float = 60) -> None:
    async def poll() -> None:
        while stage not in await app.store.steps(task_id):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout_s)


async def expire_lease(app: App, task_id: int) -> None:
    async with app.db.write.begin() as conn:
        await conn.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
