"""The offline reader runs in the process pool: the event loop (heartbeats, other tasks of
the worker) keeps running while a page is read, and a slow page ends in a warning."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from domain.records import Chunk
from handlers.reader.extractor import OfflineReader
from handlers.text import make_text_pool


@pytest.fixture
def pool() -> Iterator[ProcessPoolExecutor]:
    executor = make_text_pool(1)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


def _big_page(lines: int) -> str:
    return "\n".join(
        f"LINCOLN ELEMENTARY SCHOOL {n}\n{100 + n} Main Street\nSpringfield, IL 62701\n"
        f"Phone: (217) 555-{n % 10000:04d}\n"
        for n in range(lines)
    )


async def test_the_event_loop_runs_while_a_page_is_read(pool: ProcessPoolExecutor) -> None:
    reader = OfflineReader(pool, timeout_s=120)
    await reader.extract(Chunk(0, 1, "warm up the pool process"))
    ticks = 0
    reading = asyncio.ensure_future(reader.extract(Chunk(1, 2, _big_page(3000))))
    while not reading.done():
        await asyncio.sleep(0.005)  # what a heartbeat loop does between renewals
        ticks += 1
    result = await reading
    assert len(result.records) == 3000
    # Read in this thread, the page would have held the loop: not one tick in between.
    assert ticks >= 3


async def test_a_page_past_its_time_limit_gives_a_warning(pool: ProcessPoolExecutor) -> None:
    reader = OfflineReader(pool, timeout_s=0.05)
    result = await reader.extract(Chunk(0, 9, _big_page(3000)))
    assert result.records == ()
    assert result.warnings == ("page 9: reading took longer than 0.05s; skipped",)
