"""``schoolx db upgrade|current``: schema migrations (Alembic) on SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from schoolx.cli import startup
from schoolx.cli.common import command, state
from schoolx.cli.output import line
from schoolx.cli.runtime import open_runtime

db_app = typer.Typer(help="Database schema: upgrade it, or show its revision.")


@db_app.command("upgrade")
@command
async def upgrade_cmd() -> None:
    """Bring the database schema up to this version of schoolx (safe to run twice)."""
    from models.db import default_url, open_database
    from models.migrate import upgrade

    db = open_database(state.db_url or default_url())
    startup.started()  # a migration can run long: collect as usual (schoolx/cli/startup.py)
    try:
        before, after = await upgrade(db)
    finally:
        await db.dispose()
    if before == after:
        line(f"schema already at revision {after}")
    else:
        line(f"schema upgraded from {before or 'empty'} to {after}")


@db_app.command("current")
@command
async def current_cmd() -> None:
    """Show the schema revision of the database and the one this code needs."""
    from models.db import default_url, open_database, require_database
    from models.migrate import current_revision, head_revision

    url = state.db_url or default_url()
    require_database(url)
    db = open_database(url)
    try:
        revision = await current_revision(db)
    finally:
        await db.dispose()
    line(f"database: {revision or 'empty'}; this schoolx needs: {head_revision()}")


@db_app.command("prune")
@command
async def prune_cmd(
    older_than: Annotated[
        float, typer.Option("--older-than", min=0, help="Days since the task ended.")
    ],
) -> None:
    """Delete tasks that ended more than DAYS ago, with their steps and events (documents
    and schools stay; the same bytes submitted again are processed again)."""
    from models.base import utcnow
    from models.prune import prune_finished

    async with open_runtime(state.db_url, existing=True) as rt:
        pruned = await prune_finished(rt.app.db, utcnow() - timedelta(days=older_than))
    line(f"pruned {pruned.tasks} tasks, {pruned.steps} steps, {pruned.events} events")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
