"""SIGKILL a real ``schoolx worker`` process inside the PDF handler; a new one resumes.

Real subprocesses, a real SIGKILL and a real database (SQLite file and PostgreSQL): a worker
that dies in stage 2 loses at most the chunks it had in flight, one that dies between or
inside the later stages leaves nothing twice, and the resumed task ends with exactly the
result of a clean run on a fresh database.

This module is also a worker plugin (``--plugin tests.acceptance.test_pdf_crash``): on top
of ``tests.support.slow_pdf`` it can park the handler at a chosen point (see ``register``)
so that a test kills the worker at that exact point rather than at a lucky moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import psutil
import pytest

from handlers.pdf import TASK_TYPE, PdfHandler
from pipeline.handlers import HandlerRegistry
from pipeline.store import EventInfo, EventType, TaskInfo, TaskStatus
from schoolx.cli.runtime import Runtime, open_runtime
from tests.support import slow_pdf

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "long_directory.pdf"
CHUNK_PREFIX = "extract/chunk/"
PAGES = 60  # long_directory.pdf: one chunk per page for both extractors
PAUSE_ENV = "SCHOOLX_TEST_PAUSE_AT"
PAUSE_POINTS = ("normalize", "after_save")
P = ParamSpec("P")
T = TypeVar("T")


# --- the plugin side (runs inside the worker subprocess) -------------------------------


def register(registry: HandlerRegistry) -> None:
    """slow_pdf, plus a pause at $SCHOOLX_TEST_PAUSE_AT (announced in the counter file):

    - ``normalize``: stage ``extract`` is stored, ``normalize`` has not run;
    - ``after_save``: the schools transaction has committed, the ``save`` step is not stored.
    """
    slow_pdf.register(registry)
    handler = registry.get(TASK_TYPE)
    assert isinstance(handler, PdfHandler)
    point = os.environ.get(PAUSE_ENV, "")
    if point == "normalize":
        parked = _pausing(handler._normalize, point, before=True)
        handler._normalize = parked  # type: ignore[method-assign]
    elif point == "after_save":
        store = handler.schools
        store.save = _pausing(store.save, point, before=False)  # type: ignore[method-assign]
    elif point:
        raise ValueError(f"{PAUSE_ENV}={point!r}: choose one of {PAUSE_POINTS}")


def _pausing(
    fn: Callable[P, Coroutine[Any, Any, T]], point: str, *, before: bool
) -> Callable[P, Coroutine[Any, Any, T]]:
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if before:
            await _park(point)
        result = await fn(*args, **kwargs)
        if not before:
            await _park(point)
        return result

    return wrapper


async def _park(point: str) -> None:
    with open(os.environ["SCHOOLX_TEST_COUNTER"], "a", encoding="utf-8") as f:
        f.write(f"pause {point}\n")
    await asyncio.sleep(3600)  # until the test's SIGKILL


# --- helpers for the tests (also used by test_llm_crash) -------------------------------


def worker_env(counter: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SCHOOLX_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        SCHOOLX_TEST_COUNTER=str(counter),
        SCHOOLX_LEASE_S="2",
        SCHOOLX_HEARTBEAT_S="0.3",
        SCHOOLX_SWEEP_S="0.3",
        SCHOOLX_POLL_S="0.05",
    )
    env.update(extra)
    return env


class Workers:
    """``schoolx worker`` subprocesses; SIGKILL one, and clean up its orphans at the end."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log
        self.procs: list[subprocess.Popen[bytes]] = []
        self.orphans: list[psutil.Process] = []

    def start(self, env: dict[str, str], *plugins: str) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "schoolx.cli", "--db", self.url, "worker"]
        for plugin in plugins:
            cmd += ["--plugin", plugin]
        with open(self.log, "ab") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def sigkill(self, proc: subprocess.Popen[bytes]) -> None:
        """Kill the worker alone, as the OOM killer would; its pypdf pool is left behind
        (and reaped at the end of the test)."""
        with contextlib.suppress(psutil.NoSuchProcess):
            self.orphans += psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for orphan in self.orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()
        psutil.wait_procs(self.orphans, timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@contextlib.contextmanager
def workers(url: str, log: Path) -> Iterator[Workers]:
    group = Workers(url, log)
    try:
        yield group
    finally:
        group.close()


async def poll(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 120) -> None:
    async def loop() -> None:
        while not await check():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(loop(), timeout_s)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout_s}s waiting for {what}") from None


