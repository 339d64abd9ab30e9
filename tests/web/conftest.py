"""Fixtures for the web tests: the app in-process (ASGI) and over real HTTP (uvicorn)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import insert

from domain.matching.names import name_key
from models.school_search import search_text
from models.tables import School
from models.users import UserStore
from schoolx.app import open_app
from schoolx.web import create_app, request_shutdown
from tests.conftest import use_migrated
from tests.support.pdfs import directory_pdf as directory_pdf  # used by the web tests

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "directory_blocks.pdf"
XSS_NAME = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def web_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fast queue timings, the offline extractor, and nothing written outside tmp_path."""
    monkeypatch.setenv("SCHOOLX_POLL_S", "0.05")
    monkeypatch.setenv("SCHOOLX_HEARTBEAT_S", "0.2")
    monkeypatch.setenv("SCHOOLX_SHUTDOWN_GRACE_S", "2")
    monkeypatch.setenv("SCHOOLX_TEXT_WORKERS", "1")
    monkeypatch.setenv("SCHOOLX_HOME", str(tmp_path / "home"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'web.db'}"


def xss_pdf() -> bytes:
    return directory_pdf(
        [[XSS_NAME, "12 Main St", "Springfield, IL 62701", "Phone: (217) 555-0100"]]
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def school_rows(count: int) -> list[dict[str, Any]]:
    """Pending schools named ``School 000`` on; school i has i % 5 of its address fields
    filled (the review queue puts the emptiest first)."""
    optional = ("address", "region", "postal_code", "phone")
    rows = []
    for i in range(count):
        name = f"School {i:03d}"
        row: dict[str, Any] = {"name": name, "match_key": name_key(name), "city": "Springfield"}
        filled = {"address": f"{i} Main St", "region": "IL", "postal_code": "62701"}
        filled["phone"] = f"+1217555{i:04d}"
        row |= {k: filled[k] if j < i % 5 else None for j, k in enumerate(optional)}
        words = search_text(name, (row["address"], row["city"]))  # as a save stores them
        rows.append(row | {"identifiers": {}, "locked_fields": [], "search_text": words})
    return rows


async def add_schools(db_url: str, count: int) -> None:
    app = await open_app(db_url)
    try:
        async with app.db.write.begin() as conn:
            await conn.execute(insert(School), school_rows(count))
    finally:
        await app.close()


# --- in-process ------------------------------------------------------------------------


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient

    async def user(self, name: str) -> dict[str, str]:
        """Headers that authenticate as a new user ``name``."""
        return bearer(await self.app.state.web.users.add(name))


async def open_api(db_url: str, *, start_worker: bool) -> AsyncIterator[Api]:
    app = create_app(db_url, start_worker=start_worker)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(app, client)


@pytest.fixture
async def api(db_url: str, migrated_sqlite: Path) -> AsyncIterator[Api]:
    """The app with its queue worker, called in-process through ASGI."""
    use_migrated(db_url, migrated_sqlite)
    async for opened in open_api(db_url, start_worker=True):
        yield opened


@pytest.fixture
async def api_no_worker(db_url: str, migrated_sqlite: Path) -> AsyncIterator[Api]:
    """The app without a worker: tasks stay pending (limits, conflicts)."""
    use_migrated(db_url, migrated_sqlite)
    async for opened in open_api(db_url, start_worker=False):
        yield opened


async def wait_task(client: httpx.AsyncClient, headers: dict[str, str], task_id: int) -> Any:
    deadline = time.monotonic() + 120  # a hang guard
    while time.monotonic() < deadline:
        task = (await client.get(f"/tasks/{task_id}", headers=headers)).json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish: {task}")


# --- over HTTP -------------------------------------------------------------------------


def run_in_thread(fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a private loop in another thread: safe beside pytest's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, fn()).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    db_url: str
    app: FastAPI

    def token(self, name: str) -> str:
        async def add() -> str:
            app = await open_app(self.db_url)
            try:
                return await UserStore(app.db).add(name)
            finally:
                await app.close()

        return run_in_thread(add)


@pytest.fixture
def live_server(db_url: str, migrated_sqlite: Path) -> Iterator[LiveServer]:
    """uvicorn on a free loopback port, in a thread, with the worker running."""
    use_migrated(db_url, migrated_sqlite)
    port = free_port()
    app = create_app(db_url)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a hang guard
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", db_url, app)
    finally:
        request_shutdown(app)
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "server did not stop"
