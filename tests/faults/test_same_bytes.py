"""Several submitters of the same bytes at once: one task runs, and it is never one that
a losing submitter cancelled; the stored bytes belong to whoever's task runs."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from handlers.submit import submit_pdf
from models.db import Database
from models.documents import DocumentStore
from pipeline.errors import TaskLimitError
from pipeline.store import TaskStatus
from schoolx.app import App
from schoolx.cli.runtime import open_runtime
from schoolx.web.views import own_document
from tests.acceptance.cli import SAMPLES, as_json, cli_env, schoolx, spawn
from tests.support.procs import stop_all

PDF = (SAMPLES / "table.pdf").read_bytes()


class AttachWaits(DocumentStore):
    """The real store, whose ``attach_task`` waits until the test lets it go on: the
    moment between queueing a task and attaching it, held open on purpose."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def attach_task(
        self, document_id: int, task_id: int, *, user_id: str, filename: str
    ) -> bool:
        self.reached.set()
        await self.go.wait()
        return await super().attach_task(document_id, task_id, user_id=user_id, filename=filename)


async def test_a_submitter_that_loses_the_attach_never_cancels_the_attached_task(
    app: App,
) -> None:
    slow = AttachWaits(app.db)
    first = asyncio.create_task(submit_pdf(app.queue, slow, PDF, "a.pdf", user_id="u"))
    await slow.reached.wait()  # the first submitter queued its task, not yet attached
    # A second submitter adopts that task and attaches it; then the first one goes on.
    second = await submit_pdf(app.queue, DocumentStore(app.db), PDF, "b.pdf", user_id="u")
    slow.go.set()
    first_sub = await first
    assert first_sub.task.id == second.task.id == second.document.task_id
    task = await app.queue.get(second.task.id)
    assert task.status is TaskStatus.PENDING, task.error  # still to run, not cancelled
    assert len(await app.store.list_tasks()) == 1


async def test_bytes_refused_at_the_limit_belong_to_the_user_whose_task_runs(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHOOLX_MAX_ACTIVE_PER_USER", "1")
    async with open_runtime(db_url) as rt:
        await rt.submit((SAMPLES / "prose.pdf").read_bytes(), "first.pdf", "xavier", "rules")
        with pytest.raises(TaskLimitError):
            await rt.submit(PDF, "refused.pdf", "xavier", "rules")  # stored, not queued
        sub = await rt.submit(PDF, "mine.pdf", "yolanda", "rules")
        assert sub.task.user_id == "yolanda" and not sub.duplicate
        doc = await own_document(rt.documents, sub.document.id, "yolanda")  # no 404
        assert doc.filename == "mine.pdf"


def test_two_watchers_of_one_inbox_process_every_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "alice").mkdir(parents=True)
    names = ["directory_blocks.pdf", "table.pdf", "prose.pdf", "australia.pdf"]
    for name in names:
        shutil.copy(SAMPLES / name, inbox / "alice" / name)
    env = cli_env(tmp_path / "home", SCHOOLX_INBOX_SETTLE_S="0.1")
    runs = [
        spawn(env, tmp_path / f"run{i}.log", "run", "--inbox", str(inbox), "--once")
        for i in range(2)
    ]
    try:
        codes = [run.wait(timeout=180) for run in runs]
    finally:
        stop_all(runs)
    logs = "".join((tmp_path / f"run{i}.log").read_text() for i in range(2))
    assert codes == [0, 0], logs
    assert not any((inbox / "alice").iterdir())
    tasks = as_json(schoolx(env, "tasks", "--json"))
    attached = {t["payload"]["filename"]: t for t in tasks if t["status"] != "cancelled"}
    assert sorted(attached) == sorted(names), tasks
    assert {t["status"] for t in attached.values()} == {"completed"}
