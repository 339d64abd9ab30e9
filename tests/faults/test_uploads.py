"""Uploads over real HTTP to ``schoolx serve``: no body is read before the caller is
authenticated, and a body that trickles in is cut off."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.cli import SAMPLES, cli_env, schoolx, spawn
from tests.support.procs import stop_all
from tests.web.conftest import free_port

IDLE_S = 1.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """(port, a token of user alice) of a ``schoolx serve`` process."""
    env = cli_env(tmp_path / "home", SCHOOLX_UPLOAD_IDLE_TIMEOUT_S=str(IDLE_S))
    added = schoolx(env, "users", "add", "alice")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    port = free_port()
    proc = spawn(env, tmp_path / "serve.log", "serve", "--port", str(port))
    try:
        wait_listening(proc, port, tmp_path / "serve.log")
        yield port, token
    finally:
        stop_all([proc])


def wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server never listened")


def upload_head(port: int, length: int, token: str | None) -> bytes:
    lines = [
        "POST /documents HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: multipart/form-data; boundary=XYZ",
        f"Content-Length: {length}",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(sock: socket.socket) -> int:
    """The response's status code."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection without answering"
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_anonymous_upload_gets_401_before_any_body_is_sent(server: tuple[int, str]) -> None:
    port, _ = server
    # Not one byte of the body will come: an answer at all shows it was not waited for.
    socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(5)]
    try:
        for sock in socks:  # 90 MB announced, not one byte of it sent
            sock.sendall(upload_head(port, 90_000_000, None))
        answers = [status_of(sock) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    assert answers == [401] * 5


def test_trickling_upload_is_cut_off_and_a_normal_one_still_works(
    server: tuple[int, str],
) -> None:
    port, token = server
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(upload_head(port, 1_000_000, token) + b"--XYZ\r\n")  # then nothing
        assert status_of(sock) == 408  # the idle cut-off's answer, not a hang or a close
    response = httpx.post(
        f"http://127.0.0.1:{port}/documents",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("table.pdf", (SAMPLES / "table.pdf").read_bytes(), "application/pdf")},
        timeout=30,
    )
    assert response.status_code == 201, response.text
