"""Pages of a long list: which rows are shown, of how many, and the links to the pages
before and after (the list's filters kept in the links)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query

from models.paging import MAX_OFFSET

PAGE_SIZE = 50

# An API list's offset: 422 beyond MAX_OFFSET (a page's link is clamped instead).
ApiOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def page_offset(offset: int, total: int, limit: int = PAGE_SIZE) -> int:
    """``offset`` clamped to a page that exists (a stale link after deletions lands on the
    last page, not on an empty one)."""
    last = max(0, (total - 1) // limit * limit)
    return max(0, min(offset, last))


@dataclass(frozen=True)
class Pager:
    path: str
    offset: int
    total: int
    shown: int
    limit: int = PAGE_SIZE
    params: dict[str, str] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return self.offset + 1 if self.shown else 0

    @property
    def last(self) -> int:
        return self.offset + self.shown

    def url(self, offset: int) -> str:
        query = {k: v for k, v in self.params.items() if v}
        if offset:
            query["offset"] = str(offset)
        return self.path + ("?" + urlencode(query) if query else "")

    @property
    def previous_url(self) -> str | None:
        return self.url(max(0, self.offset - self.limit)) if self.offset > 0 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.offset + self.limit) if self.last < self.total else None
