"""``schoolx worker`` processes on one PostgreSQL database: limits, crash recovery, cancel.

Every test gets a fresh database on the server at 127.0.0.1:5432 (tests/support/pg.py).
When the server cannot be reached these tests fail; ``SCHOOLX_TEST_PG=0`` turns them off.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from models.queue_pg import CLAIM_LOCK_KEY
from pipeline.store import Claimed, EventType, Limits, TaskStatus
from schoolx.app import App, open_app
from tests.conftest import FAST
from tests.support.events import all_events, replay_peaks
from tests.support.handlers import STAGES
from tests.support.pg import create_database, drop_database, pg_enabled
from tests.support.procs import stop_all

ROOT = Path(__file__).resolve().parents[2]
LIMITS = Limits(7, 5)
PROCESSING_PER_USER = text(
    "SELECT user_id, count(*) FROM tasks WHERE status = 'processing' GROUP BY user_id"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not pg_enabled(), reason="SCHOOLX_TEST_PG=0: PostgreSQL tests off"),
]


@pytest.fixture
async def pg_db() -> AsyncIterator[str]:
    url = await create_database()  # raises (the test errors) when PostgreSQL is down
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def app(pg_db: str) -> AsyncIterator[App]:
    app = await open_app(pg_db, FAST)
    try:
        yield app
    finally:
        await app.close()


# --- worker processes ---------------------------------------------------------------------


def worker_env(counter: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLX_")}
    env.update(SCHOOLX_TEST_COUNTER=str(counter), SCHOOLX_POLL_S="0.05", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def start_worker(url: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "schoolx.cli", "--verbose", "--db", url, "worker"]
    cmd += ["--plugin", "tests.support.handlers"]
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


async def worker_ids(app: App, procs: list[subprocess.Popen[bytes]]) -> dict[int, str]:
    """pid -> worker id, once every process has registered."""
    pids = [p.pid for p in procs]

    async def poll() -> dict[int, str]:
        while True:
            async with app.db.read.connect() as conn:
                rows = await conn.execute(text("SELECT pid, id FROM workers"))
                found = {int(r[0]): str(r[1]) for r in rows if r[0] in pids}
            if len(found) == len(pids):
                return found
            assert all(p.poll() is None for p in procs), "a worker process died"
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), 60)


# --- observations -------------------------------------------------------------------------


async def processing_per_user(app: App) -> dict[str, int]:
    async with app.db.read.connect() as conn:
        return {str(r[0]): int(r[1]) for r in await conn.execute(PROCESSING_PER_USER)}


async def sample_peaks(app: App, done: asyncio.Event) -> tuple[int, int, int]:
    """Exact database states (one statement, one snapshot) every ~20 ms: the most tasks
    processing overall and for one user, and how many samples were taken."""
    peak_total = peak_user = samples = 0
    while not done.is_set():
        per_user = await processing_per_user(app)
        peak_total = max(peak_total, sum(per_user.values()))
        peak_user = max(peak_user, max(per_user.values(), default=0))
        samples += 1
        await asyncio.sleep(0.02)
    return peak_total, peak_user, samples


async def wait_until_completed(app: App, n: int, timeout_s: float) -> None:
    async def poll() -> None:
        while (await app.store.counts()).get("completed", 0) < n:
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), timeout_s)


async def wait_for_line(path: Path, line: str, timeout_s: float = 60) -> None:
    async def poll() -> None:
        while not (path.exists() and line in path.read_text().splitlines()):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout_s)


def counter_lines(path: Path) -> list[tuple[int, str, int]]:
    """(task id, stage, pid) for every stage run the handlers recorded."""
    rows = []
    for line in path.read_text().splitlines():
        task_id, stage, pid = line.split()
        rows.append((int(task_id), stage, int(pid)))
    return rows


async def enqueue_many(app: App, specs: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
    """Enqueue concurrently (the store's group commit takes many per transaction)."""
    ids: list[int] = []
    for start in range(0, len(specs), 50):
        infos = await asyncio.gather(
            *(
                app.store.enqueue(
                    task_type, user, payload, max_attempts=3, max_active_per_user=1000
                )
                for task_type, user, payload in specs[start : start + 50]
            )
        )
        ids += [info.id for info in infos]
    return ids


# --- 1. four worker processes never exceed the limits ---------------------------------


async def test_four_workers_keep_the_limits_at_every_moment(
    app: App, pg_db: str, tmp_path: Path
) -> None:
    # Uneven, so that at the end one user has the queue alone and its limit binds.
    users = [f"user{u}" for u, k in enumerate((160, 100, 60, 40, 25, 15)) for _ in range(k)]
    n = len(users)  # 400 tasks for 6 users
    counter = tmp_path / "counter.txt"
    ids = await enqueue_many(app, [("sleep", user, {"seconds": 0.1}) for user in users])
    # Room for 3 each (12 in all): the global limit of 7 is what binds, and the slots
    # spread over the processes instead of staying with the first one.
    env = worker_env(counter, SCHOOLX_WORKER_CONCURRENCY="3")
    procs = [start_worker(pg_db, env, tmp_path / f"worker{i}.log") for i in range(4)]
    done = asyncio.Event()
    sampler = asyncio.create_task(sample_peaks(app, done))
    try:
        await wait_until_completed(app, n, timeout_s=120)
    finally:
        done.set()
        try:
            peak_total, peak_user, samples = await sampler
        finally:
            stop_all(procs)
    events = await all_events(app)
    tasks = await app.store.list_tasks(limit=n + 10)

    # The limits were reached (so they were tested), never passed.
    assert (peak_total, peak_user) == (7, 5) and samples >= 100, (peak_total, peak_user)
    assert replay_peaks(events) == (7, 5)

    assert len(tasks) == n and {t.id for t in tasks} == set(ids)
    assert all(t.status is TaskStatus.COMPLETED and t.attempts == 1 for t in tasks)
    runs = Counter(task_id for task_id, _stage, _pid in counter_lines(counter))
    assert set(runs) == set(ids) and set(runs.values()) == {1}  # each ran exactly once
    completed = Counter(e.task_id for e in events if e.type is EventType.COMPLETED)
    assert set(completed) == set(ids) and set(completed.values()) == {1}
    workers = {e.data["worker"] for e in events if e.type is EventType.STARTED}
    assert len(workers) >= 2  # several processes shared the work


# --- 2. concurrent claims from separate pools: the serialization holds ----------------


async def test_concurrent_claims_from_separate_pools_never_over_admit(app: App, pg_db: str) -> None:
    apps = [await open_app(pg_db, FAST) for _ in range(4)]  # 4 pools, 4 LISTEN connections
    try:
        for round_no in range(5):
            async with app.db.write.begin() as conn:  # an empty queue for each round
                await conn.execute(text("DELETE FROM tasks"))
            await enqueue_many(
                app, [("sleep", f"user{i % 2}", {"seconds": 0.1}) for i in range(50)]
            )
            claims = [
                apps[i % 4].store.claim(f"r{round_no}-w{i}", 7, LIMITS, 30) for i in range(20)
            ]
            results: list[Claimed] = await asyncio.gather(*claims)

            per_user = await processing_per_user(app)
            claimed = [t for r in results for t in r.tasks]
            assert sum(per_user.values()) == 7, per_user  # full, never more
            assert max(per_user.values()) <= 5, per_user
            assert len(claimed) == 7 and len({t.id for t in claimed}) == 7
            # Nothing ends in this test, so the final state is the peak: no claim
            # transaction committed past the limit at any moment.
    finally:
        for other in apps:
            await other.close()


async def test_a_claim_reads_the_running_count_after_waiting_for_the_lock(
    app: App, pg_db: str
) -> None:
    """Without the lock (or with a snapshot older than the lock wait) the blocked claim
    below would count 0 running and take 7 more: 14 processing."""
    claimer = await open_app(pg_db, FAST)
    blocked: asyncio.Task[Claimed] | None = None
    try:
        ids = await enqueue_many(
            app, [("sleep", f"user{i % 2}", {"seconds": 0.1}) for i in range(20)]
        )
        async with app.db.write.connect() as holder:
            await holder.begin()
            await holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK_KEY})
            blocked = asyncio.create_task(claimer.store.claim("blocked", 7, LIMITS, 30))
            await wait_for_lock_waiter(app)
            assert not blocked.done()
            # Another "claim" fills every slot and commits while the claim above waits.
            await holder.execute(
                text(
                    "UPDATE tasks SET status = 'processing', owner = 'holder', attempts = 1 "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": ids[:7]},  # 4 of user0, 3 of user1
            )
            await holder.commit()
        result = await asyncio.wait_for(blocked, 60)
        assert result.tasks == ()
        assert sum((await processing_per_user(app)).values()) == 7
    finally:
        if blocked is not None and not blocked.done():
            blocked.cancel()
            await asyncio.gather(blocked, return_exceptions=True)
        await claimer.close()


async def wait_for_lock_waiter(app: App) -> None:
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND objid = :k AND database = (SELECT oid FROM pg_database "
        "WHERE datname = current_database())"
    )

    async def poll() -> None:
        while True:
            async with app.db.read.connect() as conn:
                if (await conn.execute(query, {"k": CLAIM_LOCK_KEY})).scalar_one():
                    return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), 60)


