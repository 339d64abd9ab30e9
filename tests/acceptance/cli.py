"""Running the real ``schoolx`` command in a subprocess, for acceptance tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SCHOOLX_DATABASE_URL", None)
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    env.update(
        SCHOOLX_HOME=str(home),
        SCHOOLX_INBOX_SETTLE_S="0.3",
        SCHOOLX_POLL_S="0.05",
        SCHOOLX_HEARTBEAT_S="0.3",
        SCHOOLX_SWEEP_S="0.5",
        SCHOOLX_LEASE_S="2",
        PYTHONPATH=str(ROOT),
        COLUMNS="200",
    )
    env.update(extra)
    return env


def schoolx(
    env: dict[str, str],
    *args: str,
    timeout: float = 120,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schoolx.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
    )


def spawn(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "schoolx.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def export(env: dict[str, str]) -> list[dict[str, Any]]:
    result = schoolx(env, "export", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def school_groups(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, int, str], ...]]:
    """Each school as the sorted set of its evidence: independent of ids and of the order
    in which documents happened to be processed."""
    return sorted(
        tuple(sorted((s["document"], s["page"], s["snippet"]) for s in row["sources"]))
        for row in rows
    )
