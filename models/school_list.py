"""Lists of schools: filtered, counted, one page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.db import Database
from models.paging import Page, check_window
from models.school_pairs import PENDING
from models.school_views import SchoolInfo, school_info
from models.tables import School, SchoolPair, SchoolSource

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)
pairs = cast(Table, SchoolPair.__table__)


def _filters(
    *,
    text_query: str | None,
    region: str | None,
    city: str | None,
    status: str | None,
    document_ids: Sequence[int],
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
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
    if text_query:
        like = f"%{text_query.lower()}%"
        where.append(
            or_(
                func.lower(schools.c.name).like(like),
                func.lower(schools.c.address).like(like),
                func.lower(schools.c.city).like(like),
                func.lower(schools.c.district).like(like),
            )
        )
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
    """Schools (not those merged into another unless ``status="merged"``), by name."""
    check_window(limit, offset)
    where = _filters(
        text_query=text_query, region=region, city=city, status=status, document_ids=document_ids
    )
    query = select(schools).where(*where)
    async with db.read.connect() as conn:
        total = await _count(conn, select(schools.c.id).where(*where))
        rows = await conn.execute(
            query.order_by(schools.c.name, schools.c.id).limit(limit).offset(offset)
        )
        found = [school_info(r) for r in rows]
    return Page(found, total, limit, offset)


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
