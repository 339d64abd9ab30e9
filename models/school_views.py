"""What the review side reads about schools: a school with its sources, the values its
sources disagree on, its aliases and merges, and possible-duplicate pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.records import RECORD_FIELDS
from models.tables import Document, School, SchoolAlias, SchoolMerge, SchoolSource

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)
documents = cast(Table, Document.__table__)
merges = cast(Table, SchoolMerge.__table__)
aliases = cast(Table, SchoolAlias.__table__)

CHUNK = 500


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
    id: int = 0
    values: dict[str, Any] = field(default_factory=dict)  # what this source says


@dataclass(frozen=True)
class Alternative:
    """One value a field has in some source; ``current`` is the one the school shows."""

    value: str
    current: bool
    sources: tuple[SourceInfo, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "current": self.current,
            "sources": [{"document_id": s.document_id, "page": s.page} for s in self.sources],
        }


@dataclass(frozen=True)
class MergeInfo:
    id: int
    keep_id: int
    merged_id: int
    merged_name: str
    kind: str  # auto, document, review
    score: float | None
    reasons: tuple[str, ...]
    user: str | None
    at: str
    undone: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "keep_id": self.keep_id,
            "merged_id": self.merged_id,
            "merged_name": self.merged_name,
            "kind": self.kind,
            "score": self.score,
            "reasons": list(self.reasons),
            "user": self.user,
            "at": self.at,
            "undone": self.undone,
        }


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
    aliases: tuple[str, ...] = ()
    merges: tuple[MergeInfo, ...] = ()

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

    def alternatives(self) -> dict[str, tuple[Alternative, ...]]:
        """Fields whose sources disagree (mailing vs physical address, two phones): every
        value with the sources that give it, the one the school shows first."""
        out: dict[str, tuple[Alternative, ...]] = {}
        for key in ("name", *RECORD_FIELDS):
            current = self.name if key == "name" else self.fields.get(key)
            given: dict[str, list[SourceInfo]] = {}
            for src in self.sources:
                value = src.values.get(key)
                if isinstance(value, str) and value:
                    given.setdefault(value, []).append(src)
            if current and current not in given:
                given = {current: [], **given}  # a reviewer's value no source gives
            if len(given) < 2:
                continue
            ordered = sorted(given.items(), key=lambda kv: kv[0] != current)
            out[key] = tuple(Alternative(v, v == current, tuple(s)) for v, s in ordered)
        return out


@dataclass(frozen=True)
class PairInfo:
    """Two schools that may be one, as a save proposed them."""

    id: int
    score: float
    reasons: tuple[str, ...]
    status: str
    a: SchoolInfo
    b: SchoolInfo


def reason_text(raw: Sequence[Any]) -> tuple[str, ...]:
    return tuple(f"{c} {level} {float(w):+.1f}" for c, level, w in raw)


async def sources_of(
    conn: AsyncConnection, school_ids: Sequence[int]
) -> dict[int, tuple[SourceInfo, ...]]:
    found: dict[int, list[SourceInfo]] = {}
    for start in range(0, len(school_ids), CHUNK):
        query = (
            select(sources, documents.c.filename, documents.c.sha256)
            .join(documents, documents.c.id == sources.c.document_id)
            .where(sources.c.school_id.in_(school_ids[start : start + CHUNK]))
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
                    r.id,
                    dict(r.record or {}),
                )
            )
    return {k: tuple(v) for k, v in found.items()}


async def merges_into(conn: AsyncConnection, school_id: int) -> tuple[MergeInfo, ...]:
    """Merges into ``school_id`` and of it into another, oldest first."""
    query = (
        select(merges, schools.c.name)
        .join(schools, schools.c.id == merges.c.merged_id)
        .where((merges.c.keep_id == school_id) | (merges.c.merged_id == school_id))
        .order_by(merges.c.id)
    )
    return tuple(
        MergeInfo(
            r.id,
            r.keep_id,
            r.merged_id,
            r.name,
            r.kind,
            r.score,
            reason_text(r.reasons or []),
            r.user_id,
            r.created_at.isoformat(),
            r.undone_at is not None,
        )
        for r in await conn.execute(query)
    )


async def aliases_of(conn: AsyncConnection, school_id: int) -> tuple[str, ...]:
    query = select(aliases.c.name).where(aliases.c.school_id == school_id).order_by(aliases.c.id)
    return tuple((await conn.execute(query)).scalars())


def school_info(
    row: Any,
    found: Sequence[SourceInfo] = (),
    *,
    names: Sequence[str] = (),
    history: Sequence[MergeInfo] = (),
) -> SchoolInfo:
    # By key, not by attribute: a Row's attribute lookup costs about five times as much,
    # and for a page of 50 schools it was a fifth of the API's time (bench.api).
    m = row._mapping
    return SchoolInfo(
        id=m["id"],
        name=m["name"],
        fields={k: m[k] for k in RECORD_FIELDS},
        status=m["status"],
        merged_into=m["merged_into"],
        locked_fields=tuple(m["locked_fields"] or ()),
        reviewed_by=m["reviewed_by"],
        sources=tuple(found),
        identifiers=dict(m["identifiers"] or {}),
        aliases=tuple(names),
        merges=tuple(history),
    )


__all__ = [
    "Alternative",
    "MergeInfo",
    "PairInfo",
    "SchoolInfo",
    "SourceInfo",
    "aliases_of",
    "merges_into",
    "reason_text",
    "school_info",
    "sources_of",
]