# --- 3. SIGKILL one of three workers: lease expiry, no finished stage runs again -------


async def test_sigkill_one_of_three_workers_resumes_its_tasks_elsewhere(
    app: App, pg_db: str, tmp_path: Path
) -> None:
    counter = tmp_path / "counter.txt"
    env = worker_env(
        counter,
        # Long enough that the orphans are still the victim's when they are read below.
        SCHOOLX_LEASE_S="6",
        SCHOOLX_HEARTBEAT_S="0.3",
        SCHOOLX_SWEEP_S="0.5",
        SCHOOLX_WORKER_CONCURRENCY="3",
    )
    procs = [start_worker(pg_db, env, tmp_path / f"worker{i}.log") for i in range(3)]
    try:
        by_pid = await worker_ids(app, procs)
        payload = {"sleep": dict.fromkeys(STAGES, 0.3), "sleep_attempts": 1}
        ids = []
        for i in range(10):  # one by one, so that the claims spread over the workers
            ids += await enqueue_many(app, [("staged", f"user{i % 2}", payload)])
            await asyncio.sleep(0.03)
        victim_proc, victim = await pick_victim(app, procs, by_pid)
        victim_proc.send_signal(signal.SIGKILL)
        victim_proc.wait()
        # The dead worker writes nothing more, and its leases have not expired yet: this
        # is the state at the kill.
        stored_at_kill = await stored_steps(app)
        orphans = {
            t.id: t.lease_expires_at
            for t in await app.store.list_tasks(status=TaskStatus.PROCESSING)
            if t.owner == victim
        }
        assert orphans
        await wait_until_completed(app, len(ids), timeout_s=120)
    finally:
        stop_all(procs)
    events = await all_events(app)
    tasks = {t.id: t for t in await app.store.list_tasks(limit=100)}

    assert set(tasks) == set(ids)
    assert all(t.status is TaskStatus.COMPLETED for t in tasks.values())
    for task_id, lease_expires_at in orphans.items():
        started = [e for e in events if e.task_id == task_id and e.type is EventType.STARTED]
        assert started[0].data["worker"] == victim
        assert started[-1].data["worker"] != victim
        assert started[-1].data["worker"] in by_pid.values()
        assert tasks[task_id].attempts == 2 and len(started) == 2
        assert lease_expires_at is not None and started[-1].created_at >= lease_expires_at
        assert any(
            e.task_id == task_id
            and e.type is EventType.RETRYING
            and e.data.get("reason") == f"lease of {victim} expired"
            for e in events
        )
    assert all(t.attempts == 1 for t in tasks.values() if t.id not in orphans)

    runs = Counter((task_id, stage) for task_id, stage, _pid in counter_lines(counter))
    for task_id, stages in stored_at_kill.items():
        for stage in stages:
            assert runs[(task_id, stage)] == 1, (task_id, stage, runs)
    for task_id in ids:
        assert all(runs[(task_id, stage)] >= 1 for stage in STAGES)
        again = [stage for stage in STAGES if runs[(task_id, stage)] > 1]
        if task_id not in orphans:
            assert again == []
        else:  # only the stage in flight at the kill: the first one not stored
            first_missing = next(s for s in STAGES if s not in stored_at_kill.get(task_id, ()))
            assert again in ([], [first_missing]), (task_id, again)
            assert all(runs[(task_id, stage)] <= 2 for stage in STAGES)


