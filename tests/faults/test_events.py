"""Event streams: one reader of the events table per process, fanned out to every
subscriber; a revoked token's open stream ends."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from pipeline.store import EventInfo, EventType
from schoolx.app import App
from tests.acceptance.cli import cli_env, schoolx, spawn
from tests.faults.test_uploads import wait_listening
from tests.support.procs import stop_all
from tests.web.conftest import free_port


async def test_fifty_subscribers_share_one_reader_of_the_events_table(app: App) -> None:
    reads: Counter[str | None] = Counter()
    real = app.store.events_since

    async def counted(after_id: int, **filters: Any) -> list[EventInfo]:
        reads[filters.get("user_id")] += 1  # None: a read for every subscriber at once
        return await real(after_id, **filters)

    app.store.events_since = counted  # type: ignore[method-assign]
    got: dict[str, list[EventInfo]] = {f"u{i}": [] for i in range(50)}

    async def follow(user: str, events: AsyncIterator[EventInfo]) -> None:
        async for event in events:
            got[user].append(event)

    followers = [
        asyncio.create_task(follow(user, app.queue.subscribe(user_id=user))) for user in got
    ]
    try:
        queued = await app.queue.enqueue("staged", {}, user_id="u7")
        deadline = time.monotonic() + 60  # a hang guard
        # Ten idle polls go by (poll_s is 0.05 here), and u7 hears about its task.
        while reads[None] < 10 or not got["u7"]:
            assert time.monotonic() < deadline, (reads, got["u7"])
            await asyncio.sleep(0.02)
    finally:
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
    assert [(e.task_id, e.type) for e in got["u7"]] == [(queued.id, EventType.QUEUED)]
    assert all(not events for user, events in got.items() if user != "u7")
    # Each subscriber read the store only to catch up once, not at every poll.
    assert sum(n for user, n in reads.items() if user is not None) <= len(got)


def test_a_revoked_tokens_open_stream_ends(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home", SCHOOLX_SSE_KEEPALIVE_S="0.3")
    added = schoolx(env, "users", "add", "alice")
    token = added.stdout.strip().splitlines()[-1]
    port = free_port()
    proc = spawn(env, tmp_path / "serve.log", "serve", "--port", str(port))
    try:
        wait_listening(proc, port, tmp_path / "serve.log")
        headers = {"Authorization": f"Bearer {token}"}
        url = f"http://127.0.0.1:{port}/events"
        with httpx.stream("GET", url, headers=headers, timeout=60) as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            assert schoolx(env, "users", "revoke", "alice").returncode == 0
            revoked = time.monotonic()
            for _ in lines:  # keep-alives until the server notices, then the end
                # A hang guard: the server checks the token every few keep-alives.
                assert time.monotonic() - revoked < 60, "the stream went on after revoking"
        assert httpx.get(url, headers=headers, timeout=10).status_code == 401
    finally:
        stop_all([proc])
