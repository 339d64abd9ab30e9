"""One process-wide limiter for every LLM request, whichever task or loop sends it.

Three limits: requests in flight (a semaphore), and optional requests-per-minute and
tokens-per-minute budgets (token buckets). Semaphores belong to one event loop, so each
loop gets its own; the buckets are plain clock arithmetic under a thread lock and are
shared by all loops.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


class TokenBucket:
    """A bucket that may go into debt: ``reserve`` returns how long to wait.

    Reserving first and sleeping afterwards keeps callers in arrival order without any
    lock held across an ``await``.
    """

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._tokens = float(per_minute)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, amount: float) -> float:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            # A request bigger than the whole budget would wait forever; let it through
            # alone once the bucket is full.
            self._tokens -= min(amount, self.capacity)
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def refund(self, amount: float) -> None:
        """Correct an estimate once the real usage is known (negative = charge more)."""
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + amount)


@dataclass
class _LoopSlots:
    limit: int
    semaphore: asyncio.Semaphore


class Limiter:
    def __init__(self) -> None:
        self.max_in_flight = 8
        self._rpm: TokenBucket | None = None
        self._tpm: TokenBucket | None = None
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSlots] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def configure(self, *, max_in_flight: int, rpm: int = 0, tpm: int = 0) -> None:
        """Apply settings; buckets are only rebuilt when a rate actually changes."""
        with self._lock:
            self.max_in_flight = max(1, max_in_flight)
            self._rpm = _bucket(self._rpm, rpm)
            self._tpm = _bucket(self._tpm, tpm)

    @asynccontextmanager
    async def slot(self, tokens: int = 0) -> AsyncIterator[None]:
        """Hold one in-flight slot (after any rate wait) for the duration of a request."""
        semaphore = self._semaphore()
        async with semaphore:
            delay = max(
                self._rpm.reserve(1) if self._rpm else 0.0,
                self._tpm.reserve(tokens) if self._tpm else 0.0,
            )
            if delay > 0:
                await asyncio.sleep(delay)
            yield

    def settle_tokens(self, estimated: int, actual: int) -> None:
        if self._tpm is not None:
            self._tpm.refund(estimated - actual)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._lock:
            slots = self._slots.get(loop)
            # A changed limit gets a fresh semaphore; requests holding the old one finish
            # and release it normally.
            if slots is None or slots.limit != self.max_in_flight:
                slots = _LoopSlots(self.max_in_flight, asyncio.Semaphore(self.max_in_flight))
                self._slots[loop] = slots
            return slots.semaphore


def _bucket(current: TokenBucket | None, per_minute: int) -> TokenBucket | None:
    if per_minute <= 0:
        return None
    if current is not None and current.capacity == per_minute:
        return current
    return TokenBucket(per_minute)


LIMITER = Limiter()
"""The one limiter of this process."""
