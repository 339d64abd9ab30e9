"""Scale-out on PostgreSQL: 1, 2 and 4 ``schoolx worker`` processes share one queue.

100 ms tasks for 6 users; the limits (7 processing, 5 per user) bound throughput at
7 / 0.1 s = 70 tasks/s. Prints throughput per worker count against that bound, the most
tasks seen processing at once (sampled every 50 ms; must stay <= 7 and <= 5 per user),
no-op throughput, and last ``bound_ratio=<min ratio over 2 and 4 workers>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from models.tables import Task
from models.tables import Worker as WorkerRow
from pipeline.settings import QueueSettings
from schoolx.app import App, open_app
from tests.support.pg import create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]
USERS = 6


def start_workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    # Each worker gets a little more than its share of the 7 slots, as an operator would
    # configure several machines, so the work really is spread.
    share = 7 if count == 1 else -(-7 // count) + 1
    env = dict(os.environ, PYTHONPATH=str(ROOT), SCHOOLX_WORKER_CONCURRENCY=str(share))
    cmd = [sys.executable, "-m", "schoolx.cli", "--db", url, "worker", "--plugin", "bench.plugin"]
    return [
        subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(count)
    ]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


async def sample_peaks(app: App, done: asyncio.Event) -> tuple[int, int]:
    peak_total = peak_user = 0
    query = (
        select(Task.user_id, func.count()).where(Task.status == "processing").group_by(Task.user_id)
    )
    while not done.is_set():
        async with app.db.read.connect() as conn:
            per_user = {r[0]: r[1] for r in await conn.execute(query)}
        peak_total = max(peak_total, sum(per_user.values()))
        peak_user = max(peak_user, max(per_user.values(), default=0))
        await asyncio.sleep(0.05)
    return peak_total, peak_user


async def wait_registered(app: App, workers: int) -> None:
    query = select(func.count()).select_from(WorkerRow)
    while True:
        async with app.db.read.connect() as conn:
            if (await conn.execute(query)).scalar_one() >= workers:
                return
        await asyncio.sleep(0.05)


async def one_run(workers: int, n: int, task_type: str) -> tuple[float, int, int]:
    url = await create_database()
    settings = QueueSettings(max_active_per_user=100_000)
    app = await open_app(url, settings)
    try:
        # Workers are up before the work arrives, as in a running deployment: a Python
        # process takes a few hundred ms to start on this machine, and counting that
        # would measure interpreter start-up, not the queue. The tasks then arrive at
        # once (concurrent enqueues share a few transactions).
        procs = start_workers(url, workers)
        done = asyncio.Event()
        sampler = asyncio.create_task(sample_peaks(app, done))
        try:
            await wait_registered(app, workers)
            await asyncio.gather(
                *(
                    app.queue.enqueue(task_type, {"seconds": 0.1}, user_id=f"user{i % USERS}")
                    for i in range(n)
                )
            )
            while (await app.store.counts()).get("completed", 0) < n:
                await asyncio.sleep(0.05)
        finally:
            done.set()
            stop(procs)
        peak_total, peak_user = await sampler
        infos = await app.store.list_tasks(limit=n)
        first = min(t.started_at for t in infos if t.started_at)
        last = max(t.completed_at for t in infos if t.completed_at)
        throughput = n / (last - first).total_seconds()
        held = [
            (t.completed_at - t.started_at).total_seconds()
            for t in infos
            if t.completed_at and t.started_at
        ]
        if task_type == "bench_sleep":
            print(
                f"  slot held per task: mean {1000 * sum(held) / len(held):.1f} ms "
                "(the handler sleeps 100 ms)"
            )
    finally:
        await app.close()
        await drop_database(url)
    return throughput, peak_total, peak_user


async def main(n: int) -> None:
    bound = 7 / 0.1
    ratios = []
    for workers in (1, 2, 4):
        started = time.perf_counter()
        rate, peak, peak_user = await one_run(workers, n, "bench_sleep")
        ratio = rate / bound
        print(
            f"workers={workers} tasks={n} tasks_per_s={rate:.1f} bound={bound:.0f} "
            f"ratio={ratio:.3f} max_processing={peak} max_per_user={peak_user} "
            f"wall_s={time.perf_counter() - started:.1f}"
        )
        if workers >= 2:
            ratios.append(ratio)
    for workers in (1, 2):
        rate, peak, peak_user = await one_run(workers, n * 2, "bench_noop")
        print(f"noop workers={workers} tasks_per_s={rate:.1f} max_processing={peak}")
    print(f"bound_ratio={min(ratios):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=420)
    asyncio.run(main(parser.parse_args().n))
