"""Schema versions with Alembic: upgrade, and a clear message when the code is ahead.

An empty database is brought to the current schema on first use (SQLite and PostgreSQL).
An older SQLite file upgrades itself; an older PostgreSQL database, shared by workers on
several machines, is upgraded only on request (``schoolx db upgrade``), so that one new
worker never changes the schema under the feet of older ones.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

import migrations
from models.db import Database
from pipeline.errors import SchemaError

MIGRATE_LOCK_KEY = 0x5C0013


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(conn: Connection) -> tuple[str | None, bool]:
    """(revision, whether any schoolx table exists)."""
    revision = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    return revision, bool(tables)


async def current_revision(db: Database) -> str | None:
    async with db.write.connect() as conn:
        revision, _ = await conn.run_sync(_current)
    return revision


async def upgrade(db: Database, target: str = "head") -> tuple[str | None, str]:
    """Upgrade to ``target``; returns (from, to). Concurrent callers take turns."""
    async with db.write.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_LOCK_KEY})
        before, _ = await conn.run_sync(_current)
        await conn.run_sync(_run_upgrade, target)
        after, _ = await conn.run_sync(_current)
    assert after is not None
    return before, after


def _run_upgrade(conn: Connection, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)


async def ensure_schema(db: Database) -> None:
    async with db.write.connect() as conn:
        revision, has_tables = await conn.run_sync(_current)
    head = head_revision()
    if revision == head:
        return
    if revision is None and has_tables:
        raise SchemaError(
            "the database has schoolx tables but no schema version; it was made by a "
            "development build: start from a new database"
        )
    if revision is None or db.dialect == "sqlite":
        await upgrade(db)
        return
    raise SchemaError(
        f"the database schema is at revision {revision} but this schoolx needs {head}: "
        "run `schoolx db upgrade` (once, from any machine)"
    )
