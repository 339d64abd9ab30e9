"""Alembic migrations on SQLite and PostgreSQL: from empty, and from the previous revision."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from models.db import open_database
from models.migrate import (
    alembic_config,
    current_revision,
    ensure_schema,
    head_in_files,
    head_revision,
    upgrade,
)
from pipeline.errors import SchemaError
from schoolx.app import open_app
from tests.conftest import FAST


async def test_empty_database_upgrades_to_head(db_url: str) -> None:
    db = open_database(db_url)
    try:
        assert await current_revision(db) is None
        before, after = await upgrade(db)
        assert (before, after) == (None, head_revision())
        async with db.write.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"tasks", "task_steps", "task_events", "documents", "schools", "users"} <= tables
    finally:
        await db.dispose()


def revision_before_head() -> str:
    down = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision
    assert isinstance(down, str)
    return down


@pytest.mark.parametrize("start", ["0001", revision_before_head()])
async def test_previous_revision_upgrades_and_keeps_data(db_url: str, start: str) -> None:
    db = open_database(db_url)
    try:
        await upgrade(db, start)
        async with db.write.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO tasks (type, status, user_id, payload, progress, attempts, "
                    "max_attempts, cancel_requested, created_at) VALUES "
                    "('pdf_extraction', 'pending', 'old', '{}', 0, 0, 3, false, '2026-01-01')"
                )
            )
        if db.dialect == "postgresql":
            with pytest.raises(SchemaError, match="run `schoolx db upgrade`"):
                await ensure_schema(db)
        assert await upgrade(db) == (start, head_revision())
        async with db.write.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("school_sources")}
            )
            users = (await conn.execute(text("SELECT user_id FROM tasks"))).scalars().all()
        assert "created_school" in columns
        assert users == ["old"]
    finally:
        await db.dispose()
    app = await open_app(db_url, FAST)  # opens cleanly on the upgraded schema
    try:
        assert [t.user_id for t in await app.store.list_tasks()] == ["old"]
        claimed = await app.store.claim("w", 7, app.queue_limits(), 30)
        assert [t.user_id for t in claimed.tasks] == ["old"]  # the claim path works too
    finally:
        await app.close()


def test_the_head_read_off_the_scripts_is_alembics() -> None:
    # ensure_schema trusts it to skip Alembic when the database is current.
    assert head_in_files() == head_revision()


async def test_an_older_sqlite_file_is_upgraded_when_opened(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(db, revision_before_head())
        await ensure_schema(db)
        assert await current_revision(db) == head_revision()
        await ensure_schema(db)  # current: nothing to do
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()
