"""keyed audit chain: each event names the audit key its HMAC is under

Revision ID: 0010
Revises: 0009

Events written before this revision keep key_id NULL and their sha256: they are not
rewritten (their hashes may already be quoted elsewhere). Verification accepts them only
at or below an anchor of their chain; `jtai-portal migrate` anchors every chain's head
right after migrating, so an upgraded log verifies at once.

A plain ADD COLUMN on both databases (no table copy on SQLite), so the append-only
triggers of 0008 stay in place.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("key_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # DROP COLUMN on SQLite: no trigger may name the table's columns; 0008's do not.
        op.execute("ALTER TABLE audit_events DROP COLUMN key_id")
    else:
        op.drop_column("audit_events", "key_id")
