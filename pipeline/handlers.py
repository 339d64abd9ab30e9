"""Handlers registered by task type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pipeline.context import TaskContext

Handler = Callable[[TaskContext], Awaitable[Any]]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, task_type: str, handler: Handler) -> None:
        self._handlers[task_type] = handler

    def get(self, task_type: str) -> Handler | None:
        return self._handlers.get(task_type)

    def types(self) -> list[str]:
        return sorted(self._handlers)