async def wait_done(rt: Runtime, task_id: int, group: Workers, timeout_s: float = 120) -> TaskInfo:
    try:
        info = await asyncio.wait_for(rt.app.queue.wait(task_id), timeout_s)
    except TimeoutError:
        raise AssertionError(
            f"task {task_id} did not finish; worker log:\n{group.tail()}"
        ) from None
    assert info.status is TaskStatus.COMPLETED, f"{info.error}\n{group.tail()}"
    return info


def counter_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def chunk_runs(lines: list[str]) -> Counter[int]:
    """How many times each chunk index started (``chunk PAGE INDEX`` lines)."""
    return Counter(int(line.split()[2]) for line in lines if line.startswith("chunk "))


def chunk_indexes(steps: dict[str, Any]) -> set[int]:
    return {
        int(name.removeprefix(CHUNK_PREFIX).split("-")[0])  # index-contenthash
        for name in steps
        if name.startswith(CHUNK_PREFIX)
    }


async def task_events(rt: Runtime, task_id: int) -> list[EventInfo]:
    events: list[EventInfo] = []
    while batch := await rt.app.store.events_since(
        events[-1].id if events else 0, task_id=task_id, limit=5000
    ):
        events += batch
    return events


def counts(result: dict[str, Any]) -> dict[str, Any]:
    """What a run found and saved: equal for any two runs on the same file."""
    keys = ("pages", "schools_found", "dropped", "saved", "merged", "sources")
    return {k: result[k] for k in keys}


async def export_rows(rt: Runtime) -> list[tuple[Any, ...]]:
    """Every exported school with its fields and evidence, sorted: equal lists mean the
    same schools, each exactly as often."""
    rows = []
    for school in await rt.schools.export():
        evidence = tuple(sorted((s.page, s.span_start, s.span_end) for s in school.sources))
        rows.append((school.name, tuple(sorted(school.fields.items())), evidence))
    return sorted(rows, key=repr)


