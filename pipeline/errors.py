"""The one exception tree of schoolx.

    SchoolxError
    ├── ConfigError            bad settings or URL; fix the configuration
    │   └── InvalidValue       a value a person gave for a field is not one (HTTP 422)
    ├── NotFoundError          a task, school or document id that does not exist
    ├── ConflictError          the object's state does not allow this (retry a running task)
    │   └── ConfirmationNeeded ... unless the user confirms (merging a rejected school)
    ├── TaskLimitError         a user already has the maximum number of active tasks
    ├── StoreError             the database failed in a way we could not absorb
    │   ├── SchemaError        the database schema is behind the code
    │   └── StorageUnavailable the database refuses writes (read-only, disk full): stop
    └── TaskError              raised by handlers; decides what the queue does next
        ├── PermanentError     bad input: fail at once with this message, never retry
        │   └── InputError     a document that cannot be processed (not a PDF, encrypted, ...)
        └── TransientError     a passing fault (timeout, 429, 5xx): retry with backoff

Foreign errors (sqlite3, asyncpg, httpx, openai, pypdf) are translated at the edge that
calls them with ``raise ... from exc``; nothing else in the code catches them.
"""

from __future__ import annotations


class SchoolxError(Exception):
    """Root of every error schoolx raises on purpose."""


class ConfigError(SchoolxError):
    """A setting, URL or option is wrong."""


class InvalidValue(ConfigError):
    """A value given for one field (an edit) is not a value of that field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NotFoundError(SchoolxError):
    """A requested object does not exist (or is not visible to this user)."""


class ConflictError(SchoolxError):
    """The request does not fit the object's current state."""


class ConfirmationNeeded(ConflictError):
    """Allowed only when the user says so again: ask, then repeat with confirmation."""


class TaskLimitError(SchoolxError):
    """A user is at their limit of active (pending + processing) tasks."""

    def __init__(self, user_id: str, limit: int, active: int) -> None:
        self.user_id = user_id
        self.limit = limit
        self.active = active
        super().__init__(
            f"user {user_id!r} already has {active} active tasks (limit {limit}); "
            "wait for one to finish or cancel one"
        )


class StoreError(SchoolxError):
    """The database failed and retrying did not help."""


class SchemaError(StoreError):
    """The database schema does not match this version of schoolx."""


class StorageUnavailable(StoreError):
    """The database cannot store anything (read-only, no space left): no retry can help,
    so a worker stops instead of failing every task and logging every attempt."""


class TaskError(SchoolxError):
    """Base for errors a handler raises to tell the queue what happened."""


class PermanentError(TaskError):
    """The task can never succeed as submitted; fail it with this message."""


class InputError(PermanentError):
    """A document is unreadable: not a PDF, empty, truncated, encrypted, no text."""


class TransientError(TaskError):
    """A passing fault; the task is retried with backoff until max_attempts."""
