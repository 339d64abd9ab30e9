"""One page of a list and how many there are in all: what every list (CLI, API, page)
shows, so that "200 schools" never hides that there are 499."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pipeline.errors import InvalidValue

T = TypeVar("T")
MAX_LIMIT = 500
# Beyond any real list, and within the 64-bit integers SQLite binds (a larger offset was
# an OverflowError, a 500 from the API).
MAX_OFFSET = 1_000_000_000


def check_window(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidValue("limit", f"{limit} is out of range; expected 1 to {MAX_LIMIT}")
    if offset < 0:
        raise InvalidValue("offset", f"{offset} is negative; expected 0 or more")
    if offset > MAX_OFFSET:
        raise InvalidValue("offset", f"{offset} is out of range; expected at most {MAX_OFFSET}")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # matching rows in all, not only this page
    limit: int
    offset: int

    def showing(self) -> str:
        """ "showing 51–100 of 499", "none of 12 (offset 40)", "none"."""
        if not self.items:
            return f"none of {self.total} (offset {self.offset})" if self.total else "none"
        last = self.offset + len(self.items)
        return f"showing {self.offset + 1}–{last} of {self.total}"

    @property
    def next_offset(self) -> int | None:
        last = self.offset + len(self.items)
        return last if last < self.total else None

    def envelope(self, items: list[Any]) -> dict[str, Any]:
        """The API's shape of a list: ``items`` (this page's, as JSON) with the window."""
        return {"total": self.total, "limit": self.limit, "offset": self.offset, "items": items}

    def to_json(self, item: Callable[[T], Any]) -> dict[str, Any]:
        return self.envelope([item(x) for x in self.items])


__all__ = ["MAX_LIMIT", "MAX_OFFSET", "Page", "check_window"]
