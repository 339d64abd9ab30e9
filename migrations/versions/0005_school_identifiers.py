"""Official identifiers per school (UDISE, NCES, INEP, ... by scheme); wider grades

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:40:00

``schools.identifiers`` holds {scheme: value} as printed by the documents ("udise":
"33300100101"). ``grades`` widens from 16 to 64 characters: a level printed without a span
("Hr.Sec School", "Ensino Fundamental") is kept as printed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.add_column(
            sa.Column("identifiers", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.alter_column(
            "grades", existing_type=sa.String(16), type_=sa.String(64), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.alter_column(
            "grades", existing_type=sa.String(64), type_=sa.String(16), existing_nullable=True
        )
        batch.drop_column("identifiers")
