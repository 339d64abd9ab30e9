"""A file still being written is never taken, truncated or lost."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from tests.acceptance.cli import SAMPLES, as_json, cli_env, export, schoolx, spawn
from tests.support.procs import stop_all

# Writes the first half of a file, says so, waits for a line on stdin, writes the rest:
# a slow download or copy that keeps the file open in between.
WRITER = """
import sys
data = open(sys.argv[2], "rb").read()
with open(sys.argv[1], "wb") as f:
    f.write(data[: len(data) // 2])
    f.flush()
    print("half", flush=True)
    sys.stdin.readline()
    f.write(data[len(data) // 2 :])
"""


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        assert proc.poll() is None, f"exited before {text!r}:\n{path.read_text()}"
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in {path}:\n{path.read_text()}")


def test_half_written_file_waits_for_its_writer_and_is_processed_whole(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "erin").mkdir(parents=True)
    target = inbox / "erin" / "slow.pdf"
    source = SAMPLES / "directory_blocks.pdf"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(source)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"half"
        env = cli_env(tmp_path / "home", SCHOOLX_INBOX_SETTLE_S="0.2")
        log = tmp_path / "run.log"
        run = spawn(env, log, "run", "--inbox", str(inbox), "--once")
        procs.append(run)
        # The half file has long been stable; the inbox sees that it is open for writing.
        wait_for_text(log, "erin/slow.pdf: still being written", run, timeout=60)
        assert writer.stdin is not None
        writer.stdin.write(b"go\n")
        writer.stdin.close()
        assert writer.wait(timeout=30) == 0
        assert run.wait(timeout=90) == 0, log.read_text()
    finally:
        stop_all([writer, *procs])
        for pipe in (writer.stdin, writer.stdout):
            if pipe is not None:
                pipe.close()
    assert not target.exists()
    assert not (inbox / "failed").exists()
    tasks = as_json(schoolx(env, "tasks", "--json"))
    assert [(t["user_id"], t["status"]) for t in tasks] == [("erin", "completed")]
    # The document stored is the whole file, not its first half.
    doc_sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert {s["sha256"] for row in export(env) for s in row["sources"]} == {doc_sha}
