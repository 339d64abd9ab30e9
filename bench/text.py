"""Benchmark stage 1: plain single-process pypdf against ``extract_text`` over a process pool.

Builds a batch of directory-style PDFs with reportlab in a temp dir, extracts every page
both ways in the same run and prints pages/s for each. The last line is ``ratio=<pool/plain>``.

    .venv/bin/python -m bench.text [--files 12] [--pages 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import psutil
from pypdf import PdfReader
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from handlers.text import extract_text, make_text_pool

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
        *(extract_text(data, f"bench{i}.pdf", pool) for i, data in enumerate(files))
    )
    return sum(len(r.pages) for r in results)


@dataclass
class PeakRss:
    """Samples the RSS of this process plus its children in a background thread."""

    interval_s: float = 0.02
    peak: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:  # a child exited between listing and reading it
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"bench{i}.pdf" for i in range(args.files)]
        for i, path in enumerate(paths):
            build_pdf(path, i, args.pages)
        files = [p.read_bytes() for p in paths]
    print(f"{args.files} files x {args.pages} pages, {sum(map(len, files)) // 1024} KiB")

    plain(files[:1])  # warm imports and caches so neither side pays for them
    with PeakRss() as rss:
        started = time.perf_counter()
        pages = plain(files)
        plain_s = time.perf_counter() - started
    plain_rate = pages / plain_s
    print(f"plain pypdf, 1 process: {pages} pages in {plain_s:.2f}s = {plain_rate:.1f} pages/s")
    print(f"  peak RSS {rss.peak / 2**20:.0f} MiB")

    with make_text_pool(args.workers) as pool:
        started = time.perf_counter()
        asyncio.run(pooled(files[:1], pool))  # start the workers
        warm_s = time.perf_counter() - started
        with PeakRss() as rss:
            started = time.perf_counter()
            pages = asyncio.run(pooled(files, pool))
            pool_s = time.perf_counter() - started
    pool_rate = pages / pool_s
    print(
        f"extract_text, {args.workers}-process pool: {pages} pages in {pool_s:.2f}s "
        f"= {pool_rate:.1f} pages/s (pool start + warm-up {warm_s:.2f}s, not counted)"
    )
    print(f"  peak RSS parent+children {rss.peak / 2**20:.0f} MiB")
    print(f"ratio={pool_rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()
