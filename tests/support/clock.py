"""A clock that moves only when a test says so, with a ``sleep`` that waits for it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class FakeClock:
    """Naive UTC, as the stores keep time. ``sleep`` returns once ``advance`` has moved the
    clock past its deadline, so a worker's heartbeat, sweep and idle poll run when the
    test moves time, and never on their own."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, 0)) -> None:
        self._now = start
        self._ticked = asyncio.Event()

    def __call__(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        # Replaced, not cleared: every sleeper waiting now wakes, later ones wait anew.
        self._ticked.set()
        self._ticked = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + timedelta(seconds=seconds)
        while self._now < deadline:
            await self._ticked.wait()
