"""inspections: which of notification and fieldwork start the lead entered

The other one is derived from the theme's rule when the inspection is created or its days
change, and stored beside it. Rows from before this kept both as given: each non-empty one
counts as entered.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entered_days", sa.String(40), nullable=False, server_default="")
        )
    op.execute(
        "UPDATE inspections SET entered_days = CASE"
        " WHEN notification_date IS NOT NULL AND fieldwork_start IS NOT NULL"
        " THEN 'notification,fieldwork_start'"
        " WHEN notification_date IS NOT NULL THEN 'notification'"
        " WHEN fieldwork_start IS NOT NULL THEN 'fieldwork_start'"
        " ELSE '' END"
    )


def downgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_column("entered_days")
