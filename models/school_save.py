"""Save one document's schools: each group of records (one school, as in-document dedupe
found it) is matched against the database and merged, proposed, or saved as new.

For a group, the candidates are the schools sharing a blocking key with any of its
records; each is judged by the strongest pair between one of the group's records and one
of the records the school is known by (``domain.matching.best_of``). Then:

- schools to merge with (at or above the auto-merge bar, not through a mention by name
  alone, not through a record of this same document): the group joins the best; the
  others are merged into it too, since the group shows they are one school (unless a
  person dismissed that pair) — so the result does not depend on the order documents
  arrive in;
- else the group is a new school;
- else, schools between the bars (the best ``PROPOSE``) are stored as possible duplicates
  of the new school.

Every record gets its own school row and its own evidence row: a record that joined an
existing school is a ``merged`` row with a merge history entry, so ``unmerge`` can take
it back out. Runs on a synchronous connection inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select

from domain.matching import Facts, Judgement, Outcome, best_of
from domain.matching.names import name_key
from domain.records import RECORD_FIELDS, SchoolRecord
from models.base import utcnow
from models.school_index import Candidate, add_keys, candidates
from models.school_merges import fold, load
from models.school_pairs import is_dismissed, propose
from models.school_search import PLACES, record_text
from models.tables import School, SchoolSource

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)

PROPOSE = 3  # possible duplicates stored per new record, best first

_PRIOR_SOURCE = select(sources.c.created_school).where(
    sources.c.document_id == bindparam("document_id"),
    sources.c.page == bindparam("page"),
    sources.c.span_start == bindparam("start"),
    sources.c.extractor == bindparam("extractor"),
)
_INSERT_SCHOOL = insert(schools).returning(schools.c.id)


@dataclass(frozen=True)
class SaveItem:
    """One school of a document: its first record and the records repeating it."""

    record: SchoolRecord
    duplicates: tuple[SchoolRecord, ...] = ()

    @property
    def records(self) -> tuple[SchoolRecord, ...]:
        return (self.record, *self.duplicates)


@dataclass(frozen=True)
class Evidence:
    document_id: int
    task_id: int
    extractor: str


@dataclass
class Scored:
    candidate: Candidate
    judgement: Judgement
    order: tuple[int, float, int] = field(init=False)

    def __post_init__(self) -> None:
        merge = self.judgement.outcome is Outcome.MERGE
        self.order = (-int(merge), -self.judgement.found.score, self.candidate.id)


def prior_save(conn: Connection, record: SchoolRecord, ev: Evidence) -> bool | None:
    """Whether ``record``'s evidence created its school in an earlier save, or None when
    it was not saved yet."""
    found = conn.execute(
        _PRIOR_SOURCE,
        {
            "document_id": ev.document_id,
            "page": record.evidence.page,
            "start": record.evidence.start,
            "extractor": ev.extractor,
        },
    ).first()
    return None if found is None else bool(found.created_school)


def _insert_school(conn: Connection, record: SchoolRecord, facts: Facts) -> int:
    now = utcnow()
    return int(
        conn.execute(
            _INSERT_SCHOOL,
            {
                "name": record.name,
                "match_key": name_key(record.name)[:255],
                "status": "pending",
                "locked_fields": [],
                "match_facts": [facts.to_json()],
                "identifiers": dict(record.identifiers),
                "search_text": record_text(record.name, {k: getattr(record, k) for k in PLACES}),
                "created_at": now,
                "updated_at": now,
                **{k: getattr(record, k) for k in RECORD_FIELDS},
            },
        ).scalar_one()
    )


def _insert_source(
    conn: Connection,
    insert_source: Any,
    school_id: int,
    record: SchoolRecord,
    facts: Facts,
    ev: Evidence,
    created: bool,
) -> None:
    conn.execute(
        insert_source,
        {
            "school_id": school_id,
            "document_id": ev.document_id,
            "task_id": ev.task_id,
            "page": record.evidence.page,
            "span_start": record.evidence.start,
            "span_end": record.evidence.end,
            "snippet": record.evidence.snippet,
            "extractor": ev.extractor,
            "record": record.to_json(),
            "facts": facts.to_json(),
            "created_school": created,
        },
    )


def _own_row(
    conn: Connection, insert_source: Any, record: SchoolRecord, facts: Facts, ev: Evidence
) -> Any:
    """A school row of one record with its evidence, to be merged into another."""
    school_id = _insert_school(conn, record, facts)
    _insert_source(conn, insert_source, school_id, record, facts, ev, created=False)
    return load(conn, school_id)


def save_group(
    conn: Connection,
    insert_source: Any,
    item: SaveItem,
    group: Sequence[Facts],
    ev: Evidence,
) -> bool:
    """Save one school of a document; True when it is a new school."""
    records = item.records
    scored = sorted(
        (Scored(c, best_of(group, c.members, grouped=True)) for c in candidates(conn, group)),
        key=lambda s: s.order,
    )
    joins = [s for s in scored if s.judgement.outcome is Outcome.MERGE]
    if joins:
        school_id = joins[0].candidate.id
        head = _own_row(conn, insert_source, records[0], group[0], ev)
        fold(conn, load(conn, school_id), head, kind="auto", found=joins[0].judgement.found)
        for other in joins[1:]:
            if not is_dismissed(conn, school_id, other.candidate.id):
                fold(
                    conn,
                    load(conn, school_id),
                    load(conn, other.candidate.id),
                    kind="auto",
                    found=other.judgement.found,
                )
    else:
        school_id = _insert_school(conn, records[0], group[0])
        _insert_source(conn, insert_source, school_id, records[0], group[0], ev, created=True)
        add_keys(conn, school_id, [group[0]])
    for index in range(1, len(records)):
        duplicate = _own_row(conn, insert_source, records[index], group[index], ev)
        within = best_of(group[index : index + 1], group[:index])  # why it joined
        fold(conn, load(conn, school_id), duplicate, kind="document", found=within.found)
    if not joins:  # a school found needs no other proposal: the rest are other schools
        possible = [s for s in scored if s.judgement.outcome is Outcome.POSSIBLE]
        for s in possible[:PROPOSE]:
            propose(conn, school_id, s.candidate.id, s.judgement.found)
    return not joins


__all__ = ["PROPOSE", "Evidence", "SaveItem", "prior_save", "save_group"]
