"""Several real worker processes on one database; SIGKILL in the middle of a task."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.tables import Worker
from pipeline.store import EventType, TaskStatus
from schoolx.app import App, open_app
from tests.conftest import FAST
from tests.support.events import all_events, replay_peaks
from tests.support.procs import stop_all

ROOT = Path(__file__).resolve().parents[2]


def worker_env(counter: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SCHOOLX_TEST_COUNTER=str(counter),
        SCHOOLX_LEASE_S="2",
        SCHOOLX_HEARTBEAT_S="0.3",
        SCHOOLX_SWEEP_S="0.5",
        SCHOOLX_POLL_S="0.05",
        SCHOOLX_WORKER_CONCURRENCY="3",  # 9 in all: the global 7 binds, slots spread
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def start_worker(url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log_path = Path(env["SCHOOLX_TEST_COUNTER"]).with_suffix(".log")
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.worker_main", url],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
async def test_three_processes_never_exceed_the_limits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    app = await open_app(url, FAST)
    counter = tmp_path / "counter.txt"
    try:
        # A long lease: this test is about the limits, and a busy machine can delay a
        # heartbeat past the usual test lease of 2 s (a task would then run twice).
        procs = [start_worker(url, worker_env(counter, SCHOOLX_LEASE_S="60")) for _ in range(3)]
        try:
            # All three are up before there is work: the tasks take ~1 s in all, less than
            # a worker process may need to start on a busy machine.
            await wait_for_workers(app, 3)
            for i in range(200):
                await app.store.enqueue(
                    "sleep",
                    f"user{i % 4}",
                    {"seconds": 0.02 + (i % 5) / 100},
                    max_attempts=3,
                    max_active_per_user=1000,
                )
            await wait_until_done(app, 200, timeout_s=300)
        finally:
            stop_all(procs)
        events = await all_events(app)
    finally:
        await app.close()
    peak_total, peak_user = replay_peaks(events)
    assert peak_total <= 7 and peak_user <= 5
    assert peak_total >= 5  # the test did run tasks in parallel
    runs = Counter(line.split()[0] for line in counter.read_text().splitlines())
    assert len(runs) == 200 and set(runs.values()) == {1}  # each task ran exactly once
    workers = {e.data["worker"] for e in events if e.type is EventType.STARTED}
    assert len(workers) == 3  # all three processes took part


@pytest.mark.slow
async def test_sigkill_in_stage_three_resumes_after_lease_expiry(
    tmp_path: Path, db_url: str
) -> None:
    app = await open_app(db_url, FAST)
    counter = tmp_path / "counter.txt"
    try:
        info = await app.queue.enqueue(
            "staged", {"sleep": {"three": 60}, "sleep_attempts": 1}, user_id="crash"
        )
        first = start_worker(db_url, worker_env(counter))
        try:
            await wait_for_line(counter, f"{info.id} three")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert (await app.queue.get(info.id)).status is TaskStatus.PROCESSING
        second = start_worker(db_url, worker_env(counter))
        try:
            done = await asyncio.wait_for(app.queue.wait(info.id), 60)
        finally:
            stop_all([second])
    finally:
        await app.close()
    assert done.status is TaskStatus.COMPLETED and done.attempts == 2
    runs = Counter(line.split()[1] for line in counter.read_text().splitlines())
    assert runs == {"one": 1, "two": 1, "three": 2, "four": 1}


async def wait_until_done(app: App, n: int, timeout_s: float) -> None:
    async def poll() -> None:
        while True:
            counts = await app.store.counts()
            if counts.get("completed", 0) + counts.get("failed", 0) >= n:
                return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(poll(), timeout_s)


async def wait_for_workers(app: App, n: int, timeout_s: float = 300) -> None:
    """Until ``n`` worker processes have registered (a hang guard, not a time limit)."""

    async def poll() -> None:
        while True:
            async with app.db.read.connect() as conn:
                found = (await conn.execute(select(func.count()).select_from(Worker))).scalar()
            if found is not None and found >= n:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), timeout_s)


async def wait_for_line(path: Path, text: str, timeout_s: float = 60) -> None:
    async def poll() -> None:
        while not (path.exists() and text in path.read_text()):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout_s)
