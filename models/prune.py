"""``schoolx db prune``: forget finished tasks, their steps and events; documents and
schools stay.

A pruned task's document no longer points to it, so the same bytes submitted again are
processed again (their schools are not duplicated: evidence rows are unique per document,
page and span). Runs in batches, each one transaction, so a big prune never holds the write
lock for long and a crash leaves every batch either done or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, delete, select, update

from models.db import Database, run_sync_transaction
from models.retrying import retry_locked
from models.tables import Document, Task, TaskEvent, TaskStep
from pipeline.store import TaskStatus

tasks = cast(Table, Task.__table__)
steps = cast(Table, TaskStep.__table__)
events = cast(Table, TaskEvent.__table__)
documents = cast(Table, Document.__table__)

BATCH = 500
FINISHED = [s.value for s in TaskStatus if s.terminal]


@dataclass
class Pruned:
    tasks: int = 0
    steps: int = 0
    events: int = 0


async def prune_finished(db: Database, before: datetime) -> Pruned:
    """Delete tasks that ended before ``before`` (UTC), with their steps and events."""
    total = Pruned()
    while True:
        batch = await retry_locked(lambda: run_sync_transaction(db, _batch(before)))
        if batch.tasks == 0:
            return total
        total.tasks += batch.tasks
        total.steps += batch.steps
        total.events += batch.events


def _batch(before: datetime) -> Callable[[Connection], Pruned]:
    def prune(conn: Connection) -> Pruned:
        ids = list(
            conn.execute(
                select(tasks.c.id)
                .where(tasks.c.status.in_(FINISHED), tasks.c.completed_at < before)
                .order_by(tasks.c.id)
                .limit(BATCH)
            ).scalars()
        )
        if not ids:
            return Pruned()
        conn.execute(update(documents).where(documents.c.task_id.in_(ids)).values(task_id=None))
        gone_steps = conn.execute(delete(steps).where(steps.c.task_id.in_(ids))).rowcount
        gone_events = conn.execute(delete(events).where(events.c.task_id.in_(ids))).rowcount
        conn.execute(delete(tasks).where(tasks.c.id.in_(ids)))
        return Pruned(len(ids), gone_steps, gone_events)

    return prune