async def pick_victim(
    app: App, procs: list[subprocess.Popen[bytes]], by_pid: dict[int, str]
) -> tuple[subprocess.Popen[bytes], str]:
    """The worker owning the most processing tasks, once one of them stored a stage."""
    query = text(
        "SELECT t.owner, count(DISTINCT t.id), count(s.task_id) FROM tasks t "
        "LEFT JOIN task_steps s ON s.task_id = t.id "
        "WHERE t.status = 'processing' GROUP BY t.owner"
    )

    async def poll() -> str:
        while True:
            async with app.db.read.connect() as conn:
                rows = [(str(r[0]), int(r[1]), int(r[2])) for r in await conn.execute(query)]
            with_steps = [r for r in rows if r[2] > 0]
            if with_steps:
                return max(with_steps, key=lambda r: r[1])[0]
            await asyncio.sleep(0.02)

    owner = await asyncio.wait_for(poll(), 60)
    pid = next(pid for pid, worker in by_pid.items() if worker == owner)
    return next(p for p in procs if p.pid == pid), owner


async def stored_steps(app: App) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    async with app.db.read.connect() as conn:
        for row in await conn.execute(text("SELECT task_id, name FROM task_steps")):
            found[int(row[0])].add(str(row[1]))
    return dict(found)


# --- 4. a cancel reaches a worker process through NOTIFY, not the heartbeat -----------


