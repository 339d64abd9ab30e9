"""Queue throughput: N no-op tasks with 4 checkpointed stages, limits 7/5, 10 users.

Producers keep every user at the active-task limit, as the inbox does, so the measured
enqueue->start latency is the real wait of a task, not an artefact of a huge backlog.
Prints latency p50/p99 and, last, ``tasks_per_s=<number>``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from pipeline.context import TaskContext
from pipeline.errors import TaskLimitError
from pipeline.settings import QueueSettings
from pipeline.store import EventType
from schoolx.app import App, open_app

STAGES = ("text", "extract", "normalize", "save")


async def noop_handler(ctx: TaskContext) -> dict[str, int]:
    for i, name in enumerate(STAGES, start=1):
        await ctx.stage(name, _noop, progress=25 * i)
    return {"stages": len(STAGES)}


async def _noop() -> dict[str, bool]:
    return {"ok": True}


async def produce(app: App, user: str, count: int, freed: asyncio.Event) -> None:
    sent = 0
    while sent < count:
        try:
            await app.queue.enqueue("noop", {"n": sent}, user_id=user)
            sent += 1
        except TaskLimitError:
            freed.clear()
            await freed.wait()


async def run(n: int, users: int) -> None:
    settings = QueueSettings(max_processing=7, max_processing_per_user=5, poll_s=0.05)
    with tempfile.TemporaryDirectory() as tmp:
        app = await open_app(f"sqlite:///{Path(tmp) / 'bench.db'}", settings)
        app.handlers.register("noop", noop_handler)
        worker = app.new_worker()
        stop = asyncio.Event()
        freed = {f"user{i}": asyncio.Event() for i in range(users)}
        started = time.perf_counter()
        worker_task = asyncio.create_task(worker.run(stop))
        done = 0
        per_user = [n // users + (1 if i < n % users else 0) for i in range(users)]
        producers = [
            asyncio.create_task(produce(app, f"user{i}", c, freed[f"user{i}"]))
            for i, c in enumerate(per_user)
        ]
        async for event in app.queue.subscribe():
            if event.type in (EventType.COMPLETED, EventType.FAILED):
                done += 1
                freed[event.user_id].set()
                if done >= n:
                    break
        elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.gather(worker_task, *producers)
        latencies = await queue_latencies(app)
        await app.close()
    print(f"tasks={n} users={users} elapsed_s={elapsed:.2f}")
    print(f"enqueue_to_start_ms p50={latencies[0]:.1f} p99={latencies[1]:.1f}")
    print(f"tasks_per_s={n / elapsed:.1f}")


async def queue_latencies(app: App) -> tuple[float, float]:
    waits = []
    for info in await app.store.list_tasks(limit=1_000_000):
        if info.started_at is not None:
            waits.append((info.started_at - info.created_at).total_seconds() * 1000)
    waits.sort()
    return statistics.median(waits), waits[min(len(waits) - 1, int(len(waits) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.n, args.users))


if __name__ == "__main__":
    main()
