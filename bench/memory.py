"""Memory and checkpoint size of the whole PDF pipeline on long directory PDFs.

For each size (250, 500 and 1,000 pages by default, ~6 schools a page) this builds a
directory-style PDF with reportlab in a temp dir, queues it with ``schoolx submit`` on a
fresh SQLite database and runs all four stages in a child ``schoolx worker --once``. While
the worker runs, its process tree (the worker, the forkserver and the pypdf pool) is
sampled every 50 ms with psutil; the peak of the summed RSS is what the worker costs.
The per-process kernel high-water marks (VmHWM) are summed too: an upper bound, as the
processes need not peak at the same moment.

Checkpoint bytes are what the task leaves in the database: every ``task_steps.output`` of
the task (its JSON as stored) plus the document's ``pages`` text. Linear growth shows as a
roughly constant bytes/page. The last line is ``peak_rss_mb=<sampled peak, largest size>``.

    .venv/bin/python -m bench.memory [--sizes 250,500,1000] [--per-page 6]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 300.0
SAMPLE_S = 0.05
MB = 1024 * 1024
STAGES = ("text", "extract", "normalize", "save")

_FIRST = (
    *("Adams", "Baker", "Carver", "Dewey", "Edison", "Franklin", "Garfield", "Hamilton"),
    *("Irving", "Jefferson", "Kennedy", "Lincoln", "Madison", "Nixon", "Oakwood", "Pierce"),
    *("Quincy", "Roosevelt", "Sherman", "Truman", "Union", "Vance", "Washington", "Young"),
)
_SECOND = (
    *("Hill", "Park", "Valley", "Ridge", "Lake", "Grove", "Creek", "Meadow", "Harbor"),
    *("Summit", "Prairie", "Forest", "River", "Canyon", "Bay", "Heights"),
)
_KINDS = ("Elementary School", "Middle School", "High School", "Academy", "Charter School")
_GRADES = ("K-5", "6-8", "9-12", "K-8", "PK-5")
_STREETS = ("Main St", "Oak Ave", "Lincoln Blvd", "Maple Dr", "Cedar Ln", "Park Rd")
_TOWN_ENDS = ("ton", "ville", "field", "burg", "port", "wood", "dale")
_STATES = ("IL", "FL", "MI", "OH", "TX")


def school_lines(n: int) -> list[str]:
    """The block of school ``n``: a unique name, street, city line, phone, grades."""
    first = _FIRST[n % len(_FIRST)]
    second = _SECOND[(n // len(_FIRST)) % len(_SECOND)]
    kind = _KINDS[(n // (len(_FIRST) * len(_SECOND))) % len(_KINDS)]
    city = f"{_SECOND[n % len(_SECOND)]}{_TOWN_ENDS[n % len(_TOWN_ENDS)]}"
    state = _STATES[n % len(_STATES)]
    lines = [
        f"{first} {second} {kind}",
        f"{100 + n % 9000} {_STREETS[n % len(_STREETS)]}",
        f"{city}, {state} {10000 + n * 7 % 89999:05d}",
        f"Phone: ({200 + n % 700}) 555-{n % 10000:04d}",
        f"Grades: {_GRADES[n % len(_GRADES)]}",
    ]
    if n % 3 == 0:
        lines.append(f"Website: www.{first.lower()}{second.lower()}{n}.org")
    return lines


def build_pdf(path: Path, pages: int, per_page: int) -> None:
    width, height = letter
    pdf = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    n = 0
    for page in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(72, height - 48, "Statewide School Directory")
        pdf.setFont("Helvetica", 9)
        pdf.drawCentredString(width / 2, 40, f"Page {page} of {pages}")
        y = height - 84
        for _ in range(per_page):
            for i, line in enumerate(school_lines(n)):
                pdf.setFont("Helvetica-Bold" if i == 0 else "Helvetica", 10)
                pdf.drawString(72, y, line)
                y -= 13
            y -= 12
            n += 1
        pdf.showPage()
    pdf.save()


# --- measuring the worker's process tree ---------------------------------------------------


@dataclass
class TreeSampler:
    """Samples the RSS of a process and all its descendants every ``SAMPLE_S`` seconds."""

    pid: int
    peak_sum: int = 0  # the largest sum of RSS over the tree seen in one sample
    peak_procs: int = 0
    peak_root: int = 0  # the worker's own RSS in the peak sample (the rest is its pool)
    hwm: dict[int, int] = field(default_factory=dict)  # pid -> its VmHWM (or largest RSS)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            self.sample(root)
            self._stop.wait(SAMPLE_S)

    def sample(self, root: psutil.Process) -> None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = root_rss = 0
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                rss = int(proc.memory_info().rss)
                total += rss
                root_rss = rss if proc.pid == self.pid else root_rss
                self.hwm[proc.pid] = max(self.hwm.get(proc.pid, 0), rss, _vm_hwm(proc.pid))
        self.samples += 1
        if total > self.peak_sum:
            self.peak_sum, self.peak_procs, self.peak_root = total, len(procs), root_rss

    @property
    def hwm_sum(self) -> int:
        return sum(self.hwm.values())


def _vm_hwm(pid: int) -> int:
    """The kernel's peak resident set of ``pid`` (Linux), else 0."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --- one run ---------------------------------------------------------------------------


@dataclass
class Run:
    pages: int
    pdf_bytes: int
    wall_s: float
    peak_rss: int
    peak_worker: int
    hwm_sum: int
    processes: int
    samples: int
    result: dict[str, Any]
    step_bytes: Counter[str]
    page_bytes: int
    stage_s: dict[str, float]

    @property
    def checkpoint_bytes(self) -> int:
        return sum(self.step_bytes.values()) + self.page_bytes


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SCHOOLX_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


