"""Register the PDF handler on an App and own its process pool and extractors."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from handlers.extractors import Extractors
from handlers.pdf import TASK_TYPE, PdfHandler
from handlers.settings import PdfSettings
from handlers.text import make_text_pool
from models.documents import DocumentStore
from models.schools import SchoolStore
from pipeline.app import App

T = TypeVar("T")


class LazyPool(Executor):
    """The pypdf process pool, started on first use: commands that never read a PDF
    (``schoolx tasks``) do not pay for starting processes."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if self._pool is None:
            self._pool = make_text_pool(self._workers)
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            # A child died (out of memory, a crash in C code): start a fresh pool rather
            # than failing every later PDF of this process.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = make_text_pool(self._workers)
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
            self._pool = None


def install_pdf_handler(app: App, settings: PdfSettings | None = None) -> PdfHandler:
    settings = settings or PdfSettings.from_env()
    pool = LazyPool(settings.text_workers)
    extractors = Extractors(app.db, pool, settings.page_timeout_s)
    handler = PdfHandler(DocumentStore(app.db), SchoolStore(app.db), extractors, pool, settings)
    app.handlers.register(TASK_TYPE, handler)

    async def close() -> None:
        await extractors.aclose()
        pool.shutdown(wait=True, cancel_futures=True)

    app.on_close.append(close)
    return handler
