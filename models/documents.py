"""Documents (content-addressed PDF bytes) and their page text."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.records import PageText
from models.base import utcnow
from models.db import Database, upsert
from models.paging import Page, check_window
from models.retrying import retry_locked
from models.tables import Document, SchoolSource
from models.tables import Page as PageRow
from pipeline.errors import NotFoundError

documents = cast(Table, Document.__table__)
pages_t = cast(Table, PageRow.__table__)
sources = cast(Table, SchoolSource.__table__)


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    sha256: str
    filename: str
    user_id: str
    size: int
    page_count: int | None
    task_id: int | None


@dataclass(frozen=True)
class DocumentRow:
    """A document as a list shows it."""

    info: DocumentInfo
    schools: int
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        d = self.info
        return {
            "id": d.id,
            "filename": d.filename,
            "sha256": d.sha256,
            "size": d.size,
            "page_count": d.page_count,
            "task_id": d.task_id,
            "schools": self.schools,
            "created_at": self.created_at.replace(tzinfo=UTC).isoformat(),
        }


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = upsert(db.dialect)

    async def _tx(self, fn: Any) -> Any:
        async def run() -> Any:
            async with self.db.write.begin() as conn:
                return await fn(conn)

        return await retry_locked(run)

    async def add(self, data: bytes, filename: str, user_id: str) -> tuple[DocumentInfo, bool]:
        """Store the bytes once; returns (document, created). Same bytes -> same document."""
        digest = sha256_of(data)

        async def fn(conn: AsyncConnection) -> tuple[DocumentInfo, bool]:
            inserted = await conn.execute(
                self._insert(documents)
                .values(
                    sha256=digest,
                    filename=filename,
                    user_id=user_id,
                    size=len(data),
                    content=data,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["sha256"])
            )
            row = (await conn.execute(_info_query().where(documents.c.sha256 == digest))).one()
            return _info(row), bool(inserted.rowcount)

        result: tuple[DocumentInfo, bool] = await self._tx(fn)
        return result

    async def attach_task(
        self, document_id: int, task_id: int, *, user_id: str, filename: str
    ) -> bool:
        """Record the task that processes the document, unless another got there first.

        The document then belongs to that task's user, under that task's file name: the
        one who stored the bytes first may have been refused a task (at their limit).
        """

        async def fn(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                update(documents)
                .where(documents.c.id == document_id, documents.c.task_id.is_(None))
                .values(task_id=task_id, user_id=user_id, filename=filename)
            )
            return bool(result.rowcount)

        ok: bool = await self._tx(fn)
        return ok

    async def get(self, document_id: int) -> DocumentInfo:
        async with self.db.read.connect() as conn:
            row = (await conn.execute(_info_query().where(documents.c.id == document_id))).first()
        if row is None:
            raise NotFoundError(f"no document {document_id}")
        return _info(row)

    async def by_task(self, task_id: int) -> DocumentInfo | None:
        async with self.db.read.connect() as conn:
            row = (await conn.execute(_info_query().where(documents.c.task_id == task_id))).first()
        return None if row is None else _info(row)

    async def content(self, document_id: int) -> bytes:
        async with self.db.read.connect() as conn:
            data = (
                await conn.execute(select(documents.c.content).where(documents.c.id == document_id))
            ).scalar_one_or_none()
        if data is None:
            raise NotFoundError(f"no document {document_id}")
        return bytes(data)

    async def stored_pages(self, document_id: int) -> set[int]:
        async with self.db.read.connect() as conn:
            rows = await conn.execute(
                select(pages_t.c.page_no).where(pages_t.c.document_id == document_id)
            )
            return {r.page_no for r in rows}

    async def save_pages(self, document_id: int, pages: Sequence[PageText]) -> None:
        """Store pages once each; a page already stored (a resumed task) is left alone."""
        if not pages:
            return
        rows = [
            {
                "document_id": document_id,
                "page_no": p.page,
                "text": p.text,
                "needs_ocr": p.needs_ocr,
                "skipped": p.skipped,
            }
            for p in pages
        ]

        async def fn(conn: AsyncConnection) -> None:
            await conn.execute(
                self._insert(pages_t).on_conflict_do_nothing(
                    index_elements=["document_id", "page_no"]
                ),
                rows,
            )

        await self._tx(fn)

    async def load_pages(self, document_id: int) -> list[PageText]:
        async with self.db.read.connect() as conn:
            rows = await conn.execute(
                select(pages_t)
                .where(pages_t.c.document_id == document_id)
                .order_by(pages_t.c.page_no)
            )
            return [PageText(r.page_no, r.text, r.needs_ocr, r.skipped) for r in rows]

    async def set_page_count(self, document_id: int, count: int) -> None:
        async def fn(conn: AsyncConnection) -> None:
            await conn.execute(
                update(documents).where(documents.c.id == document_id).values(page_count=count)
            )

        await self._tx(fn)

    async def page(
        self, user_id: str | None, *, limit: int = 100, offset: int = 0
    ) -> Page[DocumentRow]:
        """``user_id``'s documents (everyone's: None), newest first, each with how many
        schools hold its sources (``GET /schools?document=ID`` lists them)."""
        check_window(limit, offset)
        held = (
            select(func.count(distinct(sources.c.school_id)))
            .where(sources.c.document_id == documents.c.id)
            .scalar_subquery()
        )
        mine = [] if user_id is None else [documents.c.user_id == user_id]
        query = (
            _info_query()
            .add_columns(documents.c.created_at, held.label("schools"))
            .where(*mine)
            .order_by(documents.c.id.desc())
        )
        total = select(func.count()).select_from(documents).where(*mine)
        async with self.db.read.connect() as conn:
            count = int((await conn.execute(total)).scalar_one())
            rows = list(await conn.execute(query.limit(limit).offset(offset)))
        found = [DocumentRow(_info(r), int(r.schools), r.created_at) for r in rows]
        return Page(found, count, limit, offset)

    async def named(self, filename: str) -> list[int]:
        """Ids of the documents stored under ``filename``, oldest first."""
        query = select(documents.c.id).where(documents.c.filename == filename)
        async with self.db.read.connect() as conn:
            return list((await conn.execute(query.order_by(documents.c.id))).scalars())

    async def count(self) -> int:
        async with self.db.read.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(documents))).scalar_one()
            )


def _info_query() -> Any:
    c = documents.c
    return select(c.id, c.sha256, c.filename, c.user_id, c.size, c.page_count, c.task_id)


def _info(row: Any) -> DocumentInfo:
    return DocumentInfo(
        row.id, row.sha256, row.filename, row.user_id, row.size, row.page_count, row.task_id
    )
