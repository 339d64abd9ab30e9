"""school_keys without its index on school_id

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:40:00

Keys are removed by primary key, from the school's stored facts (``models.school_index.
drop_keys``); the index on ``school_id`` only cost every save a second insert per key.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school_keys") as batch:
        batch.drop_index("ix_school_keys_school_id")


def downgrade() -> None:
    with op.batch_alter_table("school_keys") as batch:
        batch.create_index("ix_school_keys_school_id", ["school_id"])
