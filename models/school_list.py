"""Lists of schools: filtered, counted, one page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Table, TextClause, desc, func, select
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


def _filters(
    *,
    region: str | None,
    city: str | None,
    status: str | None,
    document_ids: Sequence[int],
) -> list[ColumnElement[bool] | TextClause]:
    where: list[ColumnElement[bool] | TextClause] = [
        schools.c.status == status if status else schools.c.status != "merged"
    ]
    if region:
        where.append(func.upper(schools.c.region) == region.upper())
    if city:
        where.append(func.lower(schools.c.city) == city.lower())
    if document_ids:
        # Sources move with a merge: a document's schools are the ones holding its sources.
        held = select(sources.c.school_id).where(sources.c.document_id.in_(document_ids))
        where.append(schools.c.id.in_(held))
    return where


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
    where = _filters(region=region, city=city, status=status, document_ids=document_ids)
    query = select(schools)
    order: list[Any] = [schools.c.name, schools.c.id]
    if text_query:
        search = Query(text_query, db.dialect)
        if not search.words:  # nothing but punctuation and stop words: nothing to find
            return Page([], 0, limit, offset)
        if search.pg:
            where.append(search.pg_match())
            score: Any = search.pg_score()
        else:
            hits = search.hits()
            query = query.join(hits, hits.c.id == schools.c.id)
            score = hits.c.score
        order = [*search.ranks(), desc(score), *order]
    counted = select(func.count()).select_from(
        query.with_only_columns(schools.c.id).where(*where).subquery()
    )
    page = query.where(*where).order_by(*order).limit(limit).offset(offset)

    def read(conn: Connection) -> Page[SchoolInfo]:
        # In one thread hop on SQLite (models.db.run_read): the API's list of schools.
        total = int(conn.execute(counted).scalar_one())
        return Page([school_info(r) for r in conn.execute(page)], total, limit, offset)

    return await run_read(db, read)


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
