"""Indexes for finding an existing school by postal code or by city on save

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 03:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_schools_postal_code", "schools", ["postal_code"])
    op.create_index("ix_schools_city", "schools", ["city"])


def downgrade() -> None:
    op.drop_index("ix_schools_city", table_name="schools")
    op.drop_index("ix_schools_postal_code", table_name="schools")
