"""documents: what the API's scan on arrival found, with which signatures and when

Kept apart from scan_engine/scan_signatures/scan_signatures_date/scanned_at (0018), which
are the deciding verdict's and are cleared when a run fails: the worker reads these to
skip clamd for a document scanned clean at upload, and records them as its verdict's.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_scan_verdict", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("upload_scan_engine", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("upload_scan_signatures", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("upload_scan_signatures_date", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("upload_scanned_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("upload_scanned_at")
        batch_op.drop_column("upload_scan_signatures_date")
        batch_op.drop_column("upload_scan_signatures")
        batch_op.drop_column("upload_scan_engine")
        batch_op.drop_column("upload_scan_verdict")
