"""on_site_slots: case-record slots to be seen on site, their arrangements, when seen

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "on_site_slots",
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("child_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("marked_by", sa.String(length=100), nullable=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrangement", sa.Text(), nullable=True),
        sa.Column("arranged_day", sa.Date(), nullable=True),
        sa.Column("arranged_by", sa.String(length=100), nullable=True),
        sa.Column("arranged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_by", sa.String(length=100), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.PrimaryKeyConstraint("inspection_id", "child_id", "agency"),
    )


def downgrade() -> None:
    op.drop_table("on_site_slots")
