"""The worker against the in-memory store, on a fake clock: the behaviours the database
suites check (limits, fairness, leases, backoff, cancel, poison, checkpoints, events), in
milliseconds. Time moves only when a test advances the clock; waits are on events."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import pytest

from pipeline.context import TaskContext
from pipeline.errors import (
    ConflictError,
    NotFoundError,
    PermanentError,
    TaskLimitError,
    TransientError,
)
from pipeline.events import EventHub
from pipeline.handlers import Handler, HandlerRegistry
from pipeline.memory_store import CANCELLED_UNCONFIRMED, MemoryQueueStore
from pipeline.queue import TaskQueue
from pipeline.settings import QueueSettings
from pipeline.store import EventInfo, EventType, Limits, TaskInfo, TaskStatus
from pipeline.worker import Worker
from tests.support.clock import FakeClock

SETTINGS = QueueSettings(
    lease_s=30.0,
    heartbeat_s=5.0,
    sweep_s=10.0,
    poll_s=1.0,
    retry_base_s=2.0,
    retry_cap_s=5.0,
    shutdown_grace_s=0.0,
    max_active_per_user=50,
)
H = TypeVar("H", bound=Handler)
STAGES = ("one", "two", "three", "four")
Q, S, P, C, F, X, R = (
    EventType.QUEUED,
    EventType.STARTED,
    EventType.PROGRESS,
    EventType.COMPLETED,
    EventType.FAILED,
    EventType.CANCELLED,
    EventType.RETRYING,
)


class Rig:
    """A queue, its store and handlers in memory, and workers driven by one fake clock."""

    def __init__(self, settings: QueueSettings = SETTINGS) -> None:
        self.clock = FakeClock()
        self.hub = EventHub()
        self.store = MemoryQueueStore(self.clock, on_events=self.hub.publish)
        self.settings = settings
        self.queue = TaskQueue(self.store, settings, self.hub)
        self.handlers = HandlerRegistry()
        self.limits = Limits(settings.max_processing, settings.max_processing_per_user)

    def handle(self, task_type: str, handler: H) -> H:
        self.handlers.register(task_type, handler)
        return handler

    async def enqueue(self, task_type: str, user_id: str = "u", **payload: Any) -> TaskInfo:
        return await self.queue.enqueue(task_type, payload, user_id=user_id)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Worker]:
        worker = Worker(self.store, self.handlers, self.settings, self.hub, sleep=self.clock.sleep)
        self.queue.attach(worker)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            yield worker
        finally:
            stop.set()
            await asyncio.wait_for(task, 2)

    async def wait(self, task_id: int) -> TaskInfo:
        return await asyncio.wait_for(self.queue.wait(task_id), 2)

    async def event(self, kind: EventType, task_id: int, after_id: int = 0) -> EventInfo:
        """The first event of ``kind`` of the task after ``after_id``, waiting for it."""

        async def first() -> EventInfo:
            # The hub's subscription is a generator: closed here, it leaves the tail at once.
            events = cast(
                AsyncGenerator[EventInfo, None],
                self.hub.subscribe(self.store, after_id=after_id, task_id=task_id),
            )
            async with contextlib.aclosing(events):
                async for event in events:
                    if event.type is kind:
                        return event
            raise AssertionError("unreachable")

        return await asyncio.wait_for(first(), 2)

    async def kinds(self, task_id: int) -> list[EventType]:
        return [e.type for e in await self.store.events_since(0, task_id=task_id)]


async def until(check: Callable[[], bool]) -> None:
    """Let the loop run until ``check`` holds (in-memory work needs turns, not time)."""
    for _ in range(10_000):
        if check():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def settle() -> None:
    """Enough loop turns for a worker to do all it would do now (claim again, start)."""
    for _ in range(200):
        await asyncio.sleep(0)


class Gates:
    """A handler that holds each task until the test opens its gate, and records how many
    tasks (and of which users) ran at once."""

    def __init__(self) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.running: dict[int, str] = {}
        self.peak_total = 0
        self.peak_user = 0
        self.all_open = False

    async def __call__(self, ctx: TaskContext) -> str:
        self.running[ctx.task.id] = ctx.user_id
        self.peak_total = max(self.peak_total, len(self.running))
        self.peak_user = max(self.peak_user, Counter(self.running.values())[ctx.user_id])
        gate = self.gates.setdefault(ctx.task.id, asyncio.Event())
        if self.all_open:
            gate.set()
        try:
            await gate.wait()
        finally:
            del self.running[ctx.task.id]
        return "ok"

    def open(self, task_id: int) -> None:
        self.gates.setdefault(task_id, asyncio.Event()).set()

    def open_all(self) -> None:
        self.all_open = True
        for gate in self.gates.values():
            gate.set()

    def users(self) -> Counter[str]:
        return Counter(self.running.values())


class Staged:
    """Four checkpointed stages, counting how often each runs; one can wait for a gate,
    one can fail transiently on the first attempt."""

    def __init__(self, *, wait_in: str | None = None, fail_once_in: str | None = None) -> None:
        self.runs: Counter[str] = Counter()
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()
        self.wait_in = wait_in
        self.fail_once_in = fail_once_in

    async def __call__(self, ctx: TaskContext) -> dict[str, Any]:
        outputs = []
        for i, name in enumerate(STAGES, start=1):

            async def run(name: str = name) -> str:
                self.runs[name] += 1
                if name == self.wait_in:
                    self.waiting.set()
                    await self.gate.wait()
                if name == self.fail_once_in and ctx.task.attempts == 1:
                    raise TransientError(f"{name} timed out")
                return f"{name}-done"

            outputs.append(await ctx.stage(name, run, progress=25 * i))
        return {"outputs": outputs}


async def flaky(ctx: TaskContext) -> str:
    if ctx.task.attempts <= int(ctx.payload["fail_times"]):
        raise TransientError(f"outage on attempt {ctx.task.attempts}")
    return "ok"


# --- limits and fairness ---------------------------------------------------------------


async def test_no_more_than_seven_tasks_run_at_once() -> None:
    rig = Rig()
    gates = rig.handle("gated", Gates())
    ids = [(await rig.enqueue("gated", user)).id for user in "abc" for _ in range(4)]
    # Two workers with room for seven each: the limit holds across them, in the store.
    async with rig.running(), rig.running():
        await until(lambda: len(gates.running) == 7)
        await settle()
        assert len(gates.running) == 7
        assert (await rig.store.counts()) == {"processing": 7, "pending": 5}
        gates.open_all()
        done = [await rig.wait(task_id) for task_id in ids]
    assert {t.status for t in done} == {TaskStatus.COMPLETED}
    assert gates.peak_total == 7


async def test_no_more_than_five_tasks_of_one_user_run_at_once() -> None:
    rig = Rig()
    gates = rig.handle("gated", Gates())
    ids = [(await rig.enqueue("gated", "heavy")).id for _ in range(9)]
    ids.append((await rig.enqueue("gated", "light")).id)
    async with rig.running():
        await until(lambda: len(gates.running) == 6)
        await settle()
        # A seventh slot is free, but only heavy has tasks left, and heavy is at its limit.
        assert gates.users() == {"heavy": 5, "light": 1}
        assert (await rig.store.claim("probe", 7, rig.limits, 30)).tasks == ()
        gates.open_all()
        done = [await rig.wait(task_id) for task_id in ids]
    assert {t.status for t in done} == {TaskStatus.COMPLETED}
    assert gates.peak_user == 5


async def test_a_user_with_twenty_tasks_does_not_starve_a_user_with_one() -> None:
    rig = Rig(replace(SETTINGS, max_processing=3))
    gates = rig.handle("gated", Gates())
    big = [(await rig.enqueue("gated", "big")).id for _ in range(20)]
    small = (await rig.enqueue("gated", "small")).id
    async with rig.running():
        await until(lambda: len(gates.running) == 3)
        # Oldest first would be big's first three; the small user's one task goes in.
        assert set(gates.running) == {big[0], small, big[1]}
        # A slot freed by big goes to a user with fewer tasks running, not to big's backlog.
        late = (await rig.enqueue("gated", "late")).id
        gates.open(big[0])
        await until(lambda: late in gates.running)
        assert set(gates.running) == {small, big[1], late}
        gates.open_all()
        await rig.wait(big[-1])


# --- leases ----------------------------------------------------------------------------


async def test_a_dead_workers_expired_lease_is_taken_back_and_run_by_another() -> None:
    rig = Rig()
    rig.handlers.register("quick", Staged())
    info = await rig.enqueue("quick")
    # Claimed by a worker that is not registered: one that died.
    await rig.store.claim("dead", 1, rig.limits, rig.settings.lease_s)
    async with rig.running() as worker:
        await settle()
        assert (await rig.store.get_task(info.id)).owner == "dead"  # its lease still runs
        rig.clock.advance(rig.settings.lease_s + 1)  # past a sweep, too
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.COMPLETED and done.attempts == 2
    events = await rig.store.events_since(0, task_id=info.id)
    assert [e.type for e in events] == [Q, S, R, S] + [P] * 4 + [C]
    assert [e.data["worker"] for e in events if e.type is S] == ["dead", worker.id]
    assert events[2].data == {"reason": "lease of dead expired"}


async def test_a_running_task_keeps_its_lease_by_heartbeats() -> None:
    rig = Rig()
    gates = rig.handle("gated", Gates())
    info = await rig.enqueue("gated")
    async with rig.running():
        await until(lambda: info.id in gates.running)
        for _ in range(10):  # 50 s: the first lease alone ran out after 30
            rig.clock.advance(rig.settings.heartbeat_s)
            await until(functools.partial(_leased_past, rig, info.id, rig.clock()))
        assert await rig.store.recover_expired(silent_worker_s=1) == []
        gates.open_all()
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.COMPLETED and done.attempts == 1


def _leased_past(rig: Rig, task_id: int, when: datetime) -> bool:
    # Read without an await, so that ``until`` can poll it.
    lease = rig.store._tasks[task_id].lease_expires_at
    return lease is not None and lease > when


async def test_a_live_workers_late_lease_stands_until_the_worker_falls_silent() -> None:
    rig = Rig()
    info = await rig.enqueue("any")
    await rig.store.register_worker("slow", "host", 1)
    await rig.store.claim("slow", 1, rig.limits, 30)
    rig.clock.advance(31)
    assert await rig.store.recover_expired(silent_worker_s=300) == []
    assert (await rig.store.get_task(info.id)).owner == "slow"
    rig.clock.advance(300)  # no renewal for 331 s: hung
    assert await rig.store.recover_expired(silent_worker_s=300) == [info.id]
    back = await rig.store.get_task(info.id)
    assert back.status is TaskStatus.PENDING and back.owner is None
    # A late write of the hung worker changes nothing.
    assert await rig.store.complete(info.id, "slow", "late") is False
    assert (await rig.store.get_task(info.id)).status is TaskStatus.PENDING


async def test_a_renewal_pushes_the_lease_back() -> None:
    rig = Rig()
    info = await rig.enqueue("any")
    await rig.store.claim("w", 1, rig.limits, 30)  # unregistered: only its lease protects it
    rig.clock.advance(25)
    assert await rig.store.heartbeat("w", [info.id], 30) == set()
    rig.clock.advance(25)
    assert await rig.store.recover_expired() == []
    rig.clock.advance(10)
    assert await rig.store.recover_expired() == [info.id]


# --- retries and poison ----------------------------------------------------------------


async def test_a_transient_error_is_retried_after_a_backoff_that_grows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the jitter's ceiling
    rig = Rig(replace(SETTINGS, max_attempts=4))
    rig.handlers.register("flaky", flaky)
    info = await rig.enqueue("flaky", fail_times=3)
    delays = []
    async with rig.running():
        seen = 0
        for attempt in (1, 2, 3):
            retrying = await rig.event(R, info.id, after_id=seen)
            delays.append(retrying.data["delay_s"])
            pending = await rig.store.get_task(info.id)
            assert pending.status is TaskStatus.PENDING
            assert pending.error == f"outage on attempt {attempt}"
            assert pending.run_after == rig.clock() + timedelta(seconds=delays[-1])
            rig.clock.advance(delays[-1] - 0.1)
            assert (await rig.store.claim("probe", 1, rig.limits, 30)).tasks == ()  # not yet
            rig.clock.advance(0.1 + rig.settings.poll_s)  # due, and the worker polls
            started = await rig.event(S, info.id, after_id=retrying.id)
            assert started.data["attempt"] == attempt + 1
            assert started.created_at >= pending.run_after
            seen = started.id
        done = await rig.wait(info.id)
    assert delays == [2.0, 4.0, 5.0]  # base 2 s, doubling, capped at 5 s
    assert done.status is TaskStatus.COMPLETED and done.attempts == 4


async def test_a_task_failing_on_every_attempt_gives_up_with_its_last_error() -> None:
    rig = Rig()
    rig.handlers.register("flaky", flaky)
    info = await rig.enqueue("flaky", fail_times=99)
    async with rig.running():
        seen = 0
        for _ in range(2):
            seen = (await rig.event(R, info.id, after_id=seen)).id
            rig.clock.advance(rig.settings.retry_cap_s + rig.settings.poll_s)
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.FAILED and done.attempts == 3
    assert done.error == "gave up after 3 attempts: outage on attempt 3"
    assert await rig.kinds(info.id) == [Q, S, R, S, R, S, F]


async def test_a_task_whose_workers_keep_dying_is_failed_instead_of_run_again() -> None:
    rig = Rig()
    ran: list[int] = []

    async def record(ctx: TaskContext) -> None:
        ran.append(ctx.task.id)

    rig.handlers.register("poison", record)
    info = await rig.enqueue("poison")
    for attempt in (1, 2, 3):
        claimed = await rig.store.claim(f"crashed-{attempt}", 1, rig.limits, 30)
        assert [t.attempts for t in claimed.tasks] == [attempt]
        rig.clock.advance(31)
        assert await rig.store.recover_expired() == [info.id]
    async with rig.running():
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.FAILED and done.error == "gave up after 3 attempts"
    assert ran == []
    assert (await rig.kinds(info.id))[-1] is F


# --- cancel ----------------------------------------------------------------------------


async def test_a_pending_task_cancelled_never_runs() -> None:
    rig = Rig()
    staged = rig.handle("staged", Staged())
    info = await rig.enqueue("staged")
    assert await rig.queue.cancel(info.id) is TaskStatus.CANCELLED
    other = await rig.enqueue("staged")
    async with rig.running():
        assert (await rig.wait(other.id)).status is TaskStatus.COMPLETED
    cancelled = await rig.store.get_task(info.id)
    assert cancelled.status is TaskStatus.CANCELLED and cancelled.attempts == 0
    assert cancelled.error == "cancelled before it started"
    assert await rig.kinds(info.id) == [Q, X]
    assert staged.runs["one"] == 1  # the other task's


async def test_a_running_task_cancelled_stops_and_says_what_it_saved_then_resumes() -> None:
    rig = Rig()
    staged = rig.handle("staged", Staged(wait_in="two"))
    info = await rig.enqueue("staged")
    async with rig.running():
        await asyncio.wait_for(staged.waiting.wait(), 2)
        assert await rig.queue.cancel(info.id) is TaskStatus.PROCESSING
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.CANCELLED
    assert done.error == "cancelled by request; saved before stopping: stages one"
    assert set(await rig.store.steps(info.id)) == {"one"}
    assert await rig.kinds(info.id) == [Q, S, P, X]
    # Retried, it resumes after its saved stage: "one" is not run again.
    await rig.queue.retry(info.id)
    with pytest.raises(ConflictError, match="only failed or cancelled"):
        await rig.queue.retry(info.id)
    staged.gate.set()
    async with rig.running():
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.COMPLETED
    assert staged.runs == {"one": 1, "two": 2, "three": 1, "four": 1}


async def test_a_cancel_stored_by_another_process_reaches_the_worker_at_its_heartbeat() -> None:
    rig = Rig()
    staged = rig.handle("staged", Staged(wait_in="two"))
    info = await rig.enqueue("staged")
    async with rig.running():
        await asyncio.wait_for(staged.waiting.wait(), 2)
        # Only the flag in the store: no worker of this process is told.
        assert await rig.store.request_cancel(info.id) is TaskStatus.PROCESSING
        await settle()
        assert (await rig.store.get_task(info.id)).status is TaskStatus.PROCESSING
        rig.clock.advance(rig.settings.heartbeat_s)
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.CANCELLED
    assert done.error is not None and done.error.startswith("cancelled by request; saved")


async def test_a_cancel_its_dead_worker_never_confirmed_ends_cancelled() -> None:
    rig = Rig()
    info = await rig.enqueue("any")
    await rig.store.claim("dead", 1, rig.limits, 30)
    await rig.store.request_cancel(info.id)
    rig.clock.advance(31)
    assert await rig.store.recover_expired() == [info.id]
    assert await rig.store.complete(info.id, "dead", {"late": True}) is False
    assert await rig.store.save_step(info.id, "dead", "one", "x", 25) is False
    done = await rig.store.get_task(info.id)
    assert done.status is TaskStatus.CANCELLED and done.result is None
    assert done.error == CANCELLED_UNCONFIRMED
    assert await rig.store.steps(info.id) == {}


# --- checkpoints, events, shutdown -----------------------------------------------------


async def test_a_retry_resumes_after_the_stages_it_saved() -> None:
    rig = Rig()
    staged = rig.handle("staged", Staged(fail_once_in="three"))
    info = await rig.enqueue("staged")
    async with rig.running():
        await rig.event(R, info.id)
        rig.clock.advance(rig.settings.retry_cap_s + rig.settings.poll_s)
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.COMPLETED and done.attempts == 2
    assert staged.runs == {"one": 1, "two": 1, "three": 2, "four": 1}
    assert done.result == {"outputs": [f"{name}-done" for name in STAGES]}


async def test_a_task_tells_its_story_in_events() -> None:
    rig = Rig()
    rig.handlers.register("staged", Staged())
    info = await rig.enqueue("staged")
    async with rig.running() as worker:
        done = await rig.wait(info.id)
    assert done.status is TaskStatus.COMPLETED and done.progress == 100
    events = await rig.store.events_since(0, task_id=info.id)
    assert [e.type for e in events] == [Q, S] + [P] * 4 + [C]
    assert events[0].data == {"type": "staged"}
    assert events[1].data == {"attempt": 1, "worker": worker.id}
    assert [e.data["progress"] for e in events if e.type is P] == [25, 50, 75, 100]
    assert events[-1].data == {"result": done.result}
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))


async def test_permanent_and_unknown_failures_fail_at_once_with_their_message() -> None:
    rig = Rig()

    async def broken(ctx: TaskContext) -> None:
        raise PermanentError("not a PDF")

    rig.handlers.register("broken", broken)
    bad = await rig.enqueue("broken")
    unknown = await rig.enqueue("no_such_type")
    async with rig.running():
        failed = [await rig.wait(bad.id), await rig.wait(unknown.id)]
    assert [(t.status, t.attempts, t.error) for t in failed] == [
        (TaskStatus.FAILED, 1, "not a PDF"),
        (TaskStatus.FAILED, 1, "Unknown task type: no_such_type"),
    ]
    assert await rig.kinds(bad.id) == [Q, S, F]


async def test_a_stopping_worker_gives_its_tasks_back_without_spending_an_attempt() -> None:
    rig = Rig()
    gates = rig.handle("gated", Gates())
    info = await rig.enqueue("gated")
    async with rig.running():
        await until(lambda: info.id in gates.running)
    back = await rig.store.get_task(info.id)
    assert back.status is TaskStatus.PENDING and back.attempts == 0 and back.owner is None
    last = (await rig.store.events_since(0, task_id=info.id))[-1]
    assert last.type is R and last.data == {"reason": "worker shut down"}


async def test_store_refusals_raise_the_errors_of_the_sql_store() -> None:
    store = MemoryQueueStore(FakeClock())
    for _ in range(5):
        await store.enqueue("t", "bob", {}, max_attempts=3, max_active_per_user=5)
    with pytest.raises(TaskLimitError, match=r"already has 5 active tasks \(limit 5\)"):
        await store.enqueue("t", "bob", {}, max_attempts=3, max_active_per_user=5)
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.get_task(99),
        lambda: store.request_cancel(99),
        lambda: store.retry(99, max_active_per_user=5),
    ]
    for call in calls:
        with pytest.raises(NotFoundError, match="no task 99"):
            await call()
    with pytest.raises(ConflictError, match="task 1 is pending"):
        await store.retry(1, max_active_per_user=5)
