"""Schools under review: idempotent save with matching, search, review, merge and unmerge,
possible duplicates, export."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, insert, select, text, update

from domain.matching import Facts
from domain.matching.dedupe import document_facts, shared_phones
from domain.matching.names import name_key
from models import school_list
from models.base import utcnow
from models.db import Database, run_sync_transaction, upsert
from models.paging import Page, check_window
from models.retrying import retry_locked
from models.school_edits import EDITABLE, clean_changes
from models.school_index import rebuild
from models.school_merges import fold, load, unfold
from models.school_pairs import ACCEPTED, DISMISSED, PENDING, decide
from models.school_save import Evidence, SaveItem, prior_save, save_group
from models.school_search import refresh
from models.school_views import (
    PairInfo,
    SchoolInfo,
    SourceInfo,
    aliases_of,
    merges_into,
    reason_text,
    school_info,
    sources_of,
)
from models.tables import ReviewAction, School, SchoolAlias, SchoolPair, SchoolSource
from pipeline.errors import ConfirmationNeeded, ConflictError, NotFoundError

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)
reviews = cast(Table, ReviewAction.__table__)
pairs = cast(Table, SchoolPair.__table__)
aliases = cast(Table, SchoolAlias.__table__)

STATUSES = ("pending", "approved", "rejected", "merged")
SAVE_BATCH = 250
SAVE_LOCK_KEY = 0x5C0012
T = TypeVar("T")


@dataclass(frozen=True)
class SaveResult:
    saved: int  # schools the document added
    merged: int  # schools of the document that were already known
    sources: int  # evidence rows: one per record, repeats within the document included

    def to_json(self) -> dict[str, int]:
        return {"saved": self.saved, "merged": self.merged, "sources": self.sources}


def _batches(items: Sequence[SaveItem]) -> list[list[int]]:
    """Indexes of ``items`` in runs of about SAVE_BATCH records, never splitting an item."""
    out: list[list[int]] = [[]]
    size = 0
    for i, item in enumerate(items):
        if size >= SAVE_BATCH:
            out.append([])
            size = 0
        out[-1].append(i)
        size += len(item.records)
    return [b for b in out if b]


class SchoolStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = db.dialect == "postgresql"
        self._insert_source = upsert(db.dialect)(sources).on_conflict_do_nothing()

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one write transaction; saves, merges and reviews of schools take
        turns (SQLite: the write lock; PostgreSQL: an advisory lock), so two workers
        saving the same school make one school."""

        def locked(conn: Connection) -> T:
            if self._pg:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SAVE_LOCK_KEY})
            return fn(conn)

        return await retry_locked(functools.partial(run_sync_transaction, self.db, locked))

    # --- save -------------------------------------------------------------------------

    async def save(
        self,
        items: Sequence[SaveItem],
        *,
        document_id: int,
        task_id: int,
        extractor: str,
        on_batch: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> SaveResult:
        """Match and save one document's schools with their evidence; safe to run twice,
        or to resume.

        Saved in transactions of about SAVE_BATCH records, so that a 1,000-page directory
        never holds the write lock for long; ``on_batch(items saved, items)`` after each.
        Each school's first evidence row says whether it created its school, so a repeated
        or resumed save reports what the first did.
        """
        # A phone the document gives for two differently named schools says less: known
        # from the whole document, while each batch's facts are made as it is saved.
        shared = shared_phones(r for item in items for r in item.records)
        ev = Evidence(document_id, task_id, extractor)
        created: list[bool] = []
        for batch in _batches(items):
            records = [r for i in batch for r in items[i].records]
            facts = document_facts(records, shared, document_id)

            def save_batch(
                conn: Connection, batch: list[int] = batch, facts: list[Facts] = facts
            ) -> list[bool]:
                out, start = [], 0
                for i in batch:
                    item = items[i]
                    group = facts[start : start + len(item.records)]
                    start += len(item.records)
                    before = prior_save(conn, item.record, ev)
                    if before is None:
                        before = save_group(conn, self._insert_source, item, group, ev)
                    out.append(before)
                return out

            created += await self._write(save_batch)
            if on_batch is not None:
                await on_batch(len(created), len(items))
        saved = sum(created)
        return SaveResult(saved, len(created) - saved, sum(len(item.records) for item in items))

    # --- read -------------------------------------------------------------------------

    async def find(
        self,
        *,
        text_query: str | None = None,
        region: str | None = None,
        city: str | None = None,
        status: str | None = None,
        document_ids: Sequence[int] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> Page[SchoolInfo]:
        """One page of the schools matching, with how many match in all."""
        return await school_list.find(
            self.db,
            text_query=text_query,
            region=region,
            city=city,
            status=status,
            document_ids=document_ids,
            limit=limit,
            offset=offset,
        )

    async def search(
        self, *, limit: int = 100, offset: int = 0, **filters: Any
    ) -> list[SchoolInfo]:
        """``find``'s schools alone; ``filters`` as ``find`` takes them."""
        return (await self.find(limit=limit, offset=offset, **filters)).items

    async def get(self, school_id: int) -> SchoolInfo:
        """One school with its sources, aliases and merges."""
        async with self.db.read.connect() as conn:
            row = (await conn.execute(select(schools).where(schools.c.id == school_id))).first()
            if row is None:
                raise NotFoundError(f"no school {school_id}")
            found = await sources_of(conn, [school_id])
            names = await aliases_of(conn, school_id)
            history = await merges_into(conn, school_id)
        return school_info(row, found.get(school_id, ()), names=names, history=history)

    async def export(self, *, status: str | None = None) -> list[SchoolInfo]:
        """Every school (except those merged into another) with all its sources."""
        query = select(schools).order_by(schools.c.id)
        query = (
            query.where(schools.c.status == status)
            if status
            else query.where(schools.c.status != "merged")
        )
        async with self.db.read.connect() as conn:
            rows = list(await conn.execute(query))
            found = await sources_of(conn, [r.id for r in rows])
        return [school_info(r, found.get(r.id, ())) for r in rows]

    async def count(self, **filters: Any) -> int:
        """How many schools ``search`` with the same ``filters`` finds in all."""
        return (await self.find(limit=1, **filters)).total

    # --- review -----------------------------------------------------------------------

    async def review(self, school_id: int, approve: bool, user_id: str) -> SchoolInfo:
        """Approve (locks every filled field against automatic changes) or reject."""

        def fn(conn: Connection) -> None:
            row = load(conn, school_id)
            if row.status == "merged":
                raise ConflictError(f"school {school_id} was merged into {row.merged_into}")
            status = "approved" if approve else "rejected"
            now = utcnow()
            values: dict[str, Any] = {
                "status": status,
                "reviewed_by": user_id,
                "reviewed_at": now,
                "updated_at": now,
            }
            if approve:
                filled = [k for k in EDITABLE if getattr(row, k)]
                values["locked_fields"] = sorted(set(row.locked_fields or []) | set(filled))
            conn.execute(update(schools).where(schools.c.id == school_id).values(values))
            _record(conn, school_id, "approve" if approve else "reject", user_id, {})
            rebuild(conn, school_id)

        await self._write(fn)
        return await self.get(school_id)

    async def edit(
        self, school_id: int, changes: Mapping[str, str | None], user_id: str
    ) -> SchoolInfo:
        """Set fields and lock them; a new name keeps the old one as an alias, so a
        document still printing it links to this school. Values pass the extraction
        normalizers; one they cannot read is refused (``InvalidValue``, naming the field)."""

        def fn(conn: Connection) -> None:
            row = load(conn, school_id)
            now = utcnow()
            cleaned = clean_changes(changes, row)
            values: dict[str, Any] = dict(cleaned)
            if cleaned.get("name"):
                values["match_key"] = name_key(str(cleaned["name"]))[:255]
                if str(cleaned["name"]).casefold() != row.name.casefold():
                    conn.execute(
                        insert(aliases).values(
                            school_id=school_id,
                            name=row.name,
                            origin="edit",
                            user_id=user_id,
                            created_at=now,
                        )
                    )
            conn.execute(
                update(schools)
                .where(schools.c.id == school_id)
                .values(
                    locked_fields=sorted(set(row.locked_fields or []) | set(changes)),
                    updated_at=now,
                    reviewed_by=user_id,
                    reviewed_at=now,
                    **values,
                )
            )
            _record(conn, school_id, "edit", user_id, {"changes": cleaned})
            rebuild(conn, school_id)
            refresh(conn, school_id)

        await self._write(fn)
        return await self.get(school_id)

    async def merge(
        self, keep_id: int, other_id: int, user_id: str, *, confirm: bool = False
    ) -> SchoolInfo:
        """Fold ``other`` into ``keep``: its sources move, its values fill keep's gaps, its
        name becomes an alias of keep. A rejected school is merged only with ``confirm``."""
        if keep_id == other_id:
            raise ConflictError("cannot merge a school with itself")

        def fn(conn: Connection) -> None:
            self._merge(conn, keep_id, other_id, user_id, confirm=confirm)

        await self._write(fn)
        return await self.get(keep_id)

    def _merge(
        self, conn: Connection, keep_id: int, other_id: int, user_id: str, *, confirm: bool
    ) -> None:
        keep, other = load(conn, keep_id), load(conn, other_id)
        rejected = [r.id for r in (keep, other) if r.status == "rejected"]
        if rejected and not confirm:
            ids = " and ".join(str(i) for i in rejected)
            raise ConfirmationNeeded(
                f"school {ids} was rejected; merging it needs confirmation (--confirm)"
            )
        merge_id = fold(conn, keep, other, kind="review", user_id=user_id, learn_alias=True)
        decide(conn, keep_id, other_id, ACCEPTED, user_id)
        _record(conn, keep_id, "merge", user_id, {"merged": other_id, "merge_id": merge_id})

    async def unmerge(self, school_id: int, user_id: str) -> SchoolInfo:
        """Take a merged school back out, with its own sources and values; the two are then
        remembered as distinct (never proposed again)."""

        def fn(conn: Connection) -> int:
            keep_id = unfold(conn, school_id, user_id)
            decide(conn, keep_id, school_id, DISMISSED, user_id)
            _record(conn, keep_id, "unmerge", user_id, {"unmerged": school_id})
            _record(conn, school_id, "unmerge", user_id, {"from": keep_id})
            return keep_id

        await self._write(fn)
        return await self.get(school_id)

    async def history(self, school_id: int) -> list[dict[str, Any]]:
        async with self.db.read.connect() as conn:
            rows = await conn.execute(
                select(reviews).where(reviews.c.school_id == school_id).order_by(reviews.c.id)
            )
            return [
                {
                    "action": r.action,
                    "user": r.user_id,
                    "detail": r.detail,
                    "at": r.created_at.isoformat(),
                }
                for r in rows
            ]

    # --- possible duplicates ------------------------------------------------------------

    async def duplicates_page(self, *, limit: int = 100, offset: int = 0) -> Page[PairInfo]:
        check_window(limit, offset)
        found = await self.duplicates(limit=limit, offset=offset)
        return Page(found, await school_list.count_duplicates(self.db), limit, offset)

    async def duplicates(self, *, limit: int = 100, offset: int = 0) -> list[PairInfo]:
        """Pending pairs of schools that are both still there, most likely first."""
        a, b = schools.alias("a"), schools.alias("b")
        query = (
            select(pairs)
            .join(a, a.c.id == pairs.c.school_a)
            .join(b, b.c.id == pairs.c.school_b)
            .where(pairs.c.status == PENDING, a.c.status != "merged", b.c.status != "merged")
            .order_by(pairs.c.score.desc(), pairs.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self.db.read.connect() as conn:
            rows = list(await conn.execute(query))
            ids = sorted({r.school_a for r in rows} | {r.school_b for r in rows})
            found = await sources_of(conn, ids)
            by_id = {
                r.id: school_info(r, found.get(r.id, ()))
                for r in await conn.execute(select(schools).where(schools.c.id.in_(ids or [-1])))
            }
        return [
            PairInfo(
                r.id,
                r.score,
                reason_text(r.reasons or []),
                r.status,
                by_id[r.school_a],
                by_id[r.school_b],
            )
            for r in rows
        ]

    async def pair(self, pair_id: int) -> PairInfo:
        async with self.db.read.connect() as conn:
            row = (await conn.execute(select(pairs).where(pairs.c.id == pair_id))).first()
        if row is None:
            raise NotFoundError(f"no possible duplicate {pair_id}")
        first, second = await self.get(row.school_a), await self.get(row.school_b)
        return PairInfo(
            row.id, row.score, reason_text(row.reasons or []), row.status, first, second
        )

    async def accept(
        self, pair_id: int, user_id: str, *, keep: int | None = None, confirm: bool = False
    ) -> SchoolInfo:
        """They are one school: merge the pair (into ``keep``, by default the older)."""
        found = await self.pair(pair_id)
        keep_id = keep if keep is not None else found.a.id
        if keep_id not in (found.a.id, found.b.id):
            raise ConflictError(f"school {keep_id} is not in pair {pair_id}")
        other_id = found.b.id if keep_id == found.a.id else found.a.id

        def fn(conn: Connection) -> None:
            _check_pending(conn, pair_id)
            self._merge(conn, keep_id, other_id, user_id, confirm=confirm)

        await self._write(fn)
        return await self.get(keep_id)

    async def dismiss(self, pair_id: int, user_id: str) -> PairInfo:
        """They are two schools: the pair is never proposed again."""
        found = await self.pair(pair_id)

        def fn(conn: Connection) -> None:
            _check_pending(conn, pair_id)
            decide(conn, found.a.id, found.b.id, DISMISSED, user_id)
            for school_id in (found.a.id, found.b.id):
                _record(conn, school_id, "dismiss", user_id, {"pair": pair_id})

        await self._write(fn)
        return await self.pair(pair_id)


def _check_pending(conn: Connection, pair_id: int) -> None:
    status = conn.execute(select(pairs.c.status).where(pairs.c.id == pair_id)).scalar_one()
    if status != PENDING:
        raise ConflictError(f"possible duplicate {pair_id} was already {status}")


def _record(
    conn: Connection, school_id: int, action: str, user_id: str, detail: dict[str, Any]
) -> None:
    conn.execute(
        insert(reviews).values(
            school_id=school_id, action=action, user_id=user_id, detail=detail, created_at=utcnow()
        )
    )


__all__ = [
    "EDITABLE",
    "STATUSES",
    "Page",
    "PairInfo",
    "SaveItem",
    "SaveResult",
    "SchoolInfo",
    "SchoolStore",
    "SourceInfo",
]
