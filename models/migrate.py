"""Schema versions with Alembic: upgrade, and a clear message when the code is ahead.

An empty database is brought to the current schema on first use (SQLite and PostgreSQL).
An older SQLite file upgrades itself; an older PostgreSQL database, shared by workers on
several machines, is upgraded only on request (``schoolx db upgrade``), so that one new
worker never changes the schema under the feet of older ones.

Every command opens the database through ``ensure_schema``, and nearly always finds it
current: that is checked with one query against the newest revision read off the migration
files, and Alembic (a tenth of a second to import, more to load the scripts) is imported
only when there is something to do or to explain.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError

import migrations
from models.db import Database
from pipeline.errors import SchemaError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATE_LOCK_KEY = 0x5C0013
VERSIONS = Path(migrations.__file__).parent / "versions"
_REVISION = re.compile(r"^revision(?:\s*:[^=]*)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=]*)?\s*=(.*)$", re.M)


def head_in_files() -> str | None:
    """The head revision from the migration scripts' ``revision``/``down_revision`` lines,
    without Alembic; None when a script does not read plainly or there is not one head
    (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision[1])
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down[1]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _stored_revision(db: Database) -> str | None:
    """The database's revision, or None if it has none (or no version table yet)."""
    try:
        async with db.read.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(conn: Connection) -> tuple[str | None, bool]:
    """(revision, whether any schoolx table exists)."""
    from alembic.runtime.migration import MigrationContext

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
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)


async def ensure_schema(db: Database) -> None:
    head = head_in_files()
    if head is not None and await _stored_revision(db) == head:
        return
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
