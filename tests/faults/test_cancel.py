"""Cancel stops a running task fast, kills its pool work, and records what was saved."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from handlers.settings import PdfSettings
from handlers.submit import submit_pdf
from models.documents import DocumentStore
from pipeline.store import EventType, TaskStatus
from schoolx.app import App
from schoolx.install import install_pdf_handler
from tests.acceptance.cli import as_json, cli_env, schoolx, spawn
from tests.support.bomb_pdf import shared_stream_bomb
from tests.support.procs import stop_all

# 50 pages that each parse a 2 MB content stream of their own: seconds per page, minutes in
# all (one stream shared by every page would be parsed once: see test_pdf_bombs).
BOMB = shared_stream_bomb(50, 2_000_000, distinct=True)


def busy_pool_processes(parent: psutil.Process) -> list[psutil.Process]:
    """Pool processes (spawned children) that have parsed for a while: past the second of
    CPU their start-up costs, they are working on a page."""
    busy = []
    for child in parent.children(recursive=True):
        try:
            if "multiprocessing" in " ".join(child.cmdline()) and child.cpu_times().user > 1.5:
                busy.append(child)
        except psutil.NoSuchProcess:
            continue
    return busy


async def wait_busy(parent: psutil.Process, timeout_s: float = 60) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if busy := busy_pool_processes(parent):
            return busy
        await asyncio.sleep(0.1)
    raise AssertionError("no pool process started parsing")


def gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_cancel_in_the_same_process_stops_within_2s_and_kills_its_pool_work(
    app: App,
) -> None:
    install_pdf_handler(app, PdfSettings(text_workers=1, pages_per_job=25))
    sub = await submit_pdf(app.queue, DocumentStore(app.db), BOMB, "bomb.pdf", user_id="u")
    stop = asyncio.Event()
    worker = asyncio.create_task(app.new_worker().run(stop))
    try:
        busy = await wait_busy(psutil.Process(os.getpid()))
        started = time.monotonic()
        assert await app.queue.cancel(sub.task.id) is TaskStatus.PROCESSING
        done = await asyncio.wait_for(app.queue.wait(sub.task.id), 10)
        latency = time.monotonic() - started
        for _ in range(50):  # the kill is asynchronous: give the kernel a moment
            if all(gone(p) for p in busy):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
    assert done.status is TaskStatus.CANCELLED
    assert latency < 2.0, latency
    assert done.error is not None
    assert done.error.startswith("cancelled by request; saved before stopping: "), done.error
    assert "lease" not in done.error
    assert all(gone(p) for p in busy), "the cancelled task's pool process is still parsing"
    events = await app.store.events_since(0, task_id=sub.task.id)
    assert events[-1].type is EventType.CANCELLED and events[-1].data["reason"] == done.error


def test_cancel_from_another_process_within_a_heartbeat_says_what_was_saved(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path / "home", SCHOOLX_HEARTBEAT_S="0.5", SCHOOLX_TEXT_WORKERS="1")
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(BOMB)
    task_id = str(as_json(schoolx(env, "submit", str(bomb), "--json"))[0]["task"])
    worker = spawn(env, tmp_path / "worker.log", "worker")
    try:
        busy = asyncio.run(wait_busy(psutil.Process(worker.pid)))
        assert schoolx(env, "cancel", task_id).returncode == 0
        requested = datetime.now(UTC)  # the request is stored once the command returns
        while (info := as_json(schoolx(env, "task", task_id, "--json")))["status"] == "processing":
            assert datetime.now(UTC) - requested < timedelta(seconds=30), "never cancelled"
        shown = schoolx(env, "task", task_id)
    finally:
        stop_all([worker])
    # The worker sees the request at its next heartbeat (0.5 s) and stops at once; the
    # rest is slack for a busy 2-core machine (2.2 s seen while a full test run shared it).
    latency = (datetime.fromisoformat(info["completed_at"]) - requested).total_seconds()
    assert latency < 0.5 + 3.0, latency
    assert "cancelled by request; saved before stopping: no stage finished" in " ".join(
        shown.stdout.split()
    ), shown.stdout
    assert all(gone(p) for p in busy)
