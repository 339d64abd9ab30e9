"""A model that now and then answers garbage: fresh retries with backoff, then the document
completes without the pages it could not read; grade spans are grounded end by end; chunk
checkpoints are reused only for the very same chunk."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from domain.records import Chunk
from handlers.llm.cache import MemoryResponseCache
from handlers.llm.client import reset_format_memory
from handlers.llm.config import LlmConfig
from handlers.llm.extractor import LlmExtractor
from handlers.llm.grounding import ground
from handlers.llm.limits import LIMITER
from handlers.llm.schema import SchoolsReply
from handlers.pdf import TASK_TYPE
from pipeline.store import TaskStatus
from schoolx.cli.runtime import open_runtime
from tests.conftest import FAST
from tests.integration.test_pdf_handler import SAMPLES, serving
from tests.llm_server import FakeLlmServer, Fault

PAGE = "Lincoln Elementary School\n12 Oak Street, Springfield\n"


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    reset_format_memory()
    yield
    reset_format_memory()
    LIMITER.configure(max_in_flight=8)


@pytest.fixture
def server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer() as fake:
        yield fake


async def test_a_reply_still_invalid_after_a_reask_is_asked_again_fresh(
    server: FakeLlmServer,
) -> None:
    server.add_faults(Fault("malformed"), Fault("malformed"))  # the ask and its re-ask
    config = LlmConfig(
        api_key="k", base_url=server.url, model="m", backoff_initial_s=0.2, backoff_max_s=0.4
    )
    async with LlmExtractor(config, MemoryResponseCache()) as ex:
        result = await ex.extract(Chunk(index=0, page=1, text=PAGE))
    assert [r.name for r in result.records] == ["Lincoln Elementary School"]
    log = server.log
    assert len(log) == 3
    assert [m["role"] for m in log[2].messages] == [m["role"] for m in log[0].messages]
    assert log[2].at - log[1].at >= 0.1  # after a backoff (0.2 s, jittered down to half)


def three_pages() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=letter, invariant=True)
    for name, street in [
        ("Lincoln Elementary School", "12 Oak Street"),
        ("Garbled Reply Academy", "1 Nowhere Road"),
        ("Riverside Academy", "9 River Road"),
    ]:
        pdf.drawString(72, 700, name)
        pdf.drawString(72, 686, f"{street}, Springfield")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


async def test_a_page_the_model_keeps_garbling_is_named_and_the_rest_is_kept(
    db_url: str, server: FakeLlmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.poison("Garbled Reply Academy")  # every request for page 2 gets garbage
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("SCHOOLX_LLM_BACKOFF_S", "0.01")
    monkeypatch.setenv("SCHOOLX_LLM_BACKOFF_MAX_S", "0.02")
    async with serving(db_url) as rt:
        sub = await rt.submit(three_pages(), "three.pdf", "u", "llm")
        done = await asyncio.wait_for(rt.app.queue.wait(sub.task.id), 60)
        names = sorted(s.name for s in await rt.schools.export())
    assert done.status is TaskStatus.COMPLETED, done.error
    assert done.result["unread_pages"] == [2]
    assert "on page 2" in done.result["warnings"][0]
    assert names == ["Lincoln Elementary School", "Riverside Academy"]
    page2 = [r for r in server.log if "Garbled Reply Academy" in str(r.messages)]
    assert len(page2) == 6  # ask + re-ask, three times


@pytest.mark.parametrize(
    ("text", "grades"),
    [
        ("Lincoln High School\n12 Oak Street\nServes grade 9 through grade 12\n", "9-12"),
        ("Name                 Low  High\nLincoln High School  9    12\n", "9-12"),
        ("Lincoln High School\n12 Oak Street\nGrades K to 5\n", "K-5"),
    ],
)
def test_each_end_of_a_grade_span_is_grounded_on_its_own(text: str, grades: str) -> None:
    reply = SchoolsReply.model_validate(
        {"schools": [{"name": "Lincoln High School", "grades": grades}]}
    )
    records, dropped = ground(Chunk(index=0, page=1, text=text), reply)
    assert dropped == 0 and records[0].grades == grades


async def test_a_resumed_task_never_mixes_in_checkpoints_of_another_chunking(
    db_url: str,
) -> None:
    data = (SAMPLES / "directory_blocks.pdf").read_bytes()
    async with open_runtime(db_url) as rt:
        sub = await rt.submit(data, "d.pdf", "u", "rules")
        # A checkpoint left by an older version (chunks keyed by position only) or by a
        # worker with another chunk size: same position, other text, other schools.
        claimed = await rt.app.store.claim("old", 1, rt.app.queue_limits(), FAST.lease_s)
        assert [t.id for t in claimed.tasks] == [sub.task.id]
        stale = {
            "records": [
                {
                    "name": "Stale Chunking School",
                    "evidence": {"page": 1, "start": 0, "end": 5, "snippet": "Stale"},
                }
            ],
            "dropped": 0,
            "usage": {},
        }
        assert await rt.app.store.save_step(sub.task.id, "old", "extract/chunk/00000", stale, 30)
        assert await rt.app.store.release(sub.task.id, "old")
    async with serving(db_url) as rt:
        done = await asyncio.wait_for(rt.app.queue.wait(sub.task.id), 60)
        names = {s.name for s in await rt.schools.export()}
    assert done.status is TaskStatus.COMPLETED and done.type == TASK_TYPE
    assert names and "Stale Chunking School" not in names
