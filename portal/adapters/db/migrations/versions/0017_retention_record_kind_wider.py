"""retention_entries.record_kind: 16 characters held no "on_site_arrangements" (20); 32

PostgreSQL refused the retention run's entry for on-site arrangements (SQLite does not
enforce a VARCHAR's length), so a run over an inspection with records seen on site
stopped there.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retention_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "record_kind",
            existing_type=sa.String(length=16),
            type_=sa.String(length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("retention_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "record_kind",
            existing_type=sa.String(length=32),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
