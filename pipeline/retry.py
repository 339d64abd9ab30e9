"""Backoff for requeued tasks and tenacity retries for calls to the outside world."""

from __future__ import annotations

import random
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from pipeline.errors import TransientError


def backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Full-jitter exponential backoff: uniform in [base/2, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return random.uniform(min(base_s / 2, ceiling), ceiling)


def transient_retrying(
    *,
    attempts: int = 5,
    base_s: float = 0.5,
    cap_s: float = 30.0,
    is_transient: Callable[[BaseException], bool] = lambda e: isinstance(e, TransientError),
) -> AsyncRetrying:
    """Retry only what ``is_transient`` accepts, with jittered exponential backoff and a cap."""
    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait_random_exponential(multiplier=base_s, max=cap_s),
        stop=stop_after_attempt(attempts),
        reraise=True,
    )
