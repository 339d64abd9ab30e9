"""process_batch: bounded concurrency, progress, and failures counted, never dropped."""

from __future__ import annotations

import asyncio

from pipeline.batch import process_batch


async def test_bounded_concurrency_progress_and_failures() -> None:
    running = peak = 0
    progress: list[tuple[int, int]] = []

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        if n % 5 == 0:
            raise ValueError(f"bad item {n}")
        return n * 2

    async def on_progress(done: int, total: int) -> None:
        progress.append((done, total))

    result = await process_batch(list(range(20)), work, concurrency=3, on_progress=on_progress)
    assert peak == 3
    assert sorted(r for _, r in result.succeeded) == [n * 2 for n in range(20) if n % 5]
    assert sorted(item for item, _ in result.failed) == [0, 5, 10, 15]
    assert all(isinstance(exc, ValueError) for _, exc in result.failed)
    assert [d for d, _ in progress] == list(range(1, 21)) and {t for _, t in progress} == {20}
    assert result.summary.startswith("16 succeeded, 4 failed: ")
