"""Wiring: one object that owns the database, store, queue, event hub and handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from models.db import Database, default_url, open_database, require_database
from models.queue_store import SqlQueueStore
from pipeline.events import EventHub
from pipeline.handlers import HandlerRegistry
from pipeline.queue import TaskQueue
from pipeline.settings import QueueSettings
from pipeline.store import Limits
from pipeline.worker import Worker


@dataclass
class App:
    db: Database
    store: SqlQueueStore
    hub: EventHub
    queue: TaskQueue
    handlers: HandlerRegistry
    settings: QueueSettings
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def queue_limits(self, *, total: int | None = None, per_user: int | None = None) -> Limits:
        return Limits(
            total or self.settings.max_processing,
            per_user or self.settings.max_processing_per_user,
        )

    def new_worker(self) -> Worker:
        worker = Worker(self.store, self.handlers, self.settings, self.hub)
        self.queue.attach(worker)
        return worker

    async def close(self) -> None:
        """Run every close step even when one fails (a full disk fails several): a database
        left undisposed leaves aiosqlite threads that print tracebacks after the loop ends.
        The first failure is raised once all steps ran."""
        first: BaseException | None = None
        for step in [*reversed(self.on_close), self.store.close, self.db.dispose]:
            try:
                await step()
            except Exception as exc:
                first = first or exc
        if first is not None:
            raise first


async def open_app(
    url: str | None = None, settings: QueueSettings | None = None, *, existing: bool = False
) -> App:
    """Open (and create on first use, unless ``existing``) the database at ``url``; the
    default is a SQLite file."""
    settings = settings or QueueSettings.from_env()
    url = url or default_url()
    if existing:
        require_database(url)
    db = open_database(url)
    hub = EventHub()
    store = SqlQueueStore(db, on_events=hub.publish)
    await store.create_schema()
    queue = TaskQueue(store, settings, hub)
    app = App(db, store, hub, queue, HandlerRegistry(), settings)
    if db.dialect == "postgresql":
        await _listen(app)
    return app


async def _listen(app: App) -> None:
    from models.pg_listen import PgListener

    def on_note(note: str) -> None:
        if note.startswith("cancel:"):
            app.queue.cancel_local(int(note.split(":", 1)[1]))
        app.hub.publish([], new_work=note == "work")

    listener = PgListener(app.db.url, on_note)
    await listener.start()
    app.on_close.append(listener.close)
