"""Cancel stops a running task, kills its pool work, and records what was saved.

How fast is for the benches: here the bomb would parse for minutes, so a cancel that ends
it within the (generous) hang guards did stop it.
"""

from __future__ import annotations

import asyncio
import os
import time
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
def bomb_pdf() -> bytes:
    return shared_stream_bomb(50, 2_000_000, distinct=True)


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


async def wait_gone(procs: list[psutil.Process], timeout_s: float = 60) -> bool:
    """Whether every process has ended (the kill is asynchronous); the timeout is a guard."""
    deadline = time.monotonic() + timeout_s
    while not all(gone(p) for p in procs):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_cancel_in_the_same_process_stops_and_kills_its_pool_work(
    app: App,
) -> None:
    install_pdf_handler(app, PdfSettings(text_workers=1, pages_per_job=25))
    sub = await submit_pdf(app.queue, DocumentStore(app.db), bomb_pdf(), "bomb.pdf", user_id="u")
    stop = asyncio.Event()
    worker = asyncio.create_task(app.new_worker().run(stop))
    try:
        busy = await wait_busy(psutil.Process(os.getpid()))
        assert await app.queue.cancel(sub.task.id) is TaskStatus.PROCESSING
        done = await asyncio.wait_for(app.queue.wait(sub.task.id), 60)
        killed = await wait_gone(busy)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 60)
    assert done.status is TaskStatus.CANCELLED
    assert done.error is not None
    assert done.error.startswith("cancelled by request; saved before stopping: "), done.error
    assert "lease" not in done.error
    assert killed, "the cancelled task's pool process is still parsing"
    events = await app.store.events_since(0, task_id=sub.task.id)
    assert events[-1].type is EventType.CANCELLED and events[-1].data["reason"] == done.error


def test_cancel_from_another_process_says_what_was_saved(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path / "home", SCHOOLX_HEARTBEAT_S="0.5", SCHOOLX_TEXT_WORKERS="1")
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(bomb_pdf())
    task_id = str(as_json(schoolx(env, "submit", str(bomb), "--json"))[0]["task"])
    worker = spawn(env, tmp_path / "worker.log", "worker")
    try:
        busy = asyncio.run(wait_busy(psutil.Process(worker.pid)))
        assert schoolx(env, "cancel", task_id).returncode == 0
        deadline = time.monotonic() + 120  # a hang guard: the bomb parses for minutes
        while (info := as_json(schoolx(env, "task", task_id, "--json")))["status"] == "processing":
            assert time.monotonic() < deadline, "never cancelled"
            time.sleep(0.2)
        shown = schoolx(env, "task", task_id)
        killed = asyncio.run(wait_gone(busy))
    finally:
        stop_all([worker])
    assert info["status"] == "cancelled", info
    assert "cancelled by request; saved before stopping: no stage finished" in " ".join(
        shown.stdout.split()
    ), shown.stdout
    assert killed, "the cancelled task's pool process is still parsing"
