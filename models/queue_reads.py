"""The queue store's reads: the same SQL on every dialect, on the read pool, never batched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select

from models.db import Database
from models.queue_sql import events_t, steps_t, task_info, tasks
from models.retrying import retry_locked
from pipeline.errors import NotFoundError
from pipeline.store import EventInfo, EventType, TaskInfo, TaskStatus


class QueueReads:
    db: Database

    async def _read(self, op: Callable[[Connection], Any]) -> Any:
        async def run() -> Any:
            async with self.db.read.connect() as conn:
                return await conn.run_sync(op)

        return await retry_locked(run)

    async def get_task(self, task_id: int) -> TaskInfo:
        def op(conn: Connection) -> Row[Any] | None:
            return (conn.execute(select(tasks).where(tasks.c.id == task_id))).one_or_none()

        row = await self._read(op)
        if row is None:
            raise NotFoundError(f"no task {task_id}")
        return task_info(row)

    async def list_tasks(
        self, *, status: TaskStatus | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[TaskInfo]:
        query = select(tasks).order_by(tasks.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(tasks.c.status == status.value)
        if user_id is not None:
            query = query.where(tasks.c.user_id == user_id)

        def op(conn: Connection) -> list[Row[Any]]:
            return list(conn.execute(query))

        return [task_info(r) for r in await self._read(op)]

    async def find_by_payload(self, type: str, key: str, value: int) -> list[TaskInfo]:
        query = (
            select(tasks)
            .where(tasks.c.type == type, tasks.c.payload[key].as_integer() == value)
            .order_by(tasks.c.id)
        )

        def op(conn: Connection) -> list[Row[Any]]:
            return list(conn.execute(query))

        return [task_info(r) for r in await self._read(op)]

    async def steps(self, task_id: int, prefix: str = "") -> dict[str, Any]:
        query = select(steps_t.c.name, steps_t.c.output).where(steps_t.c.task_id == task_id)
        if prefix:
            query = query.where(steps_t.c.name.startswith(prefix, autoescape=True))

        def op(conn: Connection) -> dict[str, Any]:
            return {r.name: r.output for r in conn.execute(query)}

        result: dict[str, Any] = await self._read(op)
        return result

    async def events_since(
        self,
        after_id: int,
        *,
        user_id: str | None = None,
        task_id: int | None = None,
        limit: int = 1000,
    ) -> list[EventInfo]:
        query = _EVENTS_SINCE[(user_id is not None, task_id is not None)]
        params = {"after": after_id, "user_id": user_id, "task_id": task_id, "limit": limit}

        def op(conn: Connection) -> list[Row[Any]]:
            return list(conn.execute(query, params))

        return [
            EventInfo(r.id, r.task_id, r.user_id, EventType(r.type), r.data or {}, r.created_at)
            for r in await self._read(op)
        ]

    async def latest_event_id(self) -> int:
        def op(conn: Connection) -> int:
            return int(conn.execute(select(func.coalesce(func.max(events_t.c.id), 0))).scalar_one())

        result: int = await self._read(op)
        return result

    async def counts(self) -> dict[str, int]:
        query = select(tasks.c.status, func.count()).group_by(tasks.c.status)

        def op(conn: Connection) -> dict[str, int]:
            return {r[0]: int(r[1]) for r in conn.execute(query)}

        result: dict[str, int] = await self._read(op)
        return result


def _events_query(by_user: bool, by_task: bool) -> Any:
    query = select(events_t).where(events_t.c.id > bindparam("after"))
    if by_user:
        query = query.where(events_t.c.user_id == bindparam("user_id"))
    if by_task:
        query = query.where(events_t.c.task_id == bindparam("task_id"))
    return query.order_by(events_t.c.id).limit(bindparam("limit"))


# Subscribers read after every commit; prebuilt queries keep that cheap.
_EVENTS_SINCE = {(u, t): _events_query(u, t) for u in (False, True) for t in (False, True)}
