"""Lists of schools: filtered, counted, one page at a time."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Table,
    TextClause,
    bindparam,
    desc,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from models.db import Database, run_read
from models.paging import Page, check_window
from models.school_pairs import PENDING
from models.school_search import Query
from models.school_views import SchoolInfo, school_info
from models.tables import School, SchoolPair, SchoolSource

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)
pairs = cast(Table, SchoolPair.__table__)
# The deepest page read on the event loop (models.db.run_read): skipping rows costs ~20 us
# each, so ~4 ms here, with the count's ~6 ms at 100,000 schools (~0.6 ms at 10,000).
INLINE_OFFSET = 200


@dataclass(frozen=True)
class Shape:
    """Which filters a list has; their values are bound when it runs."""

    status: bool  # one status asked for; else every school not merged into another
    region: bool
    city: bool
    documents: bool

    def params(
        self, status: str | None, region: str | None, city: str | None, documents: Sequence[int]
    ) -> dict[str, Any]:
        given = {
            "status": status or "merged",
            "region": (region or "").upper(),
            "city": (city or "").lower(),
            "documents": list(documents),
        }
        return {k: v for k, v in given.items() if k == "status" or getattr(self, k)}

    def where(self) -> list[ColumnElement[bool] | TextClause]:
        status = bindparam("status", type_=String)
        where: list[ColumnElement[bool] | TextClause] = [
            schools.c.status == status if self.status else schools.c.status != status
        ]
        if self.region:
            where.append(func.upper(schools.c.region) == bindparam("region"))
        if self.city:
            where.append(func.lower(schools.c.city) == bindparam("city"))
        if self.documents:
            # Sources move with a merge: a document's schools are the ones holding its sources.
            held = select(sources.c.school_id).where(
                sources.c.document_id.in_(bindparam("documents", expanding=True))
            )
            where.append(schools.c.id.in_(held))
        return where


@dataclass(frozen=True)
class Listing:
    """A page of schools and how many match in all: two statements, run in one hop.
    (Not ``count(*) OVER ()`` on the page: SQLite then reads every matching row before
    the first, 211 ms at 100,000 schools against 4 ms for the count and the page apart.)"""

    page: Select[Any]
    count: Select[Any]

    @classmethod
    def of(cls, query: Select[Any], where: Sequence[Any], order: Sequence[Any]) -> Listing:
        matching = query.where(*where)
        page = (
            matching.order_by(*order)
            .limit(bindparam("limit", type_=Integer))
            .offset(bindparam("offset", type_=Integer))
        )
        counted = matching.with_only_columns(schools.c.id).subquery()
        return cls(page, select(func.count()).select_from(counted))


@functools.lru_cache(maxsize=64)
def by_name(shape: Shape) -> Listing:
    """Built once per shape: a statement object is reused, so SQLAlchemy neither builds it
    nor computes its cache key again for each request (a tenth of ``bench.api``'s time)."""
    return Listing.of(select(schools), shape.where(), [schools.c.name, schools.c.id])


def by_relevance(shape: Shape, search: Query) -> Listing:
    where = shape.where()
    query = select(schools)
    if search.pg:
        where.append(search.pg_match())
        score: Any = search.pg_score()
    else:
        hits = search.hits()
        query = query.join(hits, hits.c.id == schools.c.id)
        score = hits.c.score
    return Listing.of(query, where, [*search.ranks(), desc(score), schools.c.name, schools.c.id])


async def _count(conn: AsyncConnection, query: Any) -> int:
    return int(
        (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    )


async def find(
    db: Database,
    *,
    text_query: str | None = None,
    region: str | None = None,
    city: str | None = None,
    status: str | None = None,
    document_ids: Sequence[int] = (),
    limit: int = 100,
    offset: int = 0,
) -> Page[SchoolInfo]:
    """Schools (not those merged into another unless ``status="merged"``), by name; with
    ``text_query``, those having its words, best first (``models.school_search``)."""
    check_window(limit, offset)
    shape = Shape(bool(status), bool(region), bool(city), bool(document_ids))
    params = shape.params(status, region, city, document_ids)
    if text_query:
        search = Query(text_query, db.dialect)
        if not search.words:  # nothing but punctuation and stop words: nothing to find
            return Page([], 0, limit, offset)
        listing = by_relevance(shape, search)
    else:
        listing = by_name(shape)

    def read(conn: Connection) -> Page[SchoolInfo]:
        total = int(conn.execute(listing.count, params).scalar_one())
        window = params | {"limit": limit, "offset": offset}
        return Page(
            [school_info(r) for r in conn.execute(listing.page, window)], total, limit, offset
        )

    # Without other filters than the status, a first page walks the name index and stops,
    # and the count reads one index (migration 0010): cheap enough to run on the event loop
    # (models.db.run_read). A search, a region, city or document filter (the page may walk
    # the whole index to find 50) or a deep page can take tens of milliseconds: a thread.
    bounded = not (text_query or region or city or document_ids)
    return await run_read(db, read, inline=bounded and offset <= INLINE_OFFSET)


async def count_duplicates(db: Database) -> int:
    """Pending pairs whose two schools are both still there (``SchoolStore.duplicates``)."""
    a, b = schools.alias("a"), schools.alias("b")
    query = (
        select(pairs.c.id)
        .join(a, a.c.id == pairs.c.school_a)
        .join(b, b.c.id == pairs.c.school_b)
        .where(pairs.c.status == PENDING, a.c.status != "merged", b.c.status != "merged")
    )
    async with db.read.connect() as conn:
        return await _count(conn, query)


__all__ = ["count_duplicates", "find"]
