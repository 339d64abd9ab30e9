"""What a handler sees of its task: payload, checkpointed stages, progress and a log."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pipeline.store import QueueStore, TaskInfo

T = TypeVar("T")
log = logging.getLogger("schoolx.task")


class LeaseLost(Exception):  # a signal, not an error a user ever sees
    """This worker no longer owns the task; stop without writing anything else."""


class TaskContext:
    def __init__(
        self, task: TaskInfo, store: QueueStore, owner: str, steps: dict[str, Any]
    ) -> None:
        self.task = task
        self._store = store
        self._owner = owner
        self._steps = dict(steps)
        self._last_progress: str | None = None
        self.log = logging.LoggerAdapter(log, {"task_id": task.id})

    @property
    def payload(self) -> dict[str, Any]:
        return self.task.payload

    @property
    def user_id(self) -> str:
        return self.task.user_id

    def stored_with_prefix(self, prefix: str) -> dict[str, Any]:
        return {k: v for k, v in self._steps.items() if k.startswith(prefix)}

    async def stage(
        self, name: str, run: Callable[[], Awaitable[Any]], *, progress: float | None = None
    ) -> Any:
        """Run a named stage once: a stored output is returned instead of running it again."""
        if name in self._steps:
            return self._steps[name]
        output = await run()
        await self.checkpoint(name, output, progress=progress)
        return output

    async def checkpoint(self, name: str, output: Any, *, progress: float | None = None) -> None:
        """Store one finished piece of work (a stage, a page, a chunk) as its own row."""
        clamped = None if progress is None else clamp_progress(progress)
        if not await self._store.save_step(self.task.id, self._owner, name, output, clamped):
            raise LeaseLost(self.task.id)
        self._steps[name] = output

    async def update_progress(self, progress: float, message: str | None = None) -> None:
        ok = await self._store.update_progress(
            self.task.id, self._owner, clamp_progress(progress), message
        )
        if not ok:
            raise LeaseLost(self.task.id)
        self._last_progress = message

    def saved_summary(self) -> str:
        """What this task has stored so far, for the record of a cancelled task: finished
        stages, counts of finer checkpoints (``extract/chunk/...``), the last progress."""
        stages = [name for name in self._steps if "/" not in name]
        finer = Counter(name.rsplit("/", 1)[0] for name in self._steps if "/" in name)
        parts = [f"stages {', '.join(stages)}"] if stages else ["no stage finished"]
        parts += [f"{count} {group} checkpoints" for group, count in sorted(finer.items())]
        if self._last_progress:
            parts.append(f"last progress: {self._last_progress}")
        return "; ".join(parts)


def clamp_progress(value: float) -> int:
    return max(0, min(100, round(value)))
