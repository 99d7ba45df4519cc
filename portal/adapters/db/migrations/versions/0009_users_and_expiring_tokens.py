"""users, and tokens that belong to a user and expire

Revision ID: 0009
Revises: 0008
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LEGACY_TOKEN_LIFETIME = timedelta(days=90)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=True),
        sa.Column("agency", sa.String(length=64), nullable=True),
        sa.Column("inspectorate", sa.String(length=16), nullable=True),
        sa.Column("oidc_subject", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("oidc_subject"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_inspection", ["inspection_id"], unique=False)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_api_tokens_user", ["user_id"], unique=False)
        batch_op.create_foreign_key("fk_api_tokens_user", "users", ["user_id"], ["id"])

    # Every token now belongs to a user and expires: a token issued before this revision
    # becomes the one token of a user of its own, expiring 90 days after it was issued.
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.String),
        sa.column("role", sa.String),
        sa.column("inspection_id", sa.String),
        sa.column("agency", sa.String),
        sa.column("label", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("user_id", sa.String),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    users = sa.table(
        "users",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("role", sa.String),
        sa.column("inspection_id", sa.String),
        sa.column("agency", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.String),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(tokens)).mappings().all():
        connection.execute(
            users.insert().values(
                id=row["id"],
                name=row["label"] or row["role"],
                role=row["role"],
                inspection_id=row["inspection_id"],
                agency=row["agency"],
                created_at=row["created_at"],
                created_by="migration-0009",
            )
        )
        connection.execute(
            tokens.update()
            .where(tokens.c.id == row["id"])
            .values(user_id=row["id"], expires_at=row["created_at"] + LEGACY_TOKEN_LIFETIME)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_tokens_user", type_="foreignkey")
        batch_op.drop_index("ix_api_tokens_user")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("user_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_inspection")
    op.drop_table("users")
