"""What every command opens: the App with the PDF handler, and the domain stores."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from handlers.submit import Submission, submit_pdf
from models.documents import DocumentStore
from models.schools import SchoolStore
from pipeline.errors import ConfigError
from schoolx.app import App, open_app
from schoolx.install import install_pdf_handler


@dataclass
class Runtime:
    app: App
    documents: DocumentStore
    schools: SchoolStore

    async def submit(self, data: bytes, name: str, user_id: str, extractor: str) -> Submission:
        return await submit_pdf(
            self.app.queue, self.documents, data, name, user_id=user_id, extractor=extractor
        )


def load_plugins(app: App, modules: Sequence[str]) -> None:
    """A plugin module registers extra task types: ``register(registry)``."""
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"cannot import plugin {name!r}: {exc}") from exc
        register = getattr(module, "register", None)
        if register is None:
            raise ConfigError(f"plugin {name!r} has no register(registry) function")
        register(app.handlers)


@contextlib.asynccontextmanager
async def open_runtime(
    db_url: str | None, plugins: Sequence[str] = (), *, existing: bool = False
) -> AsyncIterator[Runtime]:
    """``existing``: for commands that look at or change what is there, never create."""
    app = await open_app(db_url, existing=existing)
    try:
        install_pdf_handler(app)
        load_plugins(app, plugins)
        yield Runtime(app, DocumentStore(app.db), SchoolStore(app.db))
    finally:
        await app.close()
