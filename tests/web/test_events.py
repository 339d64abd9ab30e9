"""Event streams over real HTTP: a client that leaves leaves nothing behind on the server."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from pipeline.store import EventInfo
from schoolx.web.routes_events import event_stream
from tests.web.conftest import LiveServer, bearer


async def stream_tasks() -> int:
    """Tasks of open event streams on the server's loop (any coroutine of routes_events)."""
    return sum(
        1
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "").startswith(("_pump", "Event.wait"))
    )


def server_stream_tasks(server: LiveServer) -> int:
    loop = server.app.state.web.loop
    return asyncio.run_coroutine_threadsafe(stream_tasks(), loop).result(timeout=10)


def test_client_that_leaves_logs_nothing(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = live_server.token("alice")
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        for _ in range(3):
            with client.stream("GET", "/events", headers=bearer(token)) as response:
                assert response.status_code == 200
                first = next(response.iter_lines())
                assert first.startswith("retry:")
                assert server_stream_tasks(live_server) > 0
    deadline = time.monotonic() + 20
    while server_stream_tasks(live_server) > 0:  # the server notices the client went away
        assert time.monotonic() < deadline, "the event stream's tasks outlived its client"
        time.sleep(0.05)
    gc.collect()  # a pending task left unreferenced is reported when it is collected
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged == []


async def test_stream_closed_mid_wait_leaves_no_pending_task() -> None:
    gate = asyncio.Event()

    async def quiet() -> AsyncIterator[EventInfo]:
        await gate.wait()
        return
        yield  # never reached: a subscription with no events

    before = set(asyncio.all_tasks())
    stream = event_stream(quiet(), keepalive_s=30)
    assert (await anext(stream)).startswith("retry:")
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # let it reach the wait on the queue
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await stream.aclose()  # type: ignore[attr-defined]  # an async generator
    left = {t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()}
    assert left == set(), left
