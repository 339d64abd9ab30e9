"""Tasks one page at a time with how many there are in all (``QueueStore.list_tasks`` is
the engine's unpaged view)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import ColumnElement, Table, func, select

from models.db import Database
from models.paging import Page, check_window
from models.queue_sql import task_info
from models.tables import Task
from pipeline.store import TaskInfo, TaskStatus

tasks = cast(Table, Task.__table__)


async def task_page(
    db: Database,
    *,
    status: TaskStatus | None = None,
    user_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[TaskInfo]:
    """Newest first."""
    check_window(limit, offset)
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(tasks.c.status == status.value)
    if user_id is not None:
        where.append(tasks.c.user_id == user_id)
    query = select(tasks).where(*where).order_by(tasks.c.id.desc()).limit(limit).offset(offset)
    async with db.read.connect() as conn:
        total = int(
            (await conn.execute(select(func.count()).select_from(tasks).where(*where))).scalar_one()
        )
        found = [task_info(r) for r in await conn.execute(query)]
    return Page(found, total, limit, offset)


__all__ = ["task_page"]
