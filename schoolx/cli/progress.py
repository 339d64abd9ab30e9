"""Live progress of tasks from the event stream: rich bars on a terminal, log lines if not."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from pipeline.store import EventInfo, EventType
from schoolx.app import App
from schoolx.cli.output import console, line

TERMINAL = {EventType.COMPLETED, EventType.FAILED, EventType.CANCELLED}


class ProgressView:
    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self._progress: Progress | None = None
        self._bars: dict[int, TaskID] = {}
        self._overall: TaskID | None = None
        self.finished = 0

    @contextlib.contextmanager
    def shown(self) -> Any:
        if not self.interactive:
            yield self
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._overall = self._progress.add_task("all tasks", total=0)
        with self._progress:
            yield self

    def handle(self, event: EventInfo) -> None:
        if self._progress is None:
            self._log(event)
            return
        self._update_bars(self._progress, event)

    def _update_bars(self, progress: Progress, event: EventInfo) -> None:
        assert self._overall is not None
        bar = self._bars.get(event.task_id)
        if event.type is EventType.QUEUED:
            progress.update(self._overall, total=(progress.tasks[0].total or 0) + 1)
        elif event.type is EventType.STARTED and bar is None:
            self._bars[event.task_id] = progress.add_task(f"task {event.task_id}", total=100)
        elif event.type is EventType.PROGRESS and bar is not None:
            stage = event.data.get("stage") or event.data.get("message") or ""
            progress.update(
                bar,
                completed=event.data.get("progress", 0),
                description=f"task {event.task_id} {stage}",
            )
        elif event.type in TERMINAL:
            if bar is not None:
                progress.remove_task(bar)
                del self._bars[event.task_id]
            self.finished += 1
            progress.advance(self._overall)

    def _log(self, event: EventInfo) -> None:
        if event.type is EventType.STARTED:
            line(f"task {event.task_id} started (attempt {event.data.get('attempt')})")
        elif event.type is EventType.PROGRESS and "stage" in event.data:
            line(
                f"task {event.task_id} {event.data['stage']} done "
                f"({event.data.get('progress', 0)}%)"
            )
        elif event.type is EventType.COMPLETED:
            self.finished += 1
            line(f"task {event.task_id} completed")
        elif event.type is EventType.FAILED:
            self.finished += 1
            line(f"task {event.task_id} failed: {event.data.get('error')}")
        elif event.type is EventType.CANCELLED:
            self.finished += 1
            line(f"task {event.task_id} cancelled")
        elif event.type is EventType.RETRYING:
            line(
                f"task {event.task_id} will be retried: "
                f"{event.data.get('error') or event.data.get('reason')}"
            )


async def follow(app: App, view: ProgressView, after_id: int) -> None:
    events: AsyncIterator[EventInfo] = app.queue.subscribe(after_id=after_id)
    async for event in events:
        view.handle(event)
