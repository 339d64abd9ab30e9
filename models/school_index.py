"""What the matcher knows of each school in the database: its facts and blocking keys.

A school is known by the facts of every record it holds (one per distinct record), plus —
once a person has approved or edited it — its reviewed values, under its name and each
alias. They are kept in ``schools.match_facts``; the blocking keys of the schools not
merged away are rows of ``school_keys``. Both are kept up to date by every save, merge,
unmerge and review, all on a synchronous connection inside the caller's transaction.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    literal,
    select,
    union_all,
    update,
)

from domain.matching.blocking import MAX_BLOCK, block_keys, lookup_keys
from domain.matching.facts import Facts, facts_of
from domain.records import RECORD_FIELDS, Evidence, SchoolRecord
from models.db import upsert
from models.tables import School, SchoolAlias, SchoolKey, SchoolSource

schools = typed(Table, School.__table__)
sources = typed(Table, SchoolSource.__table__)
keys = typed(Table, SchoolKey.__table__)
aliases = typed(Table, SchoolAlias.__table__)

KEY_LENGTH = 255
MEMBERS_CACHED = 4096  # distinct match_facts texts kept decoded (a worker's memory)


@functools.cache
def _blocks(count: int) -> Any:
    """One statement looking ``count`` keys up: each block cut after MAX_BLOCK + 1 rows (a
    longer one is then skipped), joined to its schools' facts as stored text (decoded once
    per distinct text, ``_decoded``). One round trip per record, whatever it finds."""
    parts = [
        select(keys.c.school_id, literal(i).label("key"))
        .where(keys.c.kind == bindparam(f"kind{i}"), keys.c.value == bindparam(f"value{i}"))
        .limit(MAX_BLOCK + 1)
        .subquery()
        for i in range(count)
    ]
    found = union_all(*(select(p.c.school_id, p.c.key) for p in parts)).subquery()
    return select(
        found.c.school_id,
        found.c.key,
        schools.c.status,
        cast(schools.c.match_facts, Text).label("facts"),
    ).join(schools, schools.c.id == found.c.school_id)


@functools.lru_cache(maxsize=MEMBERS_CACHED)
def _decoded(text: str | None) -> tuple[Facts, ...]:
    return tuple(Facts.from_json(m) for m in json.loads(text or "null") or [])


@dataclass(frozen=True)
class Candidate:
    """A school a record may be: its id and the facts it is known by."""

    id: int
    status: str
    members: tuple[Facts, ...]


def _canonical(facts: Facts) -> str:
    return json.dumps(facts.to_json(), sort_keys=True)


def distinct(found: Iterable[Facts]) -> list[Facts]:
    seen: dict[str, Facts] = {}
    for f in found:
        seen.setdefault(_canonical(f), f)
    return list(seen.values())


def record_facts(row: Any) -> Facts:
    """The facts a source row was saved with (older rows: computed from its record)."""
    if row.facts:
        return Facts.from_json(row.facts)
    return facts_of(SchoolRecord.from_json(row.record))


def row_record(row: Any) -> SchoolRecord:
    """A school row's own values as a record."""
    values = {k: getattr(row, k) for k in RECORD_FIELDS}
    return SchoolRecord.of(row.name, Evidence(0, 0, 0, ""), values, row.identifiers)


def add_keys(conn: Connection, school_id: int, found: Iterable[Facts]) -> None:
    rows = [
        {"kind": kind, "value": value[:KEY_LENGTH], "school_id": school_id}
        for f in found
        for kind, value in block_keys(f)
    ]
    if not rows:
        return
    conn.execute(upsert(conn.dialect.name)(keys).on_conflict_do_nothing(), rows)


def add_members(conn: Connection, school_id: int, current: Any, found: Sequence[Facts]) -> None:
    """Let the matcher know ``school_id`` also by ``found`` (facts of records it gained).

    ``current`` is the school's ``match_facts`` as read in this transaction.
    """
    known = {json.dumps(m, sort_keys=True) for m in current or []}
    new = [f for f in distinct(found) if _canonical(f) not in known]
    if not new:
        return
    conn.execute(
        update(schools)
        .where(schools.c.id == school_id)
        .values(match_facts=[*(current or []), *(f.to_json() for f in new)])
    )
    add_keys(conn, school_id, new)


