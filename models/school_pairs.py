"""Possible duplicates: pairs of schools a save could not decide, for a person to decide.

One row per pair ever proposed (``school_a`` < ``school_b``): a pending pair is not
proposed twice, and a dismissed one never again. Writes run on a synchronous connection
inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table, and_, insert, select, update

from domain.matching import Match
from models.base import utcnow
from models.school_merges import reasons_json
from models.tables import SchoolPair

pairs = cast(Table, SchoolPair.__table__)

PENDING, ACCEPTED, DISMISSED = "pending", "accepted", "dismissed"


def _ordered(one: int, two: int) -> tuple[int, int]:
    return (one, two) if one < two else (two, one)


def find(conn: Connection, one: int, two: int) -> Any:
    a, b = _ordered(one, two)
    return conn.execute(
        select(pairs).where(and_(pairs.c.school_a == a, pairs.c.school_b == b))
    ).first()


def is_dismissed(conn: Connection, one: int, two: int) -> bool:
    row = find(conn, one, two)
    return row is not None and row.status == DISMISSED


def propose(conn: Connection, one: int, two: int, found: Match) -> None:
    """Store a pending pair unless the two were ever proposed (or decided) before."""
    if one == two or find(conn, one, two) is not None:
        return
    a, b = _ordered(one, two)
    conn.execute(
        insert(pairs).values(
            school_a=a,
            school_b=b,
            score=round(found.score, 3),
            reasons=reasons_json(found),
            status=PENDING,
            created_at=utcnow(),
        )
    )


def decide(conn: Connection, one: int, two: int, status: str, user_id: str) -> None:
    """Record a person's decision on two schools, proposed or not."""
    row = find(conn, one, two)
    now = utcnow()
    if row is None:
        a, b = _ordered(one, two)
        conn.execute(
            insert(pairs).values(
                school_a=a,
                school_b=b,
                score=0.0,
                reasons=[],
                status=status,
                created_at=now,
                decided_by=user_id,
                decided_at=now,
            )
        )
        return
    conn.execute(
        update(pairs)
        .where(pairs.c.id == row.id)
        .values(status=status, decided_by=user_id, decided_at=now)
    )


__all__ = ["ACCEPTED", "DISMISSED", "PENDING", "decide", "find", "is_dismissed", "propose"]