def schoolx(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "schoolx.cli", "--db", url, *args]


def run_one(tmp: Path, pages: int, per_page: int) -> Run:
    pdf = tmp / f"directory_{pages}.pdf"
    build_pdf(pdf, pages, per_page)
    db = tmp / f"bench_{pages}.db"
    url = f"sqlite:///{db}"
    env = child_env()
    out = subprocess.run(
        schoolx(url, "submit", str(pdf), "--extractor", "rules", "--json"),
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    submitted = json.loads(out.stdout)[0]
    started = time.perf_counter()
    with (
        subprocess.Popen(
            schoolx(url, "worker", "--once"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ) as worker,
        TreeSampler(worker.pid) as sampler,
    ):
        _, err = worker.communicate(timeout=1800)
    wall = time.perf_counter() - started
    if worker.returncode != 0:
        raise SystemExit(f"worker failed ({worker.returncode}):\n{err.decode()[-3000:]}")
    result, step_bytes, page_bytes, stage_s = read_back(
        db, submitted["task"], submitted["document"]
    )
    return Run(
        pages=pages,
        pdf_bytes=pdf.stat().st_size,
        wall_s=wall,
        peak_rss=sampler.peak_sum,
        peak_worker=sampler.peak_root,
        hwm_sum=sampler.hwm_sum,
        processes=sampler.peak_procs,
        samples=sampler.samples,
        result=result,
        step_bytes=step_bytes,
        page_bytes=page_bytes,
        stage_s=stage_s,
    )


def read_back(
    db: Path, task_id: int, document_id: int
) -> tuple[dict[str, Any], Counter[str], int, dict[str, float]]:
    """The task's result, its stored step bytes by kind, its pages' text bytes, and how
    long each stage took (from the task's start and the stages' checkpoint times)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        status, result, started_at = conn.execute(
            "SELECT status, result, started_at FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
        if status != "completed":
            raise SystemExit(f"task {task_id} ended {status}")
        steps: Counter[str] = Counter()
        ends: dict[str, datetime] = {}
        for name, size, created_at in conn.execute(
            "SELECT name, length(CAST(output AS BLOB)), created_at FROM task_steps "
            "WHERE task_id = ?",
            (task_id,),
        ):
            kind = "chunks" if name.startswith("extract/chunk/") else name.split("/")[0]
            steps[kind] += size
            if "/" not in name:
                ends[name] = datetime.fromisoformat(created_at)
        (page_bytes,) = conn.execute(
            "SELECT coalesce(sum(length(CAST(text AS BLOB))), 0) FROM pages WHERE document_id = ?",
            (document_id,),
        ).fetchone()
    stage_s: dict[str, float] = {}
    previous = datetime.fromisoformat(started_at)
    for stage in STAGES:
        stage_s[stage] = (ends[stage] - previous).total_seconds()
        previous = ends[stage]
    return json.loads(result), steps, int(page_bytes), stage_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000", help="page counts, comma-separated")
    parser.add_argument("--per-page", type=int, default=6, help="schools per page")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="schoolx-memory-") as tmp:
        for pages in sizes:
            run = run_one(Path(tmp), pages, args.per_page)
            runs.append(run)
            r = run.result
            print(
                f"{run.pages} pages ({run.pdf_bytes / MB:.1f} MB PDF): "
                f"{r['schools_found']} schools found, saved {r['saved']}, "
                f"merged {r['merged']}, wall {run.wall_s:.1f}s "
                f"({run.pages / run.wall_s:.0f} pages/s)"
            )
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in run.stage_s.items())
            print(f"  stages: {stages}")
            print(
                f"  peak RSS worker + pool: {run.peak_rss / MB:.0f} MB "
                f"(worker {run.peak_worker / MB:.0f} MB + pool "
                f"{(run.peak_rss - run.peak_worker) / MB:.0f} MB) "
                f"({run.processes} processes, {run.samples} samples @ {SAMPLE_S * 1000:.0f} ms); "
                f"sum of per-process peaks {run.hwm_sum / MB:.0f} MB"
            )
    print()
    print("checkpoint bytes (task_steps.output JSON + pages text):")
    kinds = sorted({k for run in runs for k in run.step_bytes})
    for run in runs:
        parts = ", ".join(f"{k} {run.step_bytes[k] / 1024:.0f} KiB" for k in kinds)
        print(
            f"  {run.pages:>5} pages: steps {sum(run.step_bytes.values()) / 1024:.0f} KiB "
            f"({parts}) + pages {run.page_bytes / 1024:.0f} KiB "
            f"= {run.checkpoint_bytes / 1024:.0f} KiB, "
            f"{run.checkpoint_bytes / run.pages:.0f} bytes/page"
        )
    per_page = [run.checkpoint_bytes / run.pages for run in runs]
    spread = (max(per_page) - min(per_page)) / min(per_page)
    print(f"  bytes/page spread across sizes: {spread:.1%} (linear growth => small)")
    largest = max(runs, key=lambda run: run.pages)
    peak_mb = largest.peak_rss / MB
    verdict = "OK" if peak_mb < TARGET_MB else "OVER TARGET"
    print(
        f"{largest.pages} pages: peak RSS {peak_mb:.0f} MB, target < {TARGET_MB:.0f} MB: {verdict}"
    )
    print(f"peak_rss_mb={peak_mb:.1f}")


if __name__ == "__main__":
    main()
