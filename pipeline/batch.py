"""Run many coroutines with bounded concurrency; every failure is counted and reported."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BatchResult(Generic[T, R]):
    succeeded: list[tuple[T, R]] = field(default_factory=list)
    failed: list[tuple[T, BaseException]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = f"{len(self.succeeded)} succeeded, {len(self.failed)} failed"
        if self.failed:
            text += ": " + "; ".join(f"{item!r}: {exc}" for item, exc in self.failed[:5])
        return text


async def process_batch(
    items: Sequence[T],
    fn: Callable[[T], Awaitable[R]],
    *,
    concurrency: int = 4,
    on_progress: Callable[[int, int], Awaitable[None]] | None = None,
) -> BatchResult[T, R]:
    """Apply ``fn`` to every item, at most ``concurrency`` at a time, in any order."""
    gate = asyncio.Semaphore(concurrency)
    result: BatchResult[T, R] = BatchResult()
    done = 0

    async def one(item: T) -> None:
        nonlocal done
        async with gate:
            try:
                result.succeeded.append((item, await fn(item)))
            except Exception as exc:  # counted and reported, never dropped
                result.failed.append((item, exc))
            done += 1
            if on_progress is not None:
                await on_progress(done, len(items))

    await asyncio.gather(*(one(item) for item in items))
    return result
