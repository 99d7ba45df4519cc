"""documents: which clamd engine and signatures judged each, and when it was scanned

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scan_engine", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("scan_signatures", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("scan_signatures_date", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("scanned_at")
        batch_op.drop_column("scan_signatures_date")
        batch_op.drop_column("scan_signatures")
        batch_op.drop_column("scan_engine")
