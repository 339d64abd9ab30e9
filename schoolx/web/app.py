"""The FastAPI application: runtime and queue worker in the lifespan, routes, middleware."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from handlers.settings import PdfSettings
from models.users import UserStore
from pipeline.errors import StoreError
from schoolx.cli.runtime import Runtime, open_runtime
from schoolx.web import (
    routes_docs,
    routes_documents,
    routes_duplicates,
    routes_events,
    routes_pages,
    routes_review_pages,
    routes_schools,
    routes_tasks,
)
from schoolx.web.deps import WebState
from schoolx.web.errors import install_error_handlers
from schoolx.web.security import SecurityHeaders, UploadLimit
from schoolx.web.upload_guard import UploadGuard

log = logging.getLogger("schoolx.web")

STATIC = Path(__file__).resolve().parent / "static"


@contextlib.asynccontextmanager
async def background_worker(rt: Runtime) -> AsyncIterator[None]:
    """Run a queue worker beside the server; on exit, stop it and let it finish gracefully
    (running tasks get the grace period, then go back to pending for the next worker)."""
    stop = asyncio.Event()
    task = asyncio.create_task(rt.app.new_worker().run(stop), name="schoolx-worker")
    try:
        yield
    finally:
        stop.set()
        try:
            await task
        except StoreError as exc:  # the database failed for good (read-only, disk full)
            log.error("the queue worker stopped: %s", exc)
        except Exception:
            log.exception("the queue worker failed")


def request_shutdown(app: FastAPI) -> None:
    """End open event streams; call from any thread when the server starts to stop."""
    web: WebState | None = getattr(app.state, "web", None)
    if web is not None:
        web.loop.call_soon_threadsafe(web.closing.set)


def create_app(db_url: str | None, *, start_worker: bool = True) -> FastAPI:
    """The web app on the database at ``db_url`` (None: the default SQLite file)."""
    pdf = PdfSettings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(db_url) as rt:
            keepalive_s = rt.app.settings.sse_keepalive_s
            app.state.web = WebState(rt, UserStore(rt.app.db), pdf, keepalive_s)
            if not start_worker:
                yield
                return
            async with background_worker(rt):
                yield

    app = FastAPI(
        title="schoolx",
        summary="Turn PDFs that list schools into a reviewed database of schools.",
        lifespan=lifespan,
        docs_url=None,  # served by routes_docs without a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    for module in (
        routes_documents,
        routes_tasks,
        routes_events,
        routes_schools,
        routes_duplicates,
        routes_pages,
        routes_review_pages,
        routes_docs,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(routes_docs.ASSETS_URL, StaticFiles(directory=routes_docs.ASSETS), name="docs")
    app.add_middleware(UploadLimit, path="/documents", max_file_bytes=pdf.max_upload_bytes)
    app.add_middleware(  # outside UploadLimit: a 401 before the body is even counted
        UploadGuard,
        path="/documents",
        idle_s=pdf.upload_idle_timeout_s,
        total_s=pdf.upload_timeout_s,
    )
    app.add_middleware(SecurityHeaders)  # added last: outermost, so it also covers 413s
    return app
