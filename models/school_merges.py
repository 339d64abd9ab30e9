"""Merges that can be undone: fold one school into another, and take it back out.

Every merge — a person's, or one a save made — is a row of ``school_merges`` holding what
it changed: the kept school's values before, the fields it filled in, the sources it
moved, the merged school's status. Undoing it moves those sources back, restores the
merged school as it was, and puts back each filled field the kept school still holds as
filled (a later edit wins over the undo). A school a save merged automatically has its
own row too (status ``merged``), so an automatic merge is undone the same way.

All functions run on a synchronous connection inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, update

from domain.matching import Facts, Match
from domain.records import RECORD_FIELDS
from models.base import utcnow
from models.school_index import add_members, drop_keys, rebuild
from models.school_search import refresh, union
from models.tables import School, SchoolAlias, SchoolMerge, SchoolPair, SchoolSource
from pipeline.errors import ConflictError, NotFoundError

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)
merges = cast(Table, SchoolMerge.__table__)
aliases = cast(Table, SchoolAlias.__table__)
pairs = cast(Table, SchoolPair.__table__)

SNAPSHOT = ("name", *RECORD_FIELDS, "identifiers", "status", "locked_fields")


def load(conn: Connection, school_id: int) -> Any:
    row = conn.execute(select(schools).where(schools.c.id == school_id)).first()
    if row is None:
        raise NotFoundError(f"no school {school_id}")
    return row


def reasons_json(found: Match | None) -> list[list[Any]]:
    return [[r.comparison, r.level, r.weight] for r in found.reasons] if found else []


def fold(
    conn: Connection,
    keep: Any,
    other: Any,
    *,
    kind: str,
    found: Match | None = None,
    user_id: str | None = None,
    learn_alias: bool = False,
) -> int:
    """Merge school row ``other`` into school row ``keep`` (rows as read in this
    transaction); returns the merge's id. ``learn_alias``: remember ``other``'s name as
    another name of ``keep`` (a person said they are one school)."""
    for row in (keep, other):
        if row.status == "merged":
            raise ConflictError(f"school {row.id} was already merged into {row.merged_into}")
    locked = set(keep.locked_fields or [])
    filled: dict[str, Any] = {
        k: getattr(other, k)
        for k in RECORD_FIELDS
        if getattr(other, k) and not getattr(keep, k) and k not in locked
    }
    known = dict(keep.identifiers or {})
    if set(other.identifiers or {}) - set(known):  # a scheme keep has no id for yet
        filled["identifiers"] = {**(other.identifiers or {}), **known}
    words = union(keep.search_text, other.search_text)
    if words != keep.search_text:
        filled_or_found: dict[str, Any] = {**filled, "search_text": words}
    else:
        filled_or_found = filled
    now = utcnow()
    moved = list(
        conn.execute(select(sources.c.id).where(sources.c.school_id == other.id)).scalars()
    )
    conn.execute(update(sources).where(sources.c.school_id == other.id).values(school_id=keep.id))
    if filled_or_found:  # the kept school is found by the merged one's words too
        conn.execute(
            update(schools).where(schools.c.id == keep.id).values(updated_at=now, **filled_or_found)
        )
    merged_values: dict[str, Any] = {"status": "merged", "merged_into": keep.id, "updated_at": now}
    if user_id is not None:
        merged_values |= {"reviewed_by": user_id, "reviewed_at": now}
    conn.execute(update(schools).where(schools.c.id == other.id).values(merged_values))
    merge_id = int(
        conn.execute(
            insert(merges)
            .values(
                keep_id=keep.id,
                merged_id=other.id,
                kind=kind,
                score=found.score if found else None,
                reasons=reasons_json(found),
                keep_before={k: getattr(keep, k) for k in SNAPSHOT},
                filled=filled,
                merged_status=other.status,
                source_ids=moved,
                user_id=user_id,
                created_at=now,
            )
            .returning(merges.c.id)
        ).scalar_one()
    )
    drop_keys(conn, other.id, other.match_facts)
    if learn_alias and other.name.casefold() != keep.name.casefold():
        conn.execute(
            insert(aliases).values(
                school_id=keep.id,
                name=other.name,
                origin="merge",
                merge_id=merge_id,
                user_id=user_id or "",
                created_at=now,
            )
        )
        rebuild(conn, keep.id)
    else:
        members = [Facts.from_json(m) for m in other.match_facts or []]
        add_members(conn, keep.id, keep.match_facts, members)
    return merge_id


def unfold(conn: Connection, merged_id: int, user_id: str) -> int:
    """Undo the merge of ``merged_id``; returns the id of the school it had gone into."""
    other = load(conn, merged_id)
    row = conn.execute(
        select(merges)
        .where(merges.c.merged_id == merged_id, merges.c.undone_at.is_(None))
        .order_by(merges.c.id.desc())
        .limit(1)
    ).first()
    if other.status != "merged" or row is None:
        raise ConflictError(f"school {merged_id} is not merged into another school")
    keep = load(conn, row.keep_id)
    holders = set(
        conn.execute(
            select(sources.c.school_id).where(sources.c.id.in_(row.source_ids or [-1]))
        ).scalars()
    )
    conn.execute(
        update(sources).where(sources.c.id.in_(row.source_ids or [-1])).values(school_id=merged_id)
    )
    now = utcnow()
    before = row.keep_before
    locked_since = set(keep.locked_fields or []) - set(before.get("locked_fields") or [])
    revert = {
        k: before.get(k)
        for k, value in (row.filled or {}).items()
        if getattr(keep, k) == value and k not in locked_since
    }
    if revert:
        conn.execute(
            update(schools).where(schools.c.id == keep.id).values(updated_at=now, **revert)
        )
    conn.execute(
        update(schools)
        .where(schools.c.id == merged_id)
        .values(status=row.merged_status, merged_into=None, updated_at=now)
    )
    conn.execute(delete(aliases).where(aliases.c.merge_id == row.id))
    conn.execute(
        update(merges).where(merges.c.id == row.id).values(undone_at=now, undone_by=user_id)
    )
    for school_id in sorted(holders | {keep.id, merged_id}):
        rebuild(conn, school_id)
        refresh(conn, school_id)
    return int(keep.id)


__all__ = ["SNAPSHOT", "fold", "load", "reasons_json", "unfold"]
