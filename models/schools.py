"""Schools under review: idempotent upsert with evidence, search, review, merge, export."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.normalize import key_similarity
from handlers.records import RECORD_FIELDS, SchoolRecord
from models.base import utcnow
from models.db import Database, run_sync_transaction
from models.retrying import retry_locked
from models.tables import Document, ReviewAction, School, SchoolSource
from pipeline.errors import ConflictError, NotFoundError

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)
documents = cast(Table, Document.__table__)
reviews = cast(Table, ReviewAction.__table__)

EDITABLE = ("name", *RECORD_FIELDS)
STATUSES = ("pending", "approved", "rejected", "merged")
MATCH_THRESHOLD = 90
SAVE_BATCH = 250

# Statements run a few times per saved record: built once, with bound parameters.
_PRIOR_SOURCE = select(sources.c.created_school).where(
    sources.c.document_id == bindparam("document_id"),
    sources.c.page == bindparam("page"),
    sources.c.span_start == bindparam("start"),
    sources.c.extractor == bindparam("extractor"),
)
_CANDIDATE_COLUMNS = select(
    schools.c.id, schools.c.match_key, schools.c.region, schools.c.city, schools.c.postal_code
).where(schools.c.status != "merged")
_BY_KEY = _CANDIDATE_COLUMNS.where(schools.c.match_key == bindparam("value"))
_BY_POSTAL = _CANDIDATE_COLUMNS.where(schools.c.postal_code == bindparam("value"))
_BY_CITY = _CANDIDATE_COLUMNS.where(schools.c.city == bindparam("value"))
_INSERT_SCHOOL = insert(schools).returning(schools.c.id)
SAVE_LOCK_KEY = 0x5C0012


@dataclass(frozen=True)
class SaveResult:
    saved: int
    merged: int
    sources: int

    def to_json(self) -> dict[str, int]:
        return {"saved": self.saved, "merged": self.merged, "sources": self.sources}


@dataclass(frozen=True)
class SourceInfo:
    document_id: int
    document: str
    sha256: str
    page: int
    span_start: int
    span_end: int
    snippet: str
    extractor: str
    task_id: int | None


@dataclass(frozen=True)
class SchoolInfo:
    id: int
    name: str
    fields: dict[str, str | None]
    status: str
    merged_into: int | None
    locked_fields: tuple[str, ...]
    reviewed_by: str | None
    sources: tuple[SourceInfo, ...] = field(default=())
    identifiers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The export shape other tools rely on (see the README)."""
        return {
            "id": self.id,
            "name": self.name,
            **{k: self.fields.get(k) for k in RECORD_FIELDS},
            "identifiers": dict(self.identifiers),
            "status": self.status,
            "sources": [
                {"document": s.document, "sha256": s.sha256, "page": s.page, "snippet": s.snippet}
                for s in self.sources
            ],
        }


@dataclass(frozen=True)
class SaveItem:
    record: SchoolRecord
    match_key: str


class SchoolStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = db.dialect == "postgresql"
        upsert = postgresql.insert if self._pg else sqlite.insert
        self._insert_source = upsert(sources).on_conflict_do_nothing()

    async def _tx(self, fn: Any) -> Any:
        async def run() -> Any:
            async with self.db.write.begin() as conn:
                if self._pg:  # saves and merges of schools are serialized, as on SQLite
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": SAVE_LOCK_KEY}
                    )
                return await fn(conn)

        return await retry_locked(run)

    # --- save -------------------------------------------------------------------------

    async def save(
        self, items: Sequence[SaveItem], *, document_id: int, task_id: int, extractor: str
    ) -> SaveResult:
        """Upsert every record with its evidence; safe to run twice, or to resume.

        Records are saved in transactions of SAVE_BATCH so that a 1,000-page directory never
        holds the write lock for long. Each record's evidence row says whether it created
        its school, so a repeated or resumed save reports exactly what the first one did.
        """
        saved = merged = 0
        for start in range(0, len(items), SAVE_BATCH):
            batch = items[start : start + SAVE_BATCH]

            def save_batch(conn: Connection, batch: Sequence[SaveItem] = batch) -> list[bool]:
                self._serialize_saves(conn)
                return [
                    self._save_one(conn, item, document_id, task_id, extractor) for item in batch
                ]

            created = await retry_locked(
                functools.partial(run_sync_transaction, self.db, save_batch)
            )
            saved += sum(created)
            merged += len(created) - sum(created)
        return SaveResult(saved, merged, saved + merged)

    def _serialize_saves(self, conn: Connection) -> None:
        if self._pg:  # saves and merges of schools are serialized, as on SQLite
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SAVE_LOCK_KEY})

    def _save_one(
        self, conn: Connection, item: SaveItem, document_id: int, task_id: int, extractor: str
    ) -> bool:
        rec = item.record
        ev = rec.evidence
        prior = conn.execute(
            _PRIOR_SOURCE,
            {
                "document_id": document_id,
                "page": ev.page,
                "start": ev.start,
                "extractor": extractor,
            },
        ).first()
        if prior is not None:  # a repeated save: report what the first one did
            return bool(prior.created_school)
        match = self._find_match(conn, rec, item.match_key)
        if match is None:
            school_id = self._insert_school(conn, rec, item.match_key)
        else:
            school_id = match
            self._fill_empty(conn, school_id, rec)
        conn.execute(
            self._insert_source,
            {
                "school_id": school_id,
                "document_id": document_id,
                "task_id": task_id,
                "page": ev.page,
                "span_start": ev.start,
                "span_end": ev.end,
                "snippet": ev.snippet,
                "extractor": extractor,
                "record": rec.to_json(),
                "created_school": match is None,
            },
        )
        return match is None

    def _find_match(self, conn: Connection, rec: SchoolRecord, key: str) -> int | None:
        # Blocking: only schools with the same key, postal code or city are compared, each
        # found through its own index (an OR across columns would scan the table).
        lookups = [(_BY_KEY, key), (_BY_POSTAL, rec.postal_code), (_BY_CITY, rec.city)]
        rows: dict[int, Any] = {}
        for query, value in lookups:
            if value:
                for row in conn.execute(query, {"value": value}):
                    rows[row.id] = row
        best: tuple[float, int] | None = None
        for row in rows.values():
            if not _same_place(rec, row):
                continue
            score = key_similarity(key, row.match_key)
            if score >= MATCH_THRESHOLD and (best is None or score > best[0]):
                best = (score, row.id)
        return None if best is None else best[1]

    def _insert_school(self, conn: Connection, rec: SchoolRecord, key: str) -> int:
        now = utcnow()
        values = {k: getattr(rec, k) for k in RECORD_FIELDS}
        row = conn.execute(
            _INSERT_SCHOOL,
            {
                "name": rec.name,
                "match_key": key,
                "identifiers": dict(rec.identifiers),
                "status": "pending",
                "locked_fields": [],
                "created_at": now,
                "updated_at": now,
                **values,
            },
        )
        return int(row.scalar_one())

    def _fill_empty(self, conn: Connection, school_id: int, rec: SchoolRecord) -> None:
        row = conn.execute(select(schools).where(schools.c.id == school_id)).one()
        locked = set(row.locked_fields or [])
        values: dict[str, Any] = {
            k: getattr(rec, k)
            for k in RECORD_FIELDS
            if getattr(rec, k) and not getattr(row, k) and k not in locked
        }
        known = dict(row.identifiers or {})
        if set(rec.identifiers) - set(known):  # a scheme this school has no id for yet
            values["identifiers"] = {**rec.identifiers, **known}
        if values:
            conn.execute(
                update(schools)
                .where(schools.c.id == school_id)
                .values(updated_at=utcnow(), **values)
            )

    # --- read -------------------------------------------------------------------------

    async def search(
        self,
        *,
        text_query: str | None = None,
        region: str | None = None,
        city: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[SchoolInfo]:
        query = select(schools).order_by(schools.c.name, schools.c.id).limit(limit).offset(offset)
        if status:
            query = query.where(schools.c.status == status)
        else:
            query = query.where(schools.c.status != "merged")
        if region:
            query = query.where(func.upper(schools.c.region) == region.upper())
        if city:
            query = query.where(func.lower(schools.c.city) == city.lower())
        if text_query:
            like = f"%{text_query.lower()}%"
            query = query.where(
                or_(
                    func.lower(schools.c.name).like(like),
                    func.lower(schools.c.address).like(like),
                    func.lower(schools.c.city).like(like),
                    func.lower(schools.c.district).like(like),
                )
            )
        async with self.db.read.connect() as conn:
            return [_school(r) for r in await conn.execute(query)]

    async def get(self, school_id: int) -> SchoolInfo:
        async with self.db.read.connect() as conn:
            row = (await conn.execute(select(schools).where(schools.c.id == school_id))).first()
            if row is None:
                raise NotFoundError(f"no school {school_id}")
            found = await _sources_of(conn, [school_id])
        return _school(row, found.get(school_id, ()))

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
            found = await _sources_of(conn, [r.id for r in rows])
        return [_school(r, found.get(r.id, ())) for r in rows]

    async def count(self) -> int:
        async with self.db.read.connect() as conn:
            query = select(func.count()).where(schools.c.status != "merged")
            return int((await conn.execute(query)).scalar_one())

    # --- review -----------------------------------------------------------------------

    async def review(self, school_id: int, approve: bool, user_id: str) -> SchoolInfo:
        """Approve (locks every filled field against automatic changes) or reject."""

        async def fn(conn: AsyncConnection) -> None:
            row = await _load(conn, school_id)
            if row.status == "merged":
                raise ConflictError(f"school {school_id} was merged into {row.merged_into}")
            status = "approved" if approve else "rejected"
            values: dict[str, Any] = {
                "status": status,
                "reviewed_by": user_id,
                "reviewed_at": utcnow(),
                "updated_at": utcnow(),
            }
            if approve:
                filled = [k for k in EDITABLE if getattr(row, k)]
                values["locked_fields"] = sorted(set(row.locked_fields or []) | set(filled))
            await conn.execute(update(schools).where(schools.c.id == school_id).values(values))
            await _record(conn, school_id, status[:-1] if approve else "reject", user_id, {})

        await self._tx(fn)
        return await self.get(school_id)

    async def edit(
        self, school_id: int, changes: Mapping[str, str | None], user_id: str
    ) -> SchoolInfo:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ConflictError(
                f"cannot edit {', '.join(sorted(unknown))}; editable fields: {', '.join(EDITABLE)}"
            )

        async def fn(conn: AsyncConnection) -> None:
            row = await _load(conn, school_id)
            locked = sorted(set(row.locked_fields or []) | set(changes))
            await conn.execute(
                update(schools)
                .where(schools.c.id == school_id)
                .values(
                    locked_fields=locked,
                    updated_at=utcnow(),
                    reviewed_by=user_id,
                    reviewed_at=utcnow(),
                    **changes,
                )
            )
            await _record(conn, school_id, "edit", user_id, {"changes": changes})

        await self._tx(fn)
        return await self.get(school_id)

    async def merge(self, keep_id: int, other_id: int, user_id: str) -> SchoolInfo:
        """Fold ``other`` into ``keep``: its sources move, its values fill keep's gaps."""
        if keep_id == other_id:
            raise ConflictError("cannot merge a school with itself")

        async def fn(conn: AsyncConnection) -> None:
            keep = await _load(conn, keep_id)
            other = await _load(conn, other_id)
            for row in (keep, other):
                if row.status == "merged":
                    raise ConflictError(
                        f"school {row.id} was already merged into {row.merged_into}"
                    )
            fill = {
                k: getattr(other, k)
                for k in RECORD_FIELDS
                if getattr(other, k) and not getattr(keep, k)
            }
            await conn.execute(
                update(schools).where(schools.c.id == keep_id).values(updated_at=utcnow(), **fill)
            )
            await conn.execute(
                update(sources).where(sources.c.school_id == other_id).values(school_id=keep_id)
            )
            await conn.execute(
                update(schools)
                .where(schools.c.id == other_id)
                .values(
                    status="merged",
                    merged_into=keep_id,
                    updated_at=utcnow(),
                    reviewed_by=user_id,
                    reviewed_at=utcnow(),
                )
            )
            await _record(conn, keep_id, "merge", user_id, {"merged": other_id})

        await self._tx(fn)
        return await self.get(keep_id)

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


def _same_place(rec: SchoolRecord, row: Any) -> bool:
    """No conflicting region, and a shared postal code or city unless the key alone matched
    and neither says where it is."""
    if rec.region and row.region and rec.region != row.region:
        return False
    if rec.postal_code and row.postal_code and rec.postal_code[:5] != row.postal_code[:5]:
        return False
    shared = (rec.postal_code and row.postal_code) or (rec.city and row.city == rec.city)
    return bool(shared) or not (rec.postal_code or rec.city)


async def _load(conn: AsyncConnection, school_id: int) -> Any:
    row = (await conn.execute(select(schools).where(schools.c.id == school_id))).first()
    if row is None:
        raise NotFoundError(f"no school {school_id}")
    return row


async def _record(
    conn: AsyncConnection, school_id: int, action: str, user_id: str, detail: dict[str, Any]
) -> None:
    await conn.execute(
        insert(reviews).values(
            school_id=school_id, action=action, user_id=user_id, detail=detail, created_at=utcnow()
        )
    )


async def _sources_of(
    conn: AsyncConnection, school_ids: list[int]
) -> dict[int, tuple[SourceInfo, ...]]:
    found: dict[int, list[SourceInfo]] = {}
    for start in range(0, len(school_ids), 500):
        query = (
            select(sources, documents.c.filename, documents.c.sha256)
            .join(documents, documents.c.id == sources.c.document_id)
            .where(sources.c.school_id.in_(school_ids[start : start + 500]))
            .order_by(sources.c.id)
        )
        for r in await conn.execute(query):
            found.setdefault(r.school_id, []).append(
                SourceInfo(
                    r.document_id,
                    r.filename,
                    r.sha256,
                    r.page,
                    r.span_start,
                    r.span_end,
                    r.snippet,
                    r.extractor,
                    r.task_id,
                )
            )
    return {k: tuple(v) for k, v in found.items()}


def _school(row: Any, found: Sequence[SourceInfo] = ()) -> SchoolInfo:
    return SchoolInfo(
        id=row.id,
        name=row.name,
        fields={k: getattr(row, k) for k in RECORD_FIELDS},
        status=row.status,
        merged_into=row.merged_into,
        locked_fields=tuple(row.locked_fields or ()),
        reviewed_by=row.reviewed_by,
        sources=tuple(found),
        identifiers=dict(row.identifiers or {}),
    )


__all__ = ["SaveItem", "SaveResult", "SchoolInfo", "SchoolStore", "SourceInfo"]
