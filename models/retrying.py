"""Absorb SQLite lock contention and dropped connections so they never reach a user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from pipeline.errors import StoreError

T = TypeVar("T")

_TRANSIENT_MARKERS = (
    "database is locked",
    "database is busy",
    "deadlock detected",
    "could not serialize access",
    "connection was closed",
    "connection is closed",
)


def is_transient_db_error(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    text = str(exc).lower()
    return any(marker in text for marker in _TRANSIENT_MARKERS)


async def retry_locked(fn: Callable[[], Awaitable[T]], *, give_up_s: float = 120.0) -> T:
    """Run ``fn`` again with jittered backoff while the database reports lock contention."""
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient_db_error),
            wait=wait_random_exponential(multiplier=0.01, max=1.0),
            stop=stop_after_delay(give_up_s),
            reraise=False,
        ):
            with attempt:
                return await fn()
    except RetryError as exc:
        cause = exc.last_attempt.exception()
        raise StoreError(f"the database stayed busy for {give_up_s:.0f} s: {cause}") from cause
    raise AssertionError("unreachable")  # pragma: no cover
