"""What every command opens: the App with the PDF handler, and the domain stores.

Everything below is imported where it is first used: a command that lists tasks opens the
queue tables and nothing else, so it starts without SQLAlchemy's ORM models of schools,
pypdf or the OpenAI client (``tests/unit/test_startup.py``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError
from schoolx.cli import startup

if TYPE_CHECKING:
    from handlers.submit import Submission
    from models.documents import DocumentStore
    from models.schools import SchoolStore
    from schoolx.app import App


class Runtime:
    def __init__(self, app: App) -> None:
        self.app = app

    @functools.cached_property
    def documents(self) -> DocumentStore:
        from models.documents import DocumentStore

        return DocumentStore(self.app.db)

    @functools.cached_property
    def schools(self) -> SchoolStore:
        from models.schools import SchoolStore

        return SchoolStore(self.app.db)

    async def submit(self, data: bytes, name: str, user_id: str, extractor: str) -> Submission:
        from handlers.submit import submit_pdf

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
    db_url: str | None,
    plugins: Sequence[str] = (),
    *,
    existing: bool = False,
    runs_tasks: bool | None = None,
) -> AsyncIterator[Runtime]:
    """``existing``: for commands that look at or change what is there, never create.
    ``runs_tasks`` (default: not ``existing``): install the PDF handler, for a worker;
    without it the runtime can queue, list and cancel tasks but not run them."""
    from schoolx.app import open_app

    if runs_tasks is None:
        runs_tasks = not existing
    app = await open_app(db_url, existing=existing)
    try:
        if runs_tasks:
            from schoolx.install import install_pdf_handler

            install_pdf_handler(app)
        load_plugins(app, plugins)
        startup.started()
        yield Runtime(app)
    finally:
        await app.close()