async def test_cancel_reaches_a_worker_process_at_once(
    app: App, pg_db: str, tmp_path: Path
) -> None:
    counter = tmp_path / "counter.txt"
    (task_id,) = await enqueue_many(app, [("sleep", "canceller", {"seconds": 60})])
    # No heartbeat comes within the test (the first would come 600 s after the start).
    env = worker_env(counter, SCHOOLX_HEARTBEAT_S="600", SCHOOLX_LEASE_S="1200")
    proc = start_worker(pg_db, env, tmp_path / "worker.log")
    try:
        await wait_for_line(counter, f"{task_id} sleep {proc.pid}")
        assert await app.queue.cancel(task_id) is TaskStatus.PROCESSING
        info = await asyncio.wait_for(app.queue.wait(task_id), 60)  # a hang guard
        async with app.db.read.connect() as conn:
            row = (await conn.execute(text("SELECT started_at, heartbeat_at FROM workers"))).one()
        worker_started: datetime = row[0]
        heartbeat_at: datetime = row[1]
    finally:
        stop_all([proc])
    assert info.status is TaskStatus.CANCELLED and info.error is not None
    assert info.error.startswith("cancelled by request; saved before stopping: ")
    # The worker has not had a heartbeat yet, so the cancel can only have come through
    # LISTEN/NOTIFY.
    assert heartbeat_at == worker_started


@pytest.mark.parametrize("option", ["sslmode=prefer", "ssl=prefer", "ssl=disable"])
async def test_tls_option_as_users_write_it_reaches_every_connection(
    app: App, pg_db: str, option: str
) -> None:
    # Three drivers read this URL: psycopg (writes), asyncpg (reads) and the LISTEN
    # connection; each takes the TLS mode under its own name.
    tls = await open_app(f"{pg_db}?{option}", FAST)
    try:
        info = await tls.queue.enqueue("staged", {}, user_id="tls")
        claimed = await tls.store.claim("w", 1, LIMITS, 30)
        assert [t.id for t in claimed.tasks] == [info.id]
        assert (await tls.store.get_task(info.id)).status is TaskStatus.PROCESSING
        woken = tls.hub.waiter(work_only=True)
        await app.queue.enqueue("staged", {}, user_id="other")  # another process's pool
        await asyncio.wait_for(woken.wait(), 5)  # arrived by NOTIFY
    finally:
        await tls.close()
