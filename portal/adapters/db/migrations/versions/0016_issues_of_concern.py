"""issues_of_concern: the Annex C form of each issue of concern, beside its extra item

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issues_of_concern",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("case_numbers", sa.JSON(), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("issues", sa.Text(), nullable=False),
        sa.Column("referred_by", sa.String(length=100), nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluation", sa.Text(), nullable=True),
        sa.Column("evaluated_by", sa.String(length=100), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_signed_by", sa.String(length=100), nullable=True),
        sa.Column("lead_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chief_officer", sa.String(length=100), nullable=True),
        sa.Column("agency_signed_by", sa.String(length=100), nullable=True),
        sa.Column("agency_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["id"], ["extra_items.id"]),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_issues_of_concern_inspection", "issues_of_concern", ["inspection_id"])


def downgrade() -> None:
    op.drop_index("ix_issues_of_concern_inspection", table_name="issues_of_concern")
    op.drop_table("issues_of_concern")
