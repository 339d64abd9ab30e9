"""Idle Server-Sent Event streams against a real ``schoolx serve``: the server's CPU.

``python -m bench.sse [--streams 200] [--seconds 20]`` starts the server on a free port
with a fresh SQLite database, opens the streams for one user, lets them idle, and prints
the share of one core the server process used meanwhile.
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
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "schoolx.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


async def open_streams(url: str, token: str, count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count + 5)
    client = httpx.AsyncClient(base_url=url, limits=limits, timeout=60)
    streams = []
    for _ in range(count):
        request = client.build_request(
            "GET", "/events", headers={"Authorization": f"Bearer {token}"}
        )
        response = await client.send(request, stream=True)
        assert response.status_code == 200, response.status_code
        streams.append(response)
    return streams


async def measure(url: str, token: str, pid: int, count: int, seconds: float) -> float:
    streams = await open_streams(url, token, count)
    await asyncio.sleep(2)  # let start-up work settle
    proc = psutil.Process(pid)
    before = sum(proc.cpu_times()[:2])
    started = time.monotonic()
    await asyncio.sleep(seconds)
    used = sum(proc.cpu_times()[:2]) - before
    elapsed = time.monotonic() - started
    for response in streams:
        await response.aclose()
    return used / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, SCHOOLX_HOME=home, PYTHONPATH=str(ROOT))
        env.pop("SCHOOLX_DATABASE_URL", None)
        added = subprocess.run(
            [sys.executable, "-m", "schoolx.cli", "users", "add", "bench"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        token = added.stdout.strip().splitlines()[-1]
        port = free_port()
        server = serve(env, port)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
            share = asyncio.run(
                measure(f"http://127.0.0.1:{port}", token, server.pid, args.streams, args.seconds)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.streams} idle SSE streams: server used {100 * share:.1f}% of one core")


if __name__ == "__main__":
    main()
