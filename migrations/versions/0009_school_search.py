"""School search: normalized words per school, indexed by each database

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:20:00

``schools.search_text`` holds the words a school is found by (``models.school_search``),
computed here for every school there is. SQLite indexes it with an FTS5 table whose rows
triggers keep equal to the column (a later migration that rebuilds ``schools`` in batch
mode must create the triggers again); PostgreSQL with a GIN index on its ``simple``
tsvector, which needs no trigger.
"""

from __future__ import annotations

import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from models.school_search import PLACES, search_text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE school_search USING fts5("
    "search_text, content='schools', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER school_search_insert AFTER INSERT ON schools BEGIN "
    "INSERT INTO school_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER school_search_delete AFTER DELETE ON schools BEGIN "
    "INSERT INTO school_search(school_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER school_search_update AFTER UPDATE OF search_text ON schools BEGIN "
    "INSERT INTO school_search(school_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO school_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO school_search(school_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER school_search_update",
    "DROP TRIGGER school_search_delete",
    "DROP TRIGGER school_search_insert",
    "DROP TABLE school_search",
]
PG_UP = [
    "CREATE INDEX ix_schools_search ON schools "
    "USING gin (to_tsvector('simple', coalesce(search_text, '')))"
]
PG_DOWN = ["DROP INDEX ix_schools_search"]


def _fill(conn: sa.Connection) -> None:
    """Every school's words from its own values, its aliases and its sources' records."""
    names: dict[int, list[str]] = defaultdict(list)
    for school_id, name in conn.execute(sa.text("SELECT school_id, name FROM school_aliases")):
        names[school_id].append(name)
    records = sa.text("SELECT school_id, record FROM school_sources")
    for school_id, record in conn.execute(records):
        values = (json.loads(record) if isinstance(record, str) else record) or {}
        names[school_id] += [str(values.get(k) or "") for k in ("name", *PLACES)]
    rows = conn.execute(sa.text("SELECT id, name, address, city, district FROM schools"))
    update = sa.text("UPDATE schools SET search_text = :text WHERE id = :id")
    batch = [
        {"id": r.id, "text": search_text(r.name, (r.address, r.city, r.district), names[r.id])}
        for r in rows
    ]
    if batch:
        conn.execute(update, batch)


def upgrade() -> None:
    op.add_column("schools", sa.Column("search_text", sa.Text(), nullable=True))
    conn = op.get_bind()
    _fill(conn)
    for statement in PG_UP if conn.dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    for statement in PG_DOWN if conn.dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("search_text")
