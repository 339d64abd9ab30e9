"""Benchmark stage 1: plain single-process pypdf against ``extract_text`` over a process pool.

Builds a batch of directory-style PDFs with reportlab in a temp dir, extracts every page
both ways in the same run and prints pages/s for each. The last line is ``ratio=<pool/plain>``.

    .venv/bin/python -m bench.text [--files 12] [--pages 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from pathlib import Path

import psutil
from pypdf import PdfReader
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from handlers.text import (
    TextResult,
    count_pages,
    extract_page_range,
    make_text_pool,
    require_text,
)

_STREETS = ("Main St", "Oak Ave", "Lincoln Blvd", "Maple Dr", "Cedar Ln", "Park Rd")
_KINDS = ("Elementary School", "Middle School", "High School", "Academy", "Charter School")


def _entry(file: int, page: int, row: int) -> list[str]:
    n = file * 10_000 + page * 100 + row
    return [
        f"{('Adams', 'Baker', 'Carver', 'Dewey', 'Edison')[n % 5]} {_KINDS[n % 5]} #{n}",
        f"{100 + n % 900} {_STREETS[n % 6]}, Springfield, IL 6{n % 10000:04d}",
        f"Phone: (217) 555-{n % 10000:04d}   Grades: K-{5 + n % 8}   www.school{n}.org",
    ]


def build_pdf(path: Path, file: int, pages: int) -> None:
    pdf = canvas.Canvas(str(path), pagesize=letter)
    for page in range(pages):
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(40, 760, f"Directory of Schools — page {page + 1}")
        y = 730
        for row in range(18):
            for i, line in enumerate(_entry(file, page, row)):
                pdf.setFont("Helvetica-Bold" if i == 0 else "Helvetica", 9)
                pdf.drawString(40, y, line)
                y -= 11
            y -= 6
        pdf.showPage()
    pdf.save()


def plain(files: list[bytes]) -> int:
    pages = 0
    for data in files:
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages:
            page.extract_text()
            pages += 1
    return pages


async def pooled(files: list[bytes], pool: Executor) -> int:
    results = await asyncio.gather(
        *(pooled_text(data, f"bench{i}.pdf", pool) for i, data in enumerate(files))
    )
    return sum(len(r.pages) for r in results)


def _peak_rss(process: psutil.Process) -> int:
    """The process's peak resident set (Linux VmHWM), else its current RSS."""
    try:
        with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(process.memory_info().rss)


def peak_rss_mib() -> tuple[float, float]:
    """Peak RSS of this process and the sum over its live children, in MiB.

    Read from the kernel's high-water marks rather than sampled, so measuring costs
    nothing while the benchmark runs.
    """
    me = psutil.Process()
    children = sum(_peak_rss(child) for child in me.children(recursive=True))
    return _peak_rss(me) / 2**20, children / 2**20


def _time_plain(files: list[bytes]) -> tuple[int, float]:
    started = time.perf_counter()
    pages = plain(files)
    return pages, time.perf_counter() - started


def _time_pool(files: list[bytes], pool: Executor) -> tuple[int, float]:
    started = time.perf_counter()
    pages = asyncio.run(pooled(files, pool))
    return pages, time.perf_counter() - started


def _merge(parts: list[TextResult], count: int) -> TextResult:
    pages = tuple(page for part in parts for page in part.pages)
    messages = [m for part in parts for m in part.warnings]
    return TextResult(pages=pages, warnings=tuple(dict.fromkeys(messages)), page_count=count)


async def pooled_text(
    data: bytes,
    filename: str,
    pool: Executor,
    *,
    pages_per_job: int = 25,
    on_progress: Callable[[int, int], Awaitable[None]] | None = None,
    page_timeout_s: float = 20.0,
    max_content_bytes: int = 20_000_000,
) -> TextResult:
    """``extract_pages`` split into jobs of ``pages_per_job`` pages over ``pool``.

    ``on_progress(pages_done, total)`` is awaited as each job finishes (in completion order);
    the result lists pages in document order.
    """
    if pages_per_job < 1:
        raise ValueError("pages_per_job must be at least 1")
    loop = asyncio.get_running_loop()
    # Validation parses the whole xref; do it in the pool so the event loop stays free.
    total = await loop.run_in_executor(pool, count_pages, data, filename)
    job = functools.partial(
        extract_page_range,
        data,
        filename,
        page_timeout_s=page_timeout_s,
        max_content_bytes=max_content_bytes,
    )
    futures = [
        loop.run_in_executor(pool, job, start, min(start + pages_per_job, total))
        for start in range(0, total, pages_per_job)
    ]
    try:
        done = 0
        for finished in asyncio.as_completed(futures):
            done += len((await finished).pages)
            if on_progress is not None:
                await on_progress(done, total)
    except BaseException:
        for future in futures:
            future.cancel()  # drop jobs not yet started; running ones finish on their own
        raise
    result = _merge([f.result() for f in futures], total)
    require_text(result, filename)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds, best of each")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"bench{i}.pdf" for i in range(args.files)]
        for i, path in enumerate(paths):
            build_pdf(path, i, args.pages)
        files = [p.read_bytes() for p in paths]
    print(f"{args.files} files x {args.pages} pages, {sum(map(len, files)) // 1024} KiB")

    plain(files[:1])  # warm imports and caches so neither side pays for them
    plain_runs: list[tuple[int, float]] = []
    pool_runs: list[tuple[int, float]] = []
    with make_text_pool(args.workers) as pool:
        started = time.perf_counter()
        asyncio.run(pooled(files[:1], pool))  # start the workers
        print(f"pool start + warm-up {time.perf_counter() - started:.2f}s (not counted)")
        # Alternate the two so a burst of load from other processes hits both alike.
        for round_no in range(1, args.rounds + 1):
            plain_runs.append(_time_plain(files))
            pool_runs.append(_time_pool(files, pool))
            print(
                f"  round {round_no}: plain {plain_runs[-1][1]:.2f}s, pool {pool_runs[-1][1]:.2f}s"
            )
        parent_mib, children_mib = peak_rss_mib()
    pages, plain_s = min(plain_runs, key=lambda run: run[1])
    plain_rate = pages / plain_s
    print(f"plain pypdf, 1 process: {pages} pages in {plain_s:.2f}s = {plain_rate:.1f} pages/s")
    pages, pool_s = min(pool_runs, key=lambda run: run[1])
    pool_rate = pages / pool_s
    print(
        f"extract_text, {args.workers}-process pool: {pages} pages in {pool_s:.2f}s "
        f"= {pool_rate:.1f} pages/s"
    )
    print(
        f"peak RSS: parent {parent_mib:.0f} MiB + pool workers {children_mib:.0f} MiB "
        f"= {parent_mib + children_mib:.0f} MiB (per-process high-water marks)"
    )
    print(f"ratio={pool_rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()
