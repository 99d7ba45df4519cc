"""listed_children: the children each accepted child-level list names (unique IDs only)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "listed_children",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("child_key", sa.String(length=64), nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("mix_group", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.PrimaryKeyConstraint("document_id", "child_key"),
    )
    op.create_index("ix_listed_children_inspection", "listed_children", ["inspection_id"])


def downgrade() -> None:
    op.drop_index("ix_listed_children_inspection", table_name="listed_children")
    op.drop_table("listed_children")
