"""The long-running commands: ``worker`` (queue only) and ``run`` (inbox + queue)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.inbox import Inbox, InboxReport
from pipeline.store import TaskInfo
from schoolx.cli.progress import ProgressView, follow
from schoolx.cli.runtime import Runtime


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_worker(rt: Runtime, *, once: bool, view: ProgressView | None) -> None:
    """Serve the queue. With a view (a terminal), show every worker's tasks from the event
    stream; without one the worker logs its own tasks and reads no events at all, which
    matters when many workers share one database."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    if view is None:
        await rt.app.new_worker().run(stop, drain=once)
        return
    after = await rt.app.store.latest_event_id()
    watcher = asyncio.create_task(follow(rt.app, view, after))
    try:
        with view.shown():
            await rt.app.new_worker().run(stop, drain=once)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


@dataclass
class InboxOptions:
    root: Path
    once: bool
    extractor: str
    settle_s: float
    poll_s: float


async def run_inbox(rt: Runtime, options: InboxOptions, view: ProgressView) -> InboxReport:
    """Watch the inbox and run the queue; with ``once``, return when both are drained."""

    async def submit(data: bytes, name: str, user_id: str) -> tuple[TaskInfo, bool]:
        sub = await rt.submit(data, name, user_id, options.extractor)
        # Re-scanning a file we already queued also answers "duplicate". For the report a
        # duplicate is bytes that arrived under another name or for another user, or bytes
        # already processed before this file was first seen (the Inbox checks the latter).
        other = sub.document.filename != name or sub.document.user_id != user_id
        return sub.task, sub.duplicate and (other or sub.task.status.terminal)

    inbox = Inbox(options.root, submit, settle_s=options.settle_s)
    stop = asyncio.Event()
    stop_on_signals(stop)
    worker_stop = asyncio.Event()
    after = await rt.app.store.latest_event_id()
    worker = asyncio.create_task(rt.app.new_worker().run(worker_stop))
    watcher = asyncio.create_task(follow(rt.app, view, after))
    changed = asyncio.Event()
    wake = asyncio.create_task(_watch_files(options.root, stop, changed))
    try:
        with view.shown():
            while not stop.is_set() and not worker.done():  # done: it failed for good
                left = await inbox.scan(time.monotonic())
                if options.once and left == 0 and await _queue_drained(rt):
                    break
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_either(stop, changed), options.poll_s)
    finally:
        worker_stop.set()
        await worker
        for task in (watcher, wake):
            task.cancel()
        await asyncio.gather(watcher, wake, return_exceptions=True)
    return inbox.report


async def _queue_drained(rt: Runtime) -> bool:
    counts = await rt.app.store.counts()
    return counts.get("pending", 0) + counts.get("processing", 0) == 0


async def _either(a: asyncio.Event, b: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def _watch_files(root: Path, stop: asyncio.Event, changed: asyncio.Event) -> None:
    """watchfiles makes new files show up at once; the poll loop works without it."""
    try:
        from watchfiles import awatch

        async for _changes in awatch(root, stop_event=stop, recursive=True):
            changed.set()
    except (ImportError, OSError, RuntimeError):
        return
