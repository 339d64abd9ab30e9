"""Absorb SQLite lock contention and dropped connections so they never reach a user."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from pipeline.errors import StorageUnavailable, StoreError

T = TypeVar("T")

_TRANSIENT_MARKERS = (
    "database is locked",
    "database is busy",
    "deadlock detected",
    "could not serialize access",
    "connection was closed",
    "connection is closed",
)


# Driver messages that mean "nothing can be written here": (marker, what to tell the user).
_STORAGE_MARKERS = (
    ("readonly database", "it is read-only: check the permissions of the file and its folder"),
    ("read-only transaction", "it is read-only (a standby or a read-only user)"),
    ("database or disk is full", "the disk is full"),
    ("no space left on device", "the disk is full"),
    ("could not extend file", "the disk is full"),
    ("disk i/o error", "the disk failed or is full (I/O error)"),
    ("unable to open database file", "the file cannot be opened for writing: check permissions"),
)


def storage_problem(exc: BaseException) -> StorageUnavailable | None:
    """Our error for a driver error that no retry can fix, or None."""
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig if exc.orig is not None else exc).lower()
    for marker, meaning in _STORAGE_MARKERS:
        if marker in text:
            return StorageUnavailable(f"cannot write to the database: {meaning}")
    return None


@contextlib.asynccontextmanager
async def storage_errors_translated() -> AsyncIterator[None]:
    """Around database work not wrapped by ``retry_locked`` (opening, migrating)."""
    try:
        yield
    except DBAPIError as exc:
        if (problem := storage_problem(exc)) is not None:
            raise problem from exc
        raise


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
    except DBAPIError as exc:
        if (problem := storage_problem(exc)) is not None:
            raise problem from exc
        raise
    except RetryError as exc:
        cause = exc.last_attempt.exception()
        raise StoreError(f"the database stayed busy for {give_up_s:.0f} s: {cause}") from cause
    raise AssertionError("unreachable")  # pragma: no cover
