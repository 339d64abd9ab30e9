"""Register the PDF handler on an App and own its process pool and extractors."""

from __future__ import annotations

from handlers.extractors import Extractors
from handlers.pdf import TASK_TYPE, PdfHandler
from handlers.pool import KillablePool
from handlers.settings import PdfSettings
from models.documents import DocumentStore
from models.schools import SchoolStore
from schoolx.app import App


def install_pdf_handler(app: App, settings: PdfSettings | None = None) -> PdfHandler:
    settings = settings or PdfSettings.from_env()
    pool = KillablePool(settings.text_workers)
    extractors = Extractors(app.db, pool, settings.page_timeout_s)
    handler = PdfHandler(DocumentStore(app.db), SchoolStore(app.db), extractors, pool, settings)
    app.handlers.register(TASK_TYPE, handler)

    async def close() -> None:
        await extractors.aclose()
        pool.shutdown(wait=True, cancel_futures=True)

    app.on_close.append(close)
    return handler
