"""Handlers for the scale benchmark: ``schoolx worker --plugin bench.plugin``."""

from __future__ import annotations

import asyncio

from pipeline.context import TaskContext
from pipeline.handlers import HandlerRegistry


async def sleep_task(ctx: TaskContext) -> float:
    seconds = float(ctx.payload.get("seconds", 0.1))
    await asyncio.sleep(seconds)
    return seconds


async def noop_task(_ctx: TaskContext) -> None:
    return None


def register(registry: HandlerRegistry) -> None:
    registry.register("bench_sleep", sleep_task)
    registry.register("bench_noop", noop_task)
