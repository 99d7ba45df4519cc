"""scan_verdicts: what each signature version said of some bytes, so a rescan scans
identical bytes once per version; documents indexed by status and signatures, so a rescan
finds those judged under other signatures

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_verdicts",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("scan_engine", sa.String(length=32), nullable=False),
        sa.Column("scan_signatures", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=500), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "scan_engine", "scan_signatures"),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_documents_status_scan_signatures", ["status", "scan_signatures"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_status_scan_signatures")
    op.drop_table("scan_verdicts")
