"""A worker process: claims tasks within the limits, runs them, keeps their leases alive.

Background loops (heartbeat, sweeper) run beside the claim loop. Stop is an
``asyncio.Event``; running tasks get a grace period, then are released to another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from pipeline.context import LeaseLost, TaskContext
from pipeline.errors import PermanentError, StorageUnavailable, StoreError, TransientError
from pipeline.events import EventHub
from pipeline.handlers import HandlerRegistry
from pipeline.retry import backoff_delay
from pipeline.settings import QueueSettings
from pipeline.store import Limits, QueueStore, TaskInfo, TaskStatus

log = logging.getLogger("schoolx.worker")


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(
        self,
        store: QueueStore,
        handlers: HandlerRegistry,
        settings: QueueSettings,
        hub: EventHub,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.id = new_worker_id()
        self.store = store
        self.handlers = handlers
        self.settings = settings
        self.hub = hub
        # Every wait on time (idle poll, heartbeat, sweep): tests pass a fake clock's sleep.
        self._sleep = sleep
        self._running: dict[int, asyncio.Task[None]] = {}
        self._cancel_requested: set[int] = set()
        self._lost: set[int] = set()
        self._finishing: set[int] = set()
        self._claiming = 0  # slots asked for by claims in flight
        self._claim_behind_soon = False
        self._claims: set[asyncio.Task[bool]] = set()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._fatal: StorageUnavailable | None = None
        self.limits = Limits(settings.max_processing, settings.max_processing_per_user)
        self.capacity = settings.worker_concurrency or settings.max_processing

    @property
    def running(self) -> list[int]:
        return list(self._running)

    def wake(self) -> None:
        self._wake.set()

    def cancel_local(self, task_id: int) -> bool:
        """Cancel a task this process runs; it stops at its next await."""
        task = self._running.get(task_id)
        if task is None:
            return False
        self._cancel_requested.add(task_id)
        task.cancel()
        return True

    async def run(self, stop: asyncio.Event, *, drain: bool = False) -> None:
        """Serve until ``stop`` is set; with ``drain``, also return once the queue is empty."""
        self._stop = stop
        await self.store.register_worker(self.id, socket.gethostname(), os.getpid())
        await self._sweep()
        hub_wake = self.hub.waiter(work_only=True)
        loops = [
            asyncio.create_task(self._every(self.settings.heartbeat_s, self._heartbeat)),
            asyncio.create_task(self._every(self.settings.sweep_s, self._sweep)),
            asyncio.create_task(self._forward(hub_wake)),
        ]
        try:
            await self._claim_loop(stop, drain)
        finally:
            await self._shutdown()
            for loop_task in loops:
                loop_task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            self.hub.forget(hub_wake)
            with contextlib.suppress(Exception):  # a stale row is forgotten later anyway
                await self.store.unregister_worker(self.id)
        if self._fatal is not None:
            raise self._fatal

    def _stop_for_good(self, exc: StorageUnavailable) -> None:
        """The database takes no writes: every task would fail the same way, and every
        background loop would log it. Stop, and let the command say it once."""
        self._fatal = self._fatal or exc
        self._stop.set()
        self._wake.set()

    async def _claim_loop(self, stop: asyncio.Event, drain: bool) -> None:
        while not stop.is_set():
            self._wake.clear()
            if await self._claim_free_slots():
                continue
            if drain and not self._running and await self._queue_empty():
                return
            await self._wait(stop)

    def _free_slots(self) -> int:
        busy = len(self._running) - len(self._finishing & self._running.keys())
        return self.capacity - busy - self._claiming

    async def _claim_free_slots(self) -> bool:
        """Claim up to the free slots; true when the claim took or gave up on a task."""
        want = self._free_slots()
        if want <= 0 or self._stop.is_set():
            return False
        self._claiming += want
        try:
            claimed = await self.store.claim(self.id, want, self.limits, self.settings.lease_s)
        finally:
            self._claiming -= want
        for info in claimed.tasks:
            self._start(info)
        return bool(claimed.tasks or claimed.gave_up)

    async def _finish(self, task_id: int, write: Awaitable[bool]) -> bool:
        """A finished task's terminal write, with the claim of the slot it frees right
        behind it: both reach the store's write batcher within a loop turn, so they share
        one transaction (claims run last in it). Waking the claim loop instead took a few
        more turns, long enough for the write to commit alone and the claim to wait for
        the next transaction: ~11 ms between tasks in a slot instead of ~5."""
        self._finishing.add(task_id)
        written = asyncio.ensure_future(write)
        if not self._claim_behind_soon and not self._stop.is_set():
            # One claim for all the tasks finishing in this loop turn (a batch's commit
            # wakes them together); it counts its slots when it starts, next turn.
            self._claim_behind_soon = True
            claim = asyncio.ensure_future(self._claim_behind())
            self._claims.add(claim)
            claim.add_done_callback(self._claim_done)
        return await written

    async def _claim_behind(self) -> bool:
        self._claim_behind_soon = False
        return await self._claim_free_slots()

    def _claim_done(self, claim: asyncio.Task[bool]) -> None:
        self._claims.discard(claim)
        if not claim.cancelled() and claim.exception() is not None:
            log.warning("claim after a finished task failed: %s", claim.exception())
        self._wake.set()  # the claim loop looks again

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._sleep(self.settings.poll_s)),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _queue_empty(self) -> bool:
        counts = await self.store.counts()
        return counts.get("pending", 0) + counts.get("processing", 0) == 0

    async def _forward(self, hub_wake: asyncio.Event) -> None:
        # Enqueues in this process wake the claim loop at once instead of at the next poll.
        while True:
            await hub_wake.wait()
            hub_wake.clear()
            self._wake.set()

    def _start(self, info: TaskInfo) -> None:
        log.info(
            "task %s (%s, user %s) started, attempt %s",
            info.id,
            info.type,
            info.user_id,
            info.attempts,
        )
        # A requeued task can be claimed again in its own requeue's transaction, while the
        # attempt before is still returning: the new attempt starts with clean flags, and
        # the old one's end must not untrack it (see _finished).
        self._forget(info.id)
        task = asyncio.create_task(self._execute(info), name=f"task-{info.id}")
        self._running[info.id] = task
        task.add_done_callback(functools.partial(self._finished, info.id))

    def _finished(self, task_id: int, task: asyncio.Task[None]) -> None:
        if self._running.get(task_id) is task:
            del self._running[task_id]
            self._forget(task_id)
        self._wake.set()

    def _forget(self, task_id: int) -> None:
        self._finishing.discard(task_id)
        self._cancel_requested.discard(task_id)
        self._lost.discard(task_id)

    async def _execute(self, info: TaskInfo) -> None:
        try:
            await self._run_task(info)
        except StorageUnavailable as exc:  # not even its end could be written
            self._stop_for_good(exc)

    async def _run_task(self, info: TaskInfo) -> None:
        handler = self.handlers.get(info.type)
        if handler is None:
            await self.store.fail(info.id, self.id, f"Unknown task type: {info.type}")
            return
        steps = await self.store.steps(info.id) if info.stage is not None else {}
        ctx = TaskContext(info, self.store, self.id, steps)
        try:
            result = await handler(ctx)
        except asyncio.CancelledError:
            await self._on_cancelled(info, ctx)
            return
        except LeaseLost:
            log.warning("task %s: lease lost; another worker owns it now", info.id)
            return
        except Exception as exc:  # every failure ends in a terminal state
            await self._on_error(info, exc)
            return
        if await self._finish(info.id, self.store.complete(info.id, self.id, result)):
            log.info("task %s (%s, user %s) completed", info.id, info.type, info.user_id)

    async def _on_cancelled(self, info: TaskInfo, ctx: TaskContext) -> None:
        if info.id in self._lost:
            return
        if info.id in self._cancel_requested:
            reason = f"cancelled by request; saved before stopping: {ctx.saved_summary()}"
            if await self.store.cancelled(info.id, self.id, reason):
                log.info("task %s %s", info.id, reason)
            return
        # Shutdown past the grace period: hand the task back for another worker.
        await self.store.release(info.id, self.id)
        raise asyncio.CancelledError

    async def _on_error(self, info: TaskInfo, exc: Exception) -> None:
        if isinstance(exc, StorageUnavailable):
            self._stop_for_good(exc)
            return
        message = str(exc) or type(exc).__name__
        if isinstance(exc, TransientError | StoreError):
            if info.attempts < info.max_attempts:
                delay = backoff_delay(
                    info.attempts, self.settings.retry_base_s, self.settings.retry_cap_s
                )
                await self._finish(info.id, self.store.requeue(info.id, self.id, message, delay))
                return
            message = f"gave up after {info.attempts} attempts: {message}"
        elif not isinstance(exc, PermanentError):
            log.exception("task %s: unexpected error", info.id)
            message = f"internal error: {type(exc).__name__}: {message}"
        if await self._finish(info.id, self.store.fail(info.id, self.id, message)):
            log.info("task %s failed: %s", info.id, message)

    async def _every(self, period_s: float, fn: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self._sleep(period_s)
            try:
                await fn()
            except StorageUnavailable as exc:
                self._stop_for_good(exc)
                return
            except Exception:  # a background loop survives a bad tick
                log.exception("background %s failed; retrying next period", fn.__name__)

    async def _heartbeat(self) -> None:
        ids = list(self._running)
        flagged = await self.store.heartbeat(self.id, ids, self.settings.lease_s)
        for task_id in flagged:
            if task_id not in self._running:
                continue
            info = await self.store.get_task(task_id)
            if info.owner == self.id and info.status is TaskStatus.PROCESSING:
                self.cancel_local(task_id)
            else:
                self._lost.add(task_id)
                running = self._running.get(task_id)  # it may have ended during the await
                if running is not None:
                    running.cancel()

    async def _sweep(self) -> None:
        recovered = await self.store.recover_expired(silent_worker_s=self.settings.silent_worker_s)
        if recovered:
            log.info("took back %d tasks whose lease expired: %s", len(recovered), recovered)
            self._wake.set()

    async def _shutdown(self) -> None:
        # A claim in flight may still start tasks; they are waited for like the others.
        await asyncio.gather(*self._claims, return_exceptions=True)
        if not self._running:
            return
        pending = list(self._running.values())
        _done, still = await asyncio.wait(pending, timeout=self.settings.shutdown_grace_s)
        for task in still:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*still, return_exceptions=True)
