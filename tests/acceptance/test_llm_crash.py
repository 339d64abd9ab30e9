"""SIGKILL a worker in the middle of LLM extraction: no reply already stored is paid twice.

The fake OpenAI-compatible server runs in this process (a thread, fixed latency per
request); the worker is a real ``schoolx worker`` subprocess pointed at it through
OPENAI_BASE_URL. The server's request log says which chunk each request was for.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.llm.chunking import chunk_pages
from handlers.llm.config import LlmConfig
from schoolx.cli.runtime import open_runtime
from tests.acceptance.test_pdf_crash import (
    CHUNK_PREFIX,
    SAMPLE,
    chunk_indexes,
    poll,
    wait_done,
    worker_env,
    workers,
)
from tests.llm_server import FakeLlmServer, LoggedRequest

IN_FLIGHT = 2  # SCHOOLX_LLM_MAX_IN_FLIGHT: few requests outstanding at the kill
_TEXT = re.compile(r"<text>\n(.*)\n</text>\Z", re.DOTALL)


@pytest.fixture
def server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer(latency_s=0.15) as fake:
        yield fake


def chunk_text(request: LoggedRequest) -> str:
    user = [m for m in request.messages if m.get("role") == "user"]
    assert len(user) == 1, request.body  # one request per chunk: no re-ask, no probe
    found = _TEXT.search(str(user[0]["content"]))
    assert found, user[0]["content"]
    return found.group(1)


@pytest.mark.slow
async def test_sigkill_mid_extraction_resends_only_requests_in_flight(
    tmp_path: Path, server: FakeLlmServer
) -> None:
    url = f"sqlite:///{tmp_path / 'llm.db'}"
    env = worker_env(
        tmp_path / "counter.txt",
        OPENAI_BASE_URL=server.url,
        OPENAI_API_KEY="test",
        SCHOOLX_LLM_MODEL="fake-model",
        SCHOOLX_LLM_MAX_IN_FLIGHT=str(IN_FLIGHT),
        SCHOOLX_CHUNK_CONCURRENCY=str(IN_FLIGHT),
    )
    data = SAMPLE.read_bytes()
    async with open_runtime(url) as rt:
        sub = await rt.submit(data, SAMPLE.name, "llm-user", "llm")
        task_id, doc_id = sub.task.id, sub.document.id

        # Ten requests are answered; the next ones wait at the server until the kill is
        # over: the kill finds requests in flight however slow the machine is.
        server.hold(after=10)

        async def mid_request() -> bool:
            """Ten chunks stored and every slot's request waiting at the server."""
            if len(await rt.app.store.steps(task_id, prefix=CHUNK_PREFIX)) < 10:
                return False
            return sum(entry.status == 0 for entry in server.log) == IN_FLIGHT

        with workers(url, tmp_path / "worker.log") as group:
            first = group.start(env)
            await poll(mid_request, "10 chunk checkpoints and requests in flight")
            group.sigkill(first)
            # Requests the dead worker sent, and which of them the server had not yet
            # answered when it died (their replies can have reached no one).
            before = [(chunk_text(e), e.status == 0) for e in server.log]
            at_kill = await rt.app.store.steps(task_id)

            server.release()
            group.start(env)
            done = await wait_done(rt, task_id, group)
            resumed = [chunk_text(e) for e in server.log[len(before) :]]

            # The same pages in other bytes (a PDF comment after %%EOF): a new document
            # and task, whose chunks are all answered from the response cache.
            copy = await rt.submit(data + b"\n%comment\n", "copy.pdf", "llm-user", "llm")
            assert not copy.duplicate and copy.document.id != doc_id
            again = await wait_done(rt, copy.task.id, group)
            requests_after_copy = len(server.log)
        pages = await rt.documents.load_pages(doc_id)

    config = LlmConfig.from_env(env)
    chunks = chunk_pages(
        pages, max_chars=config.max_chunk_chars, context_chars=config.context_chars
    )
    index_of = {c.text: c.index for c in chunks}
    assert len(index_of) == len(chunks) == 60  # every chunk is told apart by its text

    stored = chunk_indexes(at_kill)
    assert "extract" not in at_kill and 10 <= len(stored) < len(chunks)
    sent_before = Counter(index_of[text] for text, _ in before)
    unanswered = {index_of[text] for text, pending in before if pending}
    sent_after = Counter(index_of[text] for text in resumed)
    total = sent_before + sent_after

    assert 1 <= len(unanswered) <= IN_FLIGHT  # the kill hit requests in flight, and few
    assert set(total) == set(range(len(chunks)))  # every chunk was asked about
    assert not set(sent_after) & stored  # nothing checkpointed before the kill was resent
    assert max(sent_before.values()) == 1 and max(sent_after.values()) == 1
    twice = {i for i, n in total.items() if n > 1}
    in_flight = set(sent_before) - stored  # sent, reply not checkpointed at the kill
    assert unanswered <= twice <= in_flight, (unanswered, twice, in_flight)
    usage = done.result["usage"]
    assert usage["requests"] + usage["cached"] == len(chunks)

    # Re-processing the same text sent no request at all.
    assert requests_after_copy == len(before) + len(resumed)
    assert again.result["usage"]["requests"] == 0
    assert again.result["usage"]["cached"] == len(chunks)
    assert again.result["schools_found"] == done.result["schools_found"] > 100
    assert again.result["saved"] == 0 and again.result["merged"] == done.result["saved"]