async def _clean_run(url: str) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    async with open_runtime(url) as rt:
        stop = asyncio.Event()
        worker = asyncio.create_task(rt.app.new_worker().run(stop))
        try:
            sub = await rt.submit(SAMPLE.read_bytes(), SAMPLE.name, "clean", "rules")
            info = await asyncio.wait_for(rt.app.queue.wait(sub.task.id), 120)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        assert info.status is TaskStatus.COMPLETED, info.error
        return info.result, await export_rows(rt)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """The result and export of an uninterrupted run on a fresh SQLite database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}"
    result, rows = asyncio.run(_clean_run(url))
    assert result["saved"] > 100 and result["pages"] == PAGES
    return result, rows


# --- tests ------------------------------------------------------------------------------


@pytest.mark.slow
async def test_sigkill_in_stage_two_loses_only_chunks_in_flight(
    tmp_path: Path, db_url: str, clean: tuple[dict[str, Any], list[tuple[Any, ...]]]
) -> None:
    counter = tmp_path / "counter.txt"
    release = tmp_path / "release"
    concurrency = 3
    # The first worker's chunks after its twelfth wait for `release`, which comes only after
    # the kill: the kill lands in the middle of stage 2 however slow the machine is.
    env = worker_env(
        counter,
        SCHOOLX_TEST_CHUNK_DELAY_S="0.02",
        SCHOOLX_TEST_HOLD_AFTER="12",
        SCHOOLX_TEST_RELEASE=str(release),
        SCHOOLX_CHUNK_CONCURRENCY=str(concurrency),
    )
    async with open_runtime(db_url) as rt:
        sub = await rt.submit(SAMPLE.read_bytes(), SAMPLE.name, "crash", "rules")
        task_id, doc_id = sub.task.id, sub.document.id

        async def some_chunks_stored() -> bool:
            return len(await rt.app.store.steps(task_id, prefix=CHUNK_PREFIX)) >= 12

        with workers(db_url, tmp_path / "worker.log") as group:
            first = group.start(env, "tests.support.slow_pdf")
            await poll(some_chunks_stored, "12 chunk checkpoints")
            group.sigkill(first)
            at_kill = await rt.app.store.steps(task_id)
            started_before_kill = chunk_runs(counter_lines(counter))
            pages_at_kill = await rt.documents.stored_pages(doc_id)
            assert (await rt.app.queue.get(task_id)).status is TaskStatus.PROCESSING

            release.touch()
            group.start(env, "tests.support.slow_pdf")
            done = await wait_done(rt, task_id, group)
        events = await task_events(rt, task_id)

    stored = chunk_indexes(at_kill)
    # The kill did land in the middle of stage 2, after stage 1 had stored every page.
    assert "text" in at_kill and "extract" not in at_kill
    assert 12 <= len(stored) < PAGES, sorted(stored)
    assert pages_at_kill == set(range(1, PAGES + 1))

    runs = chunk_runs(counter_lines(counter))
    assert set(runs) == set(range(PAGES))  # every chunk ran
    assert all(runs[i] == 1 for i in stored), {i: runs[i] for i in stored if runs[i] != 1}
    again = {i for i, n in runs.items() if n > 1}
    in_flight = set(started_before_kill) - stored
    assert again <= in_flight, (again, in_flight)  # only chunks in flight ran twice
    assert len(in_flight) <= concurrency and max(runs.values()) <= 2

    # Stage 1 ran once: its checkpoint and its page-by-page progress belong to attempt 1.
    started = [e.id for e in events if e.type is EventType.STARTED]
    assert len(started) == 2 and done.attempts == 2
    assert sum(1 for e in events if e.data.get("stage") == "text") == 1
    text_progress = [e.id for e in events if str(e.data.get("message", "")).startswith("text ")]
    assert text_progress and max(text_progress) < started[1]
    assert sum(1 for e in events if e.data.get("stage") == "extract") == 1

    result, _rows = clean
    assert counts(done.result) == counts(result)


async def kill_between_stages(
    tmp_path: Path, url: str, point: str, clean: tuple[dict[str, Any], list[tuple[Any, ...]]]
) -> None:
    counter = tmp_path / "counter.txt"
    env = worker_env(counter, SCHOOLX_TEST_CHUNK_DELAY_S="0")
    plugin = "tests.acceptance.test_pdf_crash"
    async with open_runtime(url) as rt:
        sub = await rt.submit(SAMPLE.read_bytes(), SAMPLE.name, "crash", "rules")
        task_id = sub.task.id

        async def parked() -> bool:
            return f"pause {point}" in counter_lines(counter)

        with workers(url, tmp_path / "worker.log") as group:
            first = group.start(env | {PAUSE_ENV: point}, plugin)
            await poll(parked, f"the worker to pause at {point}")
            group.sigkill(first)
            at_kill = await rt.app.store.steps(task_id)
            schools_at_kill = await rt.schools.count()

            group.start(env, plugin)
            done = await wait_done(rt, task_id, group)
        rows = await export_rows(rt)
        events = await task_events(rt, task_id)

    # Where the kill landed.
    if point == "normalize":
        assert {name for name in at_kill if "/" not in name} == {"text", "extract"}
        assert schools_at_kill == 0
    else:  # the schools transaction committed, its checkpoint did not
        assert {name for name in at_kill if "/" not in name} == {"text", "extract", "normalize"}
        assert schools_at_kill == clean[0]["saved"]

    # Stages stored before the kill did not run again: one checkpoint event each.
    stage_events = Counter(e.data.get("stage") for e in events if e.type is EventType.PROGRESS)
    for stage in ("text", "extract", "normalize", "save"):
        assert stage_events[stage] == 1, stage_events
    runs = chunk_runs(counter_lines(counter))
    assert set(runs.values()) == {1} and len(runs) == PAGES  # no chunk ran twice
    assert done.attempts == 2

    result, clean_rows = clean
    assert counts(done.result) == counts(result)
    assert len(rows) == result["saved"]
    assert rows == clean_rows  # each school exactly once, with the same fields and evidence


@pytest.mark.slow
async def test_sigkill_after_schools_commit_before_save_checkpoint(
    tmp_path: Path, db_url: str, clean: tuple[dict[str, Any], list[tuple[Any, ...]]]
) -> None:
    """The save transaction committed but its step did not: the resumed save stores
    nothing twice and reports the same counts (both backends: the upsert SQL differs)."""
    await kill_between_stages(tmp_path, db_url, "after_save", clean)


@pytest.mark.slow
async def test_sigkill_after_extract_before_normalize(
    tmp_path: Path, clean: tuple[dict[str, Any], list[tuple[Any, ...]]]
) -> None:
    """Killed between stages 2 and 3 (SQLite only: no backend-specific SQL runs here)."""
    await kill_between_stages(tmp_path, f"sqlite:///{tmp_path / 'between.db'}", "normalize", clean)
