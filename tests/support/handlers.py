"""Handlers for queue tests, loadable into a worker subprocess with ``--plugin``.

Each stage appends a line to the file named by SCHOOLX_TEST_COUNTER (when set) before it
runs, so a test can prove which stages ran how many times, across SIGKILLs.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from pipeline.context import TaskContext
from pipeline.errors import PermanentError, TransientError
from pipeline.handlers import HandlerRegistry

STAGES = ("one", "two", "three", "four")


def count(task_id: int, stage: str) -> None:
    path = os.environ.get("SCHOOLX_TEST_COUNTER")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{task_id} {stage} {os.getpid()}\n")


async def staged(ctx: TaskContext) -> dict[str, Any]:
    """Four checkpointed stages; payload ``sleep`` maps stage name -> seconds to sleep,
    on attempts up to ``sleep_attempts`` (all by default)."""
    sleeps: dict[str, float] = ctx.payload.get("sleep", {})
    if ctx.task.attempts > int(ctx.payload.get("sleep_attempts", 99)):
        sleeps = {}
    outputs = []
    for i, name in enumerate(STAGES, start=1):

        async def run(name: str = name) -> str:
            count(ctx.task.id, name)
            await asyncio.sleep(float(sleeps.get(name, 0)))
            return f"{name}-done"

        outputs.append(await ctx.stage(name, run, progress=25 * i))
    return {"outputs": outputs}


async def sleeper(ctx: TaskContext) -> dict[str, float]:
    """Sleeps ``seconds``; with ``until`` (a file path), only until that file exists, so a
    test decides when the task ends whatever the machine's speed (``seconds`` then only
    guards against a test that never makes the file)."""
    seconds = float(ctx.payload.get("seconds", 0.1))
    count(ctx.task.id, "sleep")
    until = ctx.payload.get("until")
    if until is None:
        await asyncio.sleep(seconds)
        return {"slept": seconds}
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not os.path.exists(until) and loop.time() - began < seconds:
        await asyncio.sleep(0.05)
    return {"slept": round(loop.time() - began, 2)}


async def flaky(ctx: TaskContext) -> str:
    """Fails transiently ``fail_times`` times (counted by attempts), then succeeds."""
    if ctx.task.attempts <= int(ctx.payload.get("fail_times", 1)):
        raise TransientError(f"temporary outage on attempt {ctx.task.attempts}")
    return "ok"


async def broken(ctx: TaskContext) -> None:
    raise PermanentError(ctx.payload.get("message", "bad input"))


def register(registry: HandlerRegistry) -> None:
    registry.register("staged", staged)
    registry.register("sleep", sleeper)
    registry.register("flaky", flaky)
    registry.register("broken", broken)
