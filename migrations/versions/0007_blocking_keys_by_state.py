"""Blocking keys by state; the old matcher's lookup indexes on schools dropped

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:50:00

A record's name is looked up among the schools of its state (and those whose state was
never printed) instead of everywhere (``domain.matching.blocking``); every school's keys
are computed again from its stored facts (``models.school_index.rekey``). The indexes
the matcher before 0006 looked schools up by (match key, postal code, city, region with
either) serve nothing now that it uses ``school_keys``, and cost every insert.
"""

from __future__ import annotations

from alembic import op

import sqlalchemy as sa

from models.school_index import rekey

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


OLD_INDEXES = {
    "ix_schools_match_key": ["match_key"],
    "ix_schools_region_postal": ["region", "postal_code"],
    "ix_schools_region_city": ["region", "city"],
    "ix_schools_postal_code": ["postal_code"],
    "ix_schools_city": ["city"],
}


def upgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        for name in OLD_INDEXES:
            batch.drop_index(name)
    rekey(op.get_bind())


def downgrade() -> None:
    # The older code finds schools by the keys it knows; the new ones are ignored.
    with op.batch_alter_table("schools") as batch:
        for name, columns in OLD_INDEXES.items():
            batch.create_index(name, columns)
