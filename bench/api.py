"""API throughput: ``GET /schools?limit=50`` of a real ``schoolx serve`` under concurrent
clients, against a bare FastAPI endpoint that returns 50 rows, same uvicorn set-up, same run.

``python -m bench.api [--schools 600] [--clients 50] [--requests 1000] [--postgres URL]
[--client httpx|aiohttp]`` fills a fresh SQLite database (and, with ``--postgres``, a
PostgreSQL one) with schools, starts each server in its own process on a free loopback
port, and prints requests/s, p50 and p99 for each and the ratio of the app's requests/s to
the bare endpoint's.

The load comes from one Python process: by default 50 httpx clients of one connection
each (see ``load``); ``--client aiohttp`` shares one aiohttp session among them instead,
which loads the bare endpoint about twice as hard again (2,200-3,300 req/s on 2 cores), so
its ratio is the stricter one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import insert

from domain.matching.names import name_key
from models.tables import School
from models.users import UserStore
from schoolx.app import open_app

ROOT = Path(__file__).resolve().parents[1]
CITIES = ("Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Clinton")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def school_row(i: int) -> dict[str, Any]:
    name = f"School {i:04d} of {CITIES[i % len(CITIES)]}"
    return {
        "name": name,
        "match_key": name_key(name),
        "kind": "school",
        "address": f"{i} Main St",
        "city": CITIES[i % len(CITIES)],
        "region": "IL",
        "postal_code": f"{62700 + i % 100}",
        "country": "US",
        "phone": f"+1217555{i % 10000:04d}",
        "grades": "K-8",
        "identifiers": {},
        "locked_fields": [],
    }


async def fill(url: str, count: int) -> str:
    """Create the database with ``count`` schools; returns a token for user ``bench``."""
    app = await open_app(url)
    try:
        async with app.db.write.begin() as conn:
            await conn.execute(insert(School), [school_row(i) for i in range(count)])
        return await UserStore(app.db).add("bench")
    finally:
        await app.close()


def bare_rows() -> list[dict[str, Any]]:
    return [
        {"id": i + 1, **school_row(i), "status": "pending", "merged_into": None} for i in range(50)
    ]


def run_bare(port: int) -> None:
    """The baseline: FastAPI returning 50 in-memory rows, served like ``schoolx serve``."""
    import uvicorn
    from fastapi import FastAPI

    bare = FastAPI()
    rows = bare_rows()

    @bare.get("/schools")
    async def schools(limit: int = 50) -> dict[str, Any]:
        # The app's shape: one page and how many there are in all.
        return {"total": 600, "limit": limit, "offset": 0, "items": rows[:limit]}

    config = uvicorn.Config(bare, host="127.0.0.1", port=port, proxy_headers=False)
    uvicorn.Server(config).run()


def start(args: Sequence[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    cpu_s: float = 0.0  # the server process's CPU time meanwhile: steadier on a busy machine

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.name:<28} {self.rate:7.0f} req/s   p50 {1000 * self.percentile(0.5):6.1f} ms"
            f"   p99 {1000 * self.percentile(0.99):6.1f} ms"
            f"   server CPU {1000 * self.cpu_s / len(self.latencies):5.2f} ms/req"
        )


async def load(name: str, url: str, token: str, clients: int, requests: int) -> Result:
    """``requests`` GETs shared among ``clients`` concurrent clients, each an httpx client
    with its own connection, as that many users would be. (One client whose pool the 50
    shared was the bottleneck itself: the bare endpoint's figure was that pool's ceiling,
    520-750 req/s against 1,270-1,500, and it gave the bare endpoint a p99 of 5-6 times
    its p50.) Every client makes a first request before the clock starts."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    left = iter(range(requests))
    warm = asyncio.Barrier(clients + 1)
    go = asyncio.Event()

    async def one_client() -> None:
        # Idle connections expire before uvicorn's 5 s keep-alive closes them: reusing one
        # the server just closed fails with ReadError on a slow, loaded machine.
        limits = httpx.Limits(max_connections=1, keepalive_expiry=4.0)
        async with httpx.AsyncClient(
            base_url=url, headers=headers, limits=limits, timeout=60
        ) as client:
            first = await client.get("/schools", params={"limit": 50})  # warm-up, and a check
            first.raise_for_status()
            assert len(first.json()["items"]) == 50, first.text[:200]
            await warm.wait()
            await go.wait()
            for _ in left:
                began = time.perf_counter()
                response = await client.get("/schools", params={"limit": 50})
                latencies.append(time.perf_counter() - began)
                assert response.status_code == 200, response.status_code

    # A group: a client that fails makes the run fail, instead of leaving the others
    # waiting at the barrier for it.
    async with asyncio.TaskGroup() as group:
        for _ in range(clients):
            group.create_task(one_client())
        await warm.wait()
        began = time.perf_counter()
        go.set()
    return Result(name, time.perf_counter() - began, latencies)


async def load_aiohttp(name: str, url: str, token: str, clients: int, requests: int) -> Result:
    """As ``load``, with aiohttp's client."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    left = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, connector=connector, headers=headers) as client:
        async with client.get("/schools", params={"limit": 50}) as first:
            body = await first.json()
            assert first.status == 200 and len(body["items"]) == 50, str(body)[:200]

        async def one_client() -> None:
            for _ in left:
                began = time.perf_counter()
                async with client.get("/schools", params={"limit": 50}) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        seconds = time.perf_counter() - began
    return Result(name, seconds, latencies)


def measure(
    name: str,
    args: Sequence[str],
    env: dict[str, str],
    port: int,
    token: str,
    opts: argparse.Namespace,
) -> Result:
    server = start(args, env, port)
    try:
        url = f"http://127.0.0.1:{port}"
        proc = psutil.Process(server.pid)
        before = sum(proc.cpu_times()[:2])
        loader = load_aiohttp if opts.client == "aiohttp" else load
        result = asyncio.run(loader(name, url, token, opts.clients, opts.requests))
        result.cpu_s = sum(proc.cpu_times()[:2]) - before
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=600)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--postgres", help="also measure on this (emptied) PostgreSQL database")
    parser.add_argument("--client", choices=["httpx", "aiohttp"], default="httpx")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.bare_server:
        run_bare(opts.bare_server)
        return
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, SCHOOLX_HOME=home, PYTHONPATH=str(ROOT))
        env.pop("SCHOOLX_DATABASE_URL", None)
        port = free_port()
        bare = measure(
            "bare FastAPI, 50 rows", ["bench.api", "--bare-server", str(port)], env, port, "", opts
        )
        dbs = {"SQLite": f"sqlite:///{Path(home) / 'bench.db'}"}
        if opts.postgres:
            dbs["PostgreSQL"] = opts.postgres
        results = []
        for label, url in dbs.items():
            token = asyncio.run(fill(url, opts.schools))
            port = free_port()
            serve = ["schoolx.cli", "--db", url, "serve", "--port", str(port)]
            results.append(measure(f"schoolx {label}, /schools", serve, env, port, token, opts))
    print(
        f"{opts.clients} {opts.client} clients, {opts.requests} requests of GET /schools?limit=50"
    )
    print(bare.line())
    for result in results:
        print(result.line() + f"   {result.rate / bare.rate:.2f} of bare")


if __name__ == "__main__":
    main()
