"""Live progress of tasks from the event stream: rich bars on a terminal, log lines if not.

One bar per running task, named by its file, and an "all tasks" bar at the mean progress
of every task seen since the view started (a finished one counts 100 %), so that ten tasks
at 75 % show 75 %, not the 0 % of "none finished yet".
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column

from pipeline.errors import NotFoundError
from pipeline.names import printable
from pipeline.store import EventInfo, EventType
from schoolx.cli.output import console, line

if TYPE_CHECKING:
    from schoolx.app import App

TERMINAL = {EventType.COMPLETED, EventType.FAILED, EventType.CANCELLED}
# The names column keeps one width, so the bars do not jump sideways as stages change; a
# longer name ends in an ellipsis.
NAME_WIDTH = 40


def overall_percent(progress: Mapping[int, float]) -> float:
    """The "all tasks" bar: the mean of every task's progress (0-100), each task weighing
    the same; 0 when there is none."""
    if not progress:
        return 0.0
    return sum(min(100.0, max(0.0, p)) for p in progress.values()) / len(progress)


def stage_label(data: Mapping[str, object]) -> str:
    """What a progress event says the task is doing: its message ("text 5/12", "save
    250/900") or its stage, "extract" for a chunk's checkpoint ("extract/chunk/0003-...")."""
    message = data.get("message")
    if message:
        return str(message)
    return str(data.get("stage") or "").split("/", 1)[0]


class ProgressView:
    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        # task id -> its file's name (None: not a file's task), filled in by ``follow``
        self.names: dict[int, str | None] = {}
        self.progress: dict[int, float] = {}  # every task seen -> its progress
        self.finished = 0
        self._bars_view: Progress | None = None
        self._bars: dict[int, TaskID] = {}
        self._overall: TaskID | None = None

    def name(self, task_id: int) -> str:
        return self.names.get(task_id) or f"task {task_id}"

    def who(self, task_id: int) -> str:
        name = self.names.get(task_id)
        return f"task {task_id}" + (f" ({printable(name)})" if name else "")

    @contextlib.contextmanager
    def shown(self) -> Iterator[ProgressView]:
        if not self.interactive:
            yield self
            return
        self._bars_view = Progress(
            TextColumn(
                "{task.description}",
                markup=False,
                table_column=Column(width=NAME_WIDTH, no_wrap=True, overflow="ellipsis"),
            ),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._overall = self._bars_view.add_task("all tasks", total=100)
        with self._bars_view:
            yield self

    def bars(self) -> list[tuple[str, float]]:
        """(description, percent) of each bar shown, the "all tasks" bar first."""
        if self._bars_view is None:
            return []
        return [(str(t.description), t.percentage) for t in self._bars_view.tasks]

    def handle(self, event: EventInfo) -> None:
        self._count(event)
        if self._bars_view is None:
            self._log(event)
        else:
            self._update_bars(self._bars_view, event)

    def _count(self, event: EventInfo) -> None:
        task_id = event.task_id
        if event.type in TERMINAL:
            self.finished += 1
            self.progress[task_id] = 100.0
        elif event.type is EventType.PROGRESS:
            self.progress[task_id] = float(event.data.get("progress", 0))
        else:  # queued, started, retrying: a task to wait for
            self.progress.setdefault(task_id, 0.0)

    def _update_bars(self, view: Progress, event: EventInfo) -> None:
        assert self._overall is not None
        task_id = event.task_id
        bar = self._bars.get(task_id)
        label = printable(self.name(task_id))
        if event.type in TERMINAL:
            if bar is not None:
                view.remove_task(bar)
                del self._bars[task_id]
        elif bar is None and event.type in (EventType.STARTED, EventType.PROGRESS):
            self._bars[task_id] = view.add_task(label, total=100)
        if event.type is EventType.PROGRESS and task_id in self._bars:
            view.update(
                self._bars[task_id],
                completed=self.progress[task_id],
                description=f"{label}  {stage_label(event.data)}",
            )
        done = f"{self.finished} of {len(self.progress)} done"
        view.update(
            self._overall,
            completed=overall_percent(self.progress),
            description=f"all tasks ({done})",
        )

    def _log(self, event: EventInfo) -> None:
        who = self.who(event.task_id)
        if event.type is EventType.STARTED:
            line(f"{who} started (attempt {event.data.get('attempt')})")
        elif event.type is EventType.PROGRESS and "stage" in event.data:
            line(f"{who} {event.data['stage']} done ({event.data.get('progress', 0)}%)")
        elif event.type is EventType.COMPLETED:
            line(f"{who} completed")
        elif event.type is EventType.FAILED:
            line(f"{who} failed: {event.data.get('error')}")
        elif event.type is EventType.CANCELLED:
            line(f"{who} cancelled")
        elif event.type is EventType.RETRYING:
            line(f"{who} will be retried: {event.data.get('error') or event.data.get('reason')}")


async def follow(app: App, view: ProgressView, after_id: int) -> None:
    events: AsyncIterator[EventInfo] = app.queue.subscribe(after_id=after_id)
    async for event in events:
        if event.task_id not in view.names:
            view.names[event.task_id] = await _file_name(app, event.task_id)
        view.handle(event)


async def _file_name(app: App, task_id: int) -> str | None:
    """The task's file: a PDF task's payload names it."""
    try:
        task = await app.store.get_task(task_id)
    except NotFoundError:  # pruned meanwhile
        return None
    name = task.payload.get("filename") if isinstance(task.payload, dict) else None
    return str(name) if name else None
