"""The llm extractor against a real HTTP server on loopback, with injected faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from domain.records import Chunk, PageText
from handlers.extractor import Extractor
from handlers.llm.cache import MemoryResponseCache, ResponseCache, SqlResponseCache
from handlers.llm.chunking import chunk_pages
from handlers.llm.client import reset_format_memory, retry_after_seconds
from handlers.llm.config import LlmConfig, llm_configured, parse_prices
from handlers.llm.cost import estimate_cost
from handlers.llm.extractor import InvalidReplyError, LlmExtractor
from handlers.llm.grounding import ground
from handlers.llm.limits import LIMITER
from handlers.llm.parse import ReplyInvalid, parse_reply
from handlers.llm.schema import SchoolsReply
from models.base import Base
from pipeline.errors import ConfigError, PermanentError, TransientError
from tests.llm_server import INVENTED_SCHOOL, MALFORMED, FakeLlmServer, Fault

PAGE = (
    "Springfield County Public Schools\n"
    "Lincoln Elementary School\n"
    "12 Oak Street, Springfield\n"
    "\n"
    "Washington High School\n"
    "400 Main Ave, Springfield\n"
    "\n"
    "Riverside Academy\n"
    "9 River Rd, Shelbyville\n"
)
NAMES = ["Lincoln Elementary School", "Washington High School", "Riverside Academy"]


def chunk(text: str = PAGE, index: int = 0) -> Chunk:
    return Chunk(index=index, page=1, text=text)


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    # The format memory and the limiter are process-wide on purpose; tests start clean.
    reset_format_memory()
    yield
    reset_format_memory()
    LIMITER.configure(max_in_flight=8)


@pytest.fixture
def server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer() as fake:
        yield fake


def config(server: FakeLlmServer, **overrides: Any) -> LlmConfig:
    settings: dict[str, Any] = {
        "api_key": "test-key",
        "base_url": server.url,
        "model": "fake-model",
        "timeout_s": 2.0,
        "max_retries": 3,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        "backoff_jitter_s": 0.02,
    }
    settings.update(overrides)
    return LlmConfig(**settings)


@asynccontextmanager
async def extractor(
    server: FakeLlmServer, cache: ResponseCache | None = None, **overrides: Any
) -> AsyncIterator[LlmExtractor]:
    async with LlmExtractor(config(server, **overrides), cache or MemoryResponseCache()) as ex:
        yield ex


# --- happy path ------------------------------------------------------------------------


async def test_extracts_grounded_records(server: FakeLlmServer) -> None:
    async with extractor(server) as ex:
        result = await ex.extract(Chunk(index=0, page=3, text=PAGE[10:], offset=10))
    assert [r.name for r in result.records] == NAMES
    first = result.records[0]
    assert first.address == "12 Oak Street, Springfield"
    # Evidence offsets index the page text, not the chunk.
    assert PAGE[first.evidence.start : first.evidence.end] == first.evidence.snippet
    assert first.evidence.snippet == "Lincoln Elementary School\n12 Oak Street, Springfield"
    assert first.evidence.page == 3
    assert result.dropped == 0
    assert result.usage["requests"] == 1 and result.usage["prompt_tokens"] > 0
    assert server.log[0].format_type == "json_schema"


# --- transient faults --------------------------------------------------------------------


async def test_429_honors_retry_after_seconds(server: FakeLlmServer) -> None:
    server.add_faults(Fault("rate_limit", retry_after="1"))
    async with extractor(server) as ex:
        started = time.monotonic()
        result = await ex.extract(chunk())
        elapsed = time.monotonic() - started
    assert len(result.records) == 3
    assert [e.status for e in server.log] == [429, 200]
    assert elapsed >= 1.0
    assert server.log[1].at - server.log[0].at >= 1.0


async def test_429_honors_retry_after_http_date(server: FakeLlmServer) -> None:
    # The server dates its answer 2 s ahead when it makes it. An HTTP date has whole
    # seconds, so that date is more than 1 s after the 429 left, however slow this machine
    # is: the retry arrives at least 1 s after the first request (the client's own backoff
    # is far shorter).
    server.add_faults(Fault("rate_limit", retry_after_date_s=2))
    async with extractor(server) as ex:
        result = await ex.extract(chunk())
    assert len(result.records) == 3
    assert [e.status for e in server.log] == [429, 200]
    assert server.log[0].headers["Retry-After"].endswith(" GMT")
    assert server.log[1].at - server.log[0].at >= 1.0


def test_retry_after_http_date_is_read_against_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(time, "time", now.timestamp)  # the client reads time.time()

    def after(value: str) -> float | None:
        request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
        response = httpx2.Response(429, headers={"Retry-After": value}, request=request)
        return retry_after_seconds(openai.RateLimitError("429", response=response, body=None))

    assert after(format_datetime(now + timedelta(seconds=7), usegmt=True)) == 7.0
    assert after(format_datetime(now - timedelta(seconds=7), usegmt=True)) == 0.0
    assert after("Sun, 01 Mar 2026 12:00:30 -0000") == 30.0  # naive: read as UTC
    assert after("3") == 3.0
    assert after("soon") is None


async def test_5xx_retried_then_success(server: FakeLlmServer) -> None:
    server.add_faults(Fault("server_error"), Fault("rate_limit"))
    async with extractor(server) as ex:
        result = await ex.extract(chunk())
    assert [e.status for e in server.log] == [500, 429, 200]
    assert result.usage["requests"] == 3
    assert len(result.records) == 3


async def test_5xx_exhausted_is_transient(server: FakeLlmServer) -> None:
    server.add_faults(*[Fault("server_error")] * 3)
    async with extractor(server, max_retries=2) as ex:
        with pytest.raises(TransientError, match=r"HTTP 500\) after 3 attempts"):
            await ex.extract(chunk())
    assert len(server.log) == 3


# A delayed answer comes after 300 s (or when the server closes): only the client's own
# timeout can end the wait. The timeout is long enough for a normal answer on a busy machine.
STALL = Fault("delay", delay_s=300)


async def test_timeout_retried_then_success(server: FakeLlmServer) -> None:
    server.add_faults(STALL)
    async with extractor(server, timeout_s=1.0) as ex:
        result = await ex.extract(chunk())
    assert [(e.fault, e.status) for e in server.log] == [("delay", 0), (None, 200)]
    assert len(result.records) == 3


async def test_timeout_exhausted_is_transient(server: FakeLlmServer) -> None:
    server.add_faults(STALL, STALL)
    async with extractor(server, timeout_s=1.0, max_retries=1) as ex:
        with pytest.raises(TransientError, match="timed out"):
            await ex.extract(chunk())
    # Neither request was answered: the client gave up on its own.
    assert [(e.fault, e.status) for e in server.log] == [("delay", 0), ("delay", 0)]


# --- invalid replies ---------------------------------------------------------------------


async def test_malformed_reply_reasked_once(server: FakeLlmServer) -> None:
    server.add_faults(Fault("malformed"))
    async with extractor(server) as ex:
        result = await ex.extract(chunk())
    assert len(result.records) == 3
    assert len(server.log) == 2
    reask = server.log[1].messages
    assert reask[-2] == {"role": "assistant", "content": MALFORMED}
    assert "could not be used: the reply contained no JSON object" in reask[-1]["content"]


async def test_malformed_twice_is_permanent_and_keeps_raw_reply(server: FakeLlmServer) -> None:
    server.add_faults(Fault("malformed"), Fault("malformed"))
    async with extractor(server, invalid_retries=0) as ex:
        with pytest.raises(InvalidReplyError, match="not valid JSON for the schema") as info:
            await ex.extract(Chunk(index=4, page=2, text=PAGE))
    assert isinstance(info.value, PermanentError)
    assert str(info.value).startswith("chunk 4 on page 2: ")
    assert info.value.raw_reply == MALFORMED
    assert info.value.usage["requests"] == 2
    assert len(server.log) == 2


async def test_truncated_reply_is_reasked_without_echo(server: FakeLlmServer) -> None:
    server.add_faults(Fault("truncated"))
    async with extractor(server) as ex:
        result = await ex.extract(chunk())
    assert len(result.records) == 3
    reask = server.log[1].messages
    assert [m["role"] for m in reask] == ["system", "user", "user"]
    assert "truncated" in reask[-1]["content"]


async def test_ungrounded_name_is_dropped_and_counted(server: FakeLlmServer) -> None:
    server.add_faults(Fault("ungrounded"))
    async with extractor(server) as ex:
        result = await ex.extract(chunk())
    assert [r.name for r in result.records] == NAMES
    assert INVENTED_SCHOOL not in {r.name for r in result.records}
    assert result.dropped == 1


async def test_prose_around_json_is_accepted(server: FakeLlmServer) -> None:
    server.add_faults(Fault("prose"))
    async with extractor(server) as ex:
        result = await ex.extract(chunk())
    assert len(result.records) == 3
    assert len(server.log) == 1


# --- structured output fallback ----------------------------------------------------------


async def test_json_schema_rejection_falls_back_and_is_remembered() -> None:
    with FakeLlmServer(reject_json_schema=True) as server:
        async with extractor(server) as ex:
            await ex.extract(chunk())
            await ex.extract(chunk(PAGE + "\nOak Academy\n1 Elm St\n", index=1))
        async with extractor(server) as second:  # a new extractor, same server and model
            await second.extract(chunk(PAGE.upper(), index=2))
    assert [(e.status, e.format_type) for e in server.log] == [
        (400, "json_schema"),
        (200, "json_object"),
        (200, "json_object"),
        (200, "json_object"),
    ]


async def test_temperature_rejection_is_learned() -> None:
    with FakeLlmServer(reject_temperature=True) as server:
        async with extractor(server) as ex:
            await ex.extract(chunk())
            await ex.extract(chunk(PAGE.upper(), index=1))
    assert [(e.status, e.body.get("temperature")) for e in server.log] == [
        (400, 0),
        (200, None),
        (200, None),
    ]


# --- permanent refusals ------------------------------------------------------------------


async def test_401_is_permanent_without_retries(server: FakeLlmServer) -> None:
    server.add_faults(Fault("unauthorized"))
    async with extractor(server) as ex:
        with pytest.raises(PermanentError, match=r"the API key was refused \(401\)"):
            await ex.extract(chunk())
    assert len(server.log) == 1


async def test_404_names_the_model(server: FakeLlmServer) -> None:
    server.add_faults(Fault("not_found"))
    async with extractor(server, model="no-such-model") as ex:
        with pytest.raises(PermanentError, match=r"model 'no-such-model' not found \(404\)"):
            await ex.extract(chunk())
    assert len(server.log) == 1


# --- cache -------------------------------------------------------------------------------


async def test_sql_cache_saves_the_second_request(server: FakeLlmServer, tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'cache.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with extractor(server, SqlResponseCache(engine)) as ex:
            fresh = await ex.extract(chunk())
            again = await ex.extract(chunk())
        env = {"OPENAI_BASE_URL": server.url, "SCHOOLX_LLM_MODEL": "fake-model"}
        async with LlmExtractor.from_env(engine, env) as other:  # how the pipeline builds it
            third = await other.extract(chunk())
    finally:
        await engine.dispose()
    assert len(server.log) == 1
    assert fresh.usage["cached"] == 0 and fresh.usage["requests"] == 1
    assert again.usage == {"requests": 0, "cached": 1, "prompt_tokens": 0, "completion_tokens": 0}
    assert again.records == fresh.records == third.records


async def test_cache_key_changes_with_model(server: FakeLlmServer) -> None:
    cache = MemoryResponseCache()
    async with extractor(server, cache) as ex:
        await ex.extract(chunk())
    async with extractor(server, cache, model="other-model") as ex:
        await ex.extract(chunk())
    assert len(server.log) == 2


# --- limiter -----------------------------------------------------------------------------


async def test_in_flight_limit_is_global() -> None:
    with FakeLlmServer(latency_s=0.1) as server:
        async with (
            extractor(server, max_in_flight=3) as first,
            extractor(server, max_in_flight=3) as second,
        ):
            jobs = [
                (first if i % 2 else second).extract(chunk(f"{PAGE}\nSchool No {i}\n", i))
                for i in range(20)
            ]
            results = await asyncio.gather(*jobs)
    assert len(server.log) == 20
    assert server.max_concurrency == 3
    assert all(len(r.records) == 3 for r in results)


async def test_requests_per_minute_limit_spaces_requests(server: FakeLlmServer) -> None:
    # 120/min = one every 0.5 s once the first minute's burst (the full bucket) is spent.
    async with extractor(server, rpm=120) as ex:
        ex.limiter.configure(max_in_flight=8, rpm=120)
        bucket = ex.limiter._rpm
        assert bucket is not None
        bucket.reserve(bucket.capacity)  # drain the burst allowance
        started = time.monotonic()
        await asyncio.gather(*(ex.extract(chunk(f"{PAGE}{i}", i)) for i in range(2)))
    assert time.monotonic() - started >= 0.9


# --- pure pieces -------------------------------------------------------------------------


def test_llm_extractor_satisfies_the_protocol() -> None:
    ex: Extractor = LlmExtractor(LlmConfig(), MemoryResponseCache())  # checked by mypy
    assert ex.name == "llm"
    assert [c.text for c in ex.chunks([PageText(1, PAGE)])] == [PAGE]


def test_config_from_env() -> None:
    env = {
        "OPENAI_BASE_URL": "http://localhost:11434/v1",
        "SCHOOLX_LLM_MODEL": "llama3",
        "SCHOOLX_LLM_MAX_IN_FLIGHT": "4",
        "SCHOOLX_LLM_PRICES": "llama3=0:0, gpt-4o-mini=0.15:0.6",
    }
    cfg = LlmConfig.from_env(env)
    assert (cfg.model, cfg.max_in_flight, cfg.api_key, cfg.timeout_s) == ("llama3", 4, None, 60.0)
    assert cfg.prices["gpt-4o-mini"] == (0.15, 0.6)
    assert llm_configured(env) and not llm_configured({})
    with pytest.raises(ConfigError, match="SCHOOLX_LLM_TIMEOUT_S"):
        LlmConfig.from_env({"SCHOOLX_LLM_TIMEOUT_S": "soon"})
    with pytest.raises(ConfigError, match="SCHOOLX_LLM_PRICES"):
        parse_prices("gpt=1")


def test_estimate_cost() -> None:
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 500_000}
    assert estimate_cost(usage, "m", {"m": (0.15, 0.6)}) == pytest.approx(0.45)
    assert estimate_cost(usage, "unknown", {"m": (0.15, 0.6)}) is None


def test_chunking_splits_long_pages_at_blank_lines() -> None:
    blocks = [f"School number {i}\n{i} Main Street\n" for i in range(200)]
    text = "\n".join(blocks)
    pages = [PageText(1, text), PageText(2, "Short page\n"), PageText(3, "", skipped="blank")]
    chunks = chunk_pages(pages, max_chars=1000, context_chars=100)
    assert chunks == chunk_pages(pages, max_chars=1000, context_chars=100)
    on_page_1 = [c for c in chunks if c.page == 1]
    assert "".join(c.text for c in on_page_1) == text
    assert all(len(c.text) <= 1000 for c in on_page_1)
    for c in on_page_1[1:]:
        assert text[c.offset : c.offset + len(c.text)] == c.text
        assert c.text.startswith("School number")  # cut at a record boundary
        assert c.context == text[c.offset - 100 : c.offset]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].page == 2


def test_parse_is_lenient_about_wrapping() -> None:
    body = '{"schools": [{"name": "A School", "postal_code": 12345}]}'
    wrapped = f"<think>let me see {{ }}</think>Sure!\n```json\n{body}\n```"
    assert parse_reply(wrapped).schools[0].values()["postal_code"] == "12345"
    assert parse_reply(f"Result: {body} hope it helps").schools[0].name == "A School"
    with pytest.raises(ReplyInvalid, match=r"schools\.0\.name"):
        parse_reply('{"schools": [{"address": "x"}]}')
    with pytest.raises(ReplyInvalid, match="empty"):
        parse_reply("<think>never finished")


def test_grounding_normalized_fuzzy_and_missing_values() -> None:
    text = "LINCOLN   Elementary\nSchool\n12 Oak Street\nPhone 555-0100\n"
    reply = SchoolsReply.model_validate(
        {
            "schools": [
                {
                    "name": "Lincoln Elementary School",  # case and line break differ
                    "address": "12 Oak Stret",  # a typo: fuzzy match
                    "phone": "555-0100",
                    "city": "Springfield",  # not in the text
                },
                {"name": "Nowhere High School"},
            ]
        }
    )
    records, dropped = ground(Chunk(index=0, page=1, text=text, offset=50), reply)
    assert dropped == 1
    (record,) = records
    assert record.name == "LINCOLN Elementary School"
    assert record.address == "12 Oak Stret"
    assert record.phone == "555-0100"
    assert record.city is None
    assert record.evidence.start == 50
    assert record.evidence.snippet == text[: text.index("555-0100") + len("555-0100")]


# --- hybrid: the LLM only for pages the offline reader is unsure of ----------------------

TABLE_PAGE = (
    "School Name                  Address               City           Phone\n"
    "Lincoln Elementary School    12 Oak Street         Springfield    (217) 555-0100\n"
    "Washington High School       400 Main Ave          Springfield    (217) 555-0101\n"
)
NOTES_PAGE = (
    "Minutes of the March meeting of the county board. The members reviewed the bus\n"
    "routes for the spring term and agreed to publish the calendar before the holidays.\n"
    "The board thanked the hosts of the science fair held last month at\n"
    "Riverside Academy\n"
    "and asked the clerk to write to them. The meeting closed at nine in the evening.\n"
)


async def test_hybrid_sends_only_the_unsure_page_to_the_llm(server: FakeLlmServer) -> None:
    from handlers.hybrid import HybridExtractor
    from handlers.reader.extractor import OfflineReader

    async with extractor(server) as llm:
        hybrid = HybridExtractor(OfflineReader(), llm)
        pages = [PageText(1, TABLE_PAGE), PageText(2, NOTES_PAGE)]
        table, notes = [await hybrid.extract(c) for c in hybrid.chunks(pages)]
    assert [r.name for r in table.records] == [
        "Lincoln Elementary School",
        "Washington High School",
    ]
    assert "llm_pages" not in table.usage  # read offline, with confidence
    assert notes.usage["llm_pages"] == 1
    assert [r.name for r in notes.records] == ["Riverside Academy"]
    assert len(server.log) == 1
    assert "Riverside Academy" in server.log[0].messages[-1]["content"]
    assert "Lincoln" not in server.log[0].messages[-1]["content"]


async def test_hybrid_keeps_the_offline_reading_when_the_llm_fails(server: FakeLlmServer) -> None:
    from handlers.hybrid import HybridExtractor
    from handlers.reader.extractor import OfflineReader

    server.add_faults(*[Fault("malformed")] * 4)
    async with extractor(server, invalid_retries=0) as llm:  # an ask and its re-ask fail
        hybrid = HybridExtractor(OfflineReader(), llm)
        [notes] = [await hybrid.extract(c) for c in hybrid.chunks([PageText(3, NOTES_PAGE)])]
    assert notes.usage["llm_pages"] == 1
    assert any(w.startswith("page 3: the LLM could not read it either") for w in notes.warnings)
