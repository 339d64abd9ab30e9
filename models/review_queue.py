"""The schools that most need a reviewer: pending ones, the least certain first.

No extractor gives a school a confidence of its own, so how sure we are is read from what
backs it: how many of its fields were found, and how many sources say so. A school with a
name and nothing else, seen once, comes first; one with every field from three documents
comes last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Integer, Table, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from domain.records import RECORD_FIELDS
from models.db import Database, run_read
from models.school_views import SchoolInfo, school_info
from models.tables import School, SchoolSource

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)


@dataclass(frozen=True)
class ReviewItem:
    school: SchoolInfo
    filled: int  # of RECORD_FIELDS
    sources: int


def _filled() -> ColumnElement[int]:
    parts = [case((schools.c[f].is_(None), 0), else_=1) for f in RECORD_FIELDS]
    total: ColumnElement[int] = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


async def needs_review(
    db: Database, *, limit: int, offset: int = 0
) -> tuple[int, list[ReviewItem]]:
    """(how many pending schools there are, one page of them, least certain first)."""
    counts = (
        select(sources.c.school_id, func.count().label("n"))
        .group_by(sources.c.school_id)
        .subquery()
    )
    filled = _filled().label("filled")
    seen = func.coalesce(counts.c.n, 0).cast(Integer).label("seen")
    query = (
        select(schools, filled, seen)
        .outerjoin(counts, counts.c.school_id == schools.c.id)
        .where(schools.c.status == "pending")
        .order_by(filled, seen, schools.c.id)
        .limit(limit)
        .offset(offset)
    )
    total_query = select(func.count()).where(schools.c.status == "pending")

    def read(conn: Connection) -> tuple[int, list[ReviewItem]]:
        total = int(conn.execute(total_query).scalar_one())
        rows = conn.execute(query)
        return total, [ReviewItem(school_info(r), int(r.filled), int(r.seen)) for r in rows]

    return await run_read(db, read)