def rebuild(conn: Connection, school_id: int) -> None:
    """Recompute a school's facts and keys from its sources, review and aliases (after an
    unmerge, an edit, an approval)."""
    # Not search_text: migration 0006 rebuilds schools before 0009 adds that column.
    columns = [c for c in schools.c if c.name != "search_text"]
    row = conn.execute(select(*columns).where(schools.c.id == school_id)).one()
    found = [record_facts(s) for s in conn.execute(_sources_of(school_id))]
    reviewed = row_record(row)
    if row.locked_fields:  # a person approved or edited it: its values are facts too
        found.append(facts_of(reviewed))
    names = conn.execute(select(aliases.c.name).where(aliases.c.school_id == school_id))
    found += [facts_of(replace(reviewed, name=name)) for name in names.scalars()]
    members = distinct(found)
    conn.execute(
        update(schools)
        .where(schools.c.id == school_id)
        .values(match_facts=[f.to_json() for f in members])
    )
    drop_keys(conn, school_id, row.match_facts)
    if row.status != "merged":
        add_keys(conn, school_id, members)


def _sources_of(school_id: int) -> Any:
    return select(sources.c.facts, sources.c.record).where(sources.c.school_id == school_id)


_DROP_KEY = delete(keys).where(
    keys.c.kind == bindparam("k"),
    keys.c.value == bindparam("v"),
    keys.c.school_id == bindparam("s"),
)


def drop_keys(conn: Connection, school_id: int, stored: Any) -> None:
    """Remove the keys of a school known by ``stored`` (its ``match_facts`` as they were):
    it is merged away, or known by other facts now. By primary key, one per key: an index
    on ``school_id`` would cost every save a second insert per key."""
    found = [Facts.from_json(m) for m in stored or []]
    rows = [
        {"k": kind, "v": value[:KEY_LENGTH], "s": school_id}
        for kind, value in sorted({k for f in found for k in block_keys(f)})
    ]
    if rows:
        conn.execute(_DROP_KEY, rows)


def candidates(conn: Connection, found: Sequence[Facts]) -> list[Candidate]:
    """The schools sharing a blocking key with any of ``found``, in id order. A key shared
    by more than MAX_BLOCK schools is skipped (see ``domain.matching.blocking``)."""
    wanted = sorted({k for f in found for k in lookup_keys(f)})
    params: dict[str, str] = {}
    for i, (kind, value) in enumerate(wanted):
        params |= {f"kind{i}": kind, f"value{i}": value[:KEY_LENGTH]}
    by_key: dict[int, list[int]] = defaultdict(list)
    rows: dict[int, Any] = {}
    for row in conn.execute(_blocks(len(wanted)), params):
        by_key[row.key].append(row.school_id)
        rows[row.school_id] = row
    kept = {i for block in by_key.values() if len(block) <= MAX_BLOCK for i in block}
    return [
        Candidate(i, rows[i].status, _decoded(rows[i].facts))
        for i in sorted(kept)
        if rows[i].status != "merged"
    ]


def rekey(conn: Connection) -> int:
    """Blocking keys again for every school not merged away, from its stored facts (when
    what the keys are changes); returns how many schools."""
    conn.execute(delete(keys))
    count = 0
    rows = conn.execute(
        select(schools.c.id, cast(schools.c.match_facts, Text).label("facts")).where(
            schools.c.status != "merged"
        )
    )
    for school_id, text in list(rows):
        add_keys(conn, school_id, _decoded(text))
        count += 1
    return count


def reindex(conn: Connection) -> int:
    """Facts and keys for every school that has none yet (schools saved by an older
    version); returns how many."""
    todo = conn.execute(select(schools.c.id).where(schools.c.match_facts.is_(None))).scalars()
    count = 0
    for school_id in list(todo):
        rebuild(conn, school_id)
        count += 1
    return count


__all__ = [
    "Candidate",
    "add_keys",
    "add_members",
    "candidates",
    "distinct",
    "drop_keys",
    "rebuild",
    "record_facts",
    "reindex",
    "rekey",
    "row_record",
]
