"""``schoolx db prune --older-than DAYS``: old finished tasks go with their steps and
events; documents, schools and everything recent or unfinished stay."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from models.base import utcnow
from models.prune import prune_finished
from models.tables import Task
from pipeline.store import TaskStatus
from schoolx.app import App
from tests.acceptance.cli import SAMPLES, as_json, cli_env, schoolx
from tests.integration.test_pdf_handler import process, serving


async def age(app: App, task_ids: list[int], days: int) -> None:
    """Let ``days`` pass for these tasks' ends: time moves by editing rows."""
    async with app.db.write.begin() as conn:
        await conn.execute(
            update(Task)
            .where(Task.id.in_(task_ids))
            .values(completed_at=utcnow() - timedelta(days=days))
        )


async def test_prune_forgets_old_finished_tasks_only(db_url: str) -> None:
    async with serving(db_url) as rt:
        old = await process(rt, "table.pdf")
        recent = await process(rt, "prose.pdf")
        schools_before = len(await rt.schools.export())
        await age(rt.app, [old], 40)
        pending = await rt.app.queue.enqueue("no_such_type_yet", {}, user_id="u")
        await rt.app.queue.cancel(pending.id)  # cancelled now: recent, so it stays
        pruned = await prune_finished(rt.app.db, utcnow() - timedelta(days=30))
        assert (pruned.tasks, pruned.steps > 0, pruned.events > 0) == (1, True, True)
        assert {t.id for t in await rt.app.store.list_tasks()} == {recent, pending.id}
        assert await rt.app.store.steps(old) == {}
        assert await rt.app.store.events_since(0, task_id=old) == []
        assert len(await rt.schools.export()) == schools_before
        # The document stays; its bytes submitted again are queued afresh, not a 404.
        again = await rt.submit((SAMPLES / "table.pdf").read_bytes(), "t.pdf", "u", "rules")
        assert not again.duplicate and again.task.id not in (old, recent)
        done = await asyncio.wait_for(rt.app.queue.wait(again.task.id), 60)
        assert done.status is TaskStatus.COMPLETED
        assert len(await rt.schools.export()) == schools_before  # nothing duplicated


def test_prune_command(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    assert schoolx(env, "submit", str(SAMPLES / "table.pdf")).returncode == 0
    assert schoolx(env, "worker", "--once").returncode == 0
    result = schoolx(env, "db", "prune", "--older-than", "0")
    assert result.returncode == 0, result.stderr
    assert "pruned 1 tasks" in result.stdout
    assert as_json(schoolx(env, "tasks", "--json")) == []
    assert len(as_json(schoolx(env, "schools", "--json"))) > 0
