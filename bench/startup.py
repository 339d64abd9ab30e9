"""How long a ``schoolx`` command takes to start: wall time of whole processes.

Usage: ``python -m bench.startup [--runs 5]``.

Measured, each as the median of ``--runs`` runs: ``python -c pass`` (the floor),
``schoolx --help``, and ``schoolx tasks`` against a temporary SQLite database made by
``schoolx db upgrade`` beforehand (so the run opens an existing, current database, as it
usually does). Then each command's time above the floor; the goal (issue 14) is at most
0.5 s for both. Wall time is the goal; the CPU time (user + system) of the same runs is
printed beside it because it moves less when other work shares the machine.

The last line reads ``startup help_over_python=... tasks_over_python=...`` (seconds).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

GOAL_S = 0.5


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run."""
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')}")
    return elapsed, children_cpu() - cpu


def median_of(argv: Sequence[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    timed(argv, env)  # warm the file cache and .pyc files
    times = [timed(argv, env) for _ in range(runs)]
    return statistics.median(w for w, _ in times), statistics.median(c for _, c in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    cli = [python, "-m", "schoolx.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"SCHOOLX_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        timed([*cli, "db", "upgrade"], env)
        floor, floor_cpu = median_of([python, "-c", "pass"], env, args.runs)
        help_s, help_cpu = median_of([*cli, "--help"], env, args.runs)
        tasks_s, tasks_cpu = median_of([*cli, "tasks"], env, args.runs)
    print(f"median of {args.runs} runs, seconds: wall (cpu)")
    print(f"  python -c pass   {floor:6.3f} ({floor_cpu:.3f})")
    for name, seconds, cpu in (
        ("schoolx --help", help_s, help_cpu),
        ("schoolx tasks", tasks_s, tasks_cpu),
    ):
        over = seconds - floor
        verdict = "ok" if over <= GOAL_S else f"over the {GOAL_S} s goal"
        print(
            f"  {name:<16} {seconds:6.3f} ({cpu:.3f})   +{over:.3f} above python ({verdict}),"
            f" cpu +{cpu - floor_cpu:.3f}"
        )
    print(f"startup help_over_python={help_s - floor:.3f} tasks_over_python={tasks_s - floor:.3f}")


if __name__ == "__main__":
    main()
