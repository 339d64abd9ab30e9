"""Indexes for lists of schools by name

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:30:00

Every list of schools (API, page, CLI) is ordered by name and counted: without an index
SQLite sorted the whole table for each page (23 ms at 100,000 schools, 840 ms for a page
deep in the list) and counted by reading every row (17 ms). ``(name, id)`` lets a page walk
the index and stop; ``(status, name, id)`` counts without reading rows and serves the
lists of one status (pending schools for review) already in order.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_schools_name_id", "schools", ["name", "id"])
    op.create_index("ix_schools_status_name_id", "schools", ["status", "name", "id"])


def downgrade() -> None:
    op.drop_index("ix_schools_status_name_id", table_name="schools")
    op.drop_index("ix_schools_name_id", table_name="schools")
