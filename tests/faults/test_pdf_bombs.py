"""PDF bombs: a content stream shared by hundreds of pages is parsed once; a document
that is slow page after page stops at its deadline; it never keeps other users' small
files waiting for long; more pages than the cap are refused."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import psutil
import pytest

from handlers.settings import PdfSettings
from handlers.submit import submit_pdf
from models.documents import DocumentStore
from pipeline.store import TaskInfo, TaskStatus
from schoolx.app import App
from schoolx.install import install_pdf_handler
from tests.faults.test_cancel import wait_busy
from tests.integration.test_pdf_handler import SAMPLES
from tests.support.bomb_pdf import shared_stream_bomb


# Each page asks the reader to parse about 2 MB of text operators: seconds per page.
def shared() -> bytes:
    return shared_stream_bomb(300, 2_000_000)


def distinct() -> bytes:
    return shared_stream_bomb(40, 2_000_000, distinct=True)


async def run_all(
    app: App, settings: PdfSettings, files: list[tuple[str, bytes, str]]
) -> list[TaskInfo]:
    """The PDF handler with ``settings``, and (name, bytes, user) files submitted."""
    install_pdf_handler(app, settings)
    docs = DocumentStore(app.db)
    subs = [
        await submit_pdf(app.queue, docs, data, name, user_id=user) for name, data, user in files
    ]
    return [s.task for s in subs]


@pytest.fixture
async def worker(app: App) -> AsyncIterator[asyncio.Task[None]]:
    """A worker running in this process beside the test."""
    stop = asyncio.Event()
    task = asyncio.create_task(app.new_worker().run(stop))
    yield task
    stop.set()
    await asyncio.wait_for(task, 60)


async def test_a_stream_shared_by_300_pages_is_parsed_once(app: App, worker: object) -> None:
    [bomb] = await run_all(app, PdfSettings(text_workers=2), [("bomb.pdf", shared(), "mallory")])
    done = await asyncio.wait_for(app.queue.wait(bomb.id), 120)  # 300 parses: ~10 minutes
    assert done.status is TaskStatus.COMPLETED, done.error
    skipped = done.result["skipped_pages"]
    assert len(skipped) == 299 and skipped["300"] == "same content as page 1"


async def test_a_slow_document_stops_at_its_deadline(app: App, worker: object) -> None:
    settings = PdfSettings(text_workers=2, document_timeout_s=8, job_budget_s=1)
    [bomb] = await run_all(app, settings, [("slow.pdf", distinct(), "mallory")])
    done = await asyncio.wait_for(app.queue.wait(bomb.id), 120)  # 40 x ~3.5 s otherwise
    pages = await DocumentStore(app.db).load_pages(int(bomb.payload["document_id"]))
    late = [p.page for p in pages if p.skipped == "not read: the document took longer than 8s"]
    assert len(pages) == 40 and len(late) >= 20, [p.skipped for p in pages]
    # Completed with the pages it read, or failed when (on a slow machine) it read none.
    assert done.status is TaskStatus.COMPLETED or "no page could be read" in str(done.error)


async def test_a_huge_document_does_not_keep_small_ones_waiting(app: App, worker: object) -> None:
    settings = PdfSettings(text_workers=2, job_budget_s=1)
    [bomb] = await run_all(app, settings, [("slow.pdf", distinct(), "mallory")])
    await wait_busy(psutil.Process(os.getpid()))  # its jobs hold both pool processes
    small = (SAMPLES / "table.pdf").read_bytes()
    docs = DocumentStore(app.db)
    sub = await submit_pdf(app.queue, docs, small, "t.pdf", user_id="bob")
    done = await asyncio.wait_for(app.queue.wait(sub.task.id), 600)  # a hang guard
    read = await docs.stored_pages(int(bomb.payload["document_id"]))
    assert done.status is TaskStatus.COMPLETED, done.error
    # Counted in the bomb's pages, not in seconds, so a busy machine changes nothing: behind
    # its whole jobs (pages 1-25 and 26-40) the small file would wait for one of them to end.
    assert len(read) < 15, sorted(read)
    assert (await app.queue.get(bomb.id)).status is TaskStatus.PROCESSING


async def test_more_pages_than_the_cap_are_refused(app: App, worker: object) -> None:
    [bomb] = await run_all(app, PdfSettings(max_pages=100), [("big.pdf", shared(), "mallory")])
    done = await asyncio.wait_for(app.queue.wait(bomb.id), 60)
    assert done.status is TaskStatus.FAILED
    assert done.error == "big.pdf: 300 pages, more than the limit of 100 (SCHOOLX_MAX_PAGES)"
