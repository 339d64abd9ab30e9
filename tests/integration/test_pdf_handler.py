"""The pdf_extraction handler end to end on the real samples, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.records import SchoolRecord
from handlers.stages import STAGES
from models.schools import SAVE_BATCH, SaveItem
from pipeline.store import EventType, TaskStatus
from schoolx.cli.runtime import Runtime, open_runtime

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@contextlib.asynccontextmanager
async def serving(db_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(db_url) as rt:
        stop = asyncio.Event()
        worker = asyncio.create_task(rt.app.new_worker().run(stop))
        try:
            yield rt
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)


async def process(rt: Runtime, name: str, data: bytes | None = None, user: str = "u") -> int:
    payload = data if data is not None else (SAMPLES / name).read_bytes()
    sub = await rt.submit(payload, name, user, "rules")
    await asyncio.wait_for(rt.app.queue.wait(sub.task.id), 120)
    return sub.task.id


async def test_directory_is_extracted_saved_with_evidence(db_url: str) -> None:
    async with serving(db_url) as rt:
        task_id = await process(rt, "directory_blocks.pdf")
        info = await rt.app.queue.get(task_id)
        assert info.status is TaskStatus.COMPLETED, info.error
        assert (
            info.result["saved"] > 10
            and info.result["sources"] == info.result["saved"] + info.result["merged"]
        )
        steps = await rt.app.store.steps(task_id)
        assert {"text", "extract", "normalize", "save"} <= set(steps)
        schools = await rt.schools.export()
        assert len(schools) == info.result["saved"]
        first = schools[0]
        src = first.sources[0]
        assert src.document == "directory_blocks.pdf" and src.page >= 1
        pages = await rt.documents.load_pages(src.document_id)
        page_text = pages[src.page - 1].text
        # the snippet is the span with the fixed-width padding cut (line breaks kept)
        assert page_text[src.span_start : src.span_end].split() == src.snippet.split()
        progress = [
            e.data["progress"]
            for e in await rt.app.store.events_since(0, task_id=task_id)
            if "progress" in e.data and "stage" in e.data and "/" not in e.data["stage"]
        ]
        assert progress == [25, 50, 75, 100]


async def test_the_save_stage_reports_progress_batch_by_batch(db_url: str) -> None:
    """300 schools are saved in two batches (SAVE_BATCH): the bar moves in between, not
    only from 75 at the end of normalize to 100 at the end of save."""
    async with serving(db_url) as rt:
        task_id = await process(rt, "long_directory.pdf")
        info = await rt.app.queue.get(task_id)
        assert info.status is TaskStatus.COMPLETED, info.error
        assert info.result["schools_found"] > SAVE_BATCH
        events = await rt.app.store.events_since(0, task_id=task_id)
        ends = {e.data["stage"]: e.id for e in events if e.data.get("stage") in STAGES}
        saving = [e for e in events if ends["normalize"] < e.id < ends["save"]]
        assert saving, "no progress between the end of normalize and the end of save"
        for e in saving:
            assert e.type is EventType.PROGRESS
            assert STAGES["normalize"] < e.data["progress"] < 100, e.data
            assert e.data["message"].startswith("save "), e.data


async def test_duplicate_bytes_point_to_the_first_result(db_url: str) -> None:
    async with serving(db_url) as rt:
        first = await process(rt, "table.pdf")
        data = (SAMPLES / "table.pdf").read_bytes()
        again = await rt.submit(data, "copy-of-table.pdf", "someone", "rules")
        assert again.duplicate and again.task.id == first
        assert await rt.documents.count() == 1
        assert len(await rt.app.store.list_tasks()) == 1


async def test_save_twice_leaves_identical_rows(db_url: str) -> None:
    async with serving(db_url) as rt:
        task_id = await process(rt, "same_schools_a.pdf")
        info = await rt.app.queue.get(task_id)
        before = [s.to_json() for s in await rt.schools.export()]
        steps = await rt.app.store.steps(task_id)
        records = [SchoolRecord.from_json(r) for r in steps["normalize"]["records"]]
        groups = steps["normalize"]["groups"]
        items = [SaveItem(records[g[0]], tuple(records[i] for i in g[1:])) for g in groups]
        again = await rt.schools.save(
            items, document_id=info.result["document_id"], task_id=task_id, extractor="rules"
        )
        assert again.to_json() == steps["save"]
        assert [s.to_json() for s in await rt.schools.export()] == before


async def test_same_schools_in_two_documents_are_merged(db_url: str) -> None:
    async with serving(db_url) as rt:
        a = await process(rt, "same_schools_a.pdf")
        b = await process(rt, "same_schools_b.pdf")
        ra = (await rt.app.queue.get(a)).result
        rb = (await rt.app.queue.get(b)).result
        assert rb["merged"] >= 0.9 * rb["sources"], rb
        schools = await rt.schools.export()
        assert len(schools) == ra["saved"] + rb["saved"]
        two_sources = [
            s
            for s in schools
            if {x.document for x in s.sources} == {"same_schools_a.pdf", "same_schools_b.pdf"}
        ]
        assert len(two_sources) >= 0.9 * rb["sources"]


BAD_INPUTS = [
    ("empty.pdf", b"", "empty"),
    ("zip.pdf", b"PK\x03\x04" + b"\x00" * 200, "not a PDF"),
    ("half.pdf", None, "truncated"),
    ("encrypted.pdf", None, "encrypted: a password is required"),
    ("scanned.pdf", None, "no text layer"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_INPUTS)
async def test_bad_input_fails_clearly_keeps_bytes_and_worker_goes_on(
    db_url: str, name: str, data: bytes | None, message: str
) -> None:
    if name == "half.pdf":
        full = (SAMPLES / "directory_blocks.pdf").read_bytes()
        data = full[: len(full) // 2]
    elif data is None:
        data = (SAMPLES / name).read_bytes()
    async with serving(db_url) as rt:
        bad = await process(rt, name, data)
        good = await process(rt, "prose.pdf")
        bad_info = await rt.app.queue.get(bad)
        assert bad_info.status is TaskStatus.FAILED
        assert bad_info.error is not None and name in bad_info.error
        assert message in bad_info.error, bad_info.error
        assert bad_info.attempts == 1  # bad input is never retried
        doc = await rt.documents.by_task(bad)
        assert doc is not None and await rt.documents.content(doc.id) == data
        assert (await rt.app.queue.get(good)).status is TaskStatus.COMPLETED


async def test_encrypted_with_empty_password_is_read(db_url: str) -> None:
    async with serving(db_url) as rt:
        task_id = await process(rt, "encrypted_empty_pw.pdf")
        info = await rt.app.queue.get(task_id)
        assert info.status is TaskStatus.COMPLETED, info.error
        assert info.result["saved"] > 0


async def test_page_without_text_is_marked_for_ocr(db_url: str) -> None:
    async with serving(db_url) as rt:
        task_id = await process(rt, "mixed_scanned.pdf")
        info = await rt.app.queue.get(task_id)
        assert info.status is TaskStatus.COMPLETED, info.error
        assert info.result["needs_ocr"], info.result


async def test_task_queued_before_a_crash_is_adopted_not_doubled(db_url: str) -> None:
    from handlers.pdf import TASK_TYPE

    async with open_runtime(db_url) as rt:
        data = (SAMPLES / "prose.pdf").read_bytes()
        doc, _ = await rt.documents.add(data, "prose.pdf", "u")
        # The process died after queueing the task and before attaching it to the document.
        orphan = await rt.app.queue.enqueue(
            TASK_TYPE, {"document_id": doc.id, "filename": "prose.pdf"}, user_id="u"
        )
        again = await rt.submit(data, "prose.pdf", "u", "rules")
        assert again.task.id == orphan.id
        assert (await rt.documents.get(doc.id)).task_id == orphan.id
        assert len(await rt.app.store.list_tasks()) == 1
