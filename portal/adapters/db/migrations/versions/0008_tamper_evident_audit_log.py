"""tamper-evident audit log: hash chains per inspection, heads, append-only triggers

Revision ID: 0008
Revises: 0007
"""

from datetime import UTC

import sqlalchemy as sa
from alembic import op

from portal.domain.audit_chain import GENESIS_HASH, chain_of, seal

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FREE_TEXT_KEYS = ("reason", "detail", "note", "filename", "original_filename")
"""Detail keys that held free text (a state change's or moved deadline's reason, a
document's processing detail): removed before the events are sealed, since names in them
could never be reduced afterwards."""

POSTGRESQL_GUARDS = [
    """
    CREATE OR REPLACE FUNCTION jtai_audit_events_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'audit_events is append-only: UPDATE refused'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF coalesce(current_setting('jtai.audit_retention', true), '') <> 'on' THEN
            RAISE EXCEPTION 'audit_events is append-only: % refused outside retention', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION jtai_audit_chains_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.chain <> OLD.chain OR NEW.last_seq <= OLD.last_seq THEN
                RAISE EXCEPTION 'audit_chains heads only move forward'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END IF;
        IF coalesce(current_setting('jtai.audit_retention', true), '') <> 'on' THEN
            RAISE EXCEPTION 'audit_chains: % refused outside retention', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION jtai_audit_events_guard()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION jtai_audit_events_guard()",
    "CREATE TRIGGER audit_chains_forward_only BEFORE UPDATE OR DELETE ON audit_chains "
    "FOR EACH ROW EXECUTE FUNCTION jtai_audit_chains_guard()",
    "CREATE TRIGGER audit_chains_no_truncate BEFORE TRUNCATE ON audit_chains "
    "FOR EACH STATEMENT EXECUTE FUNCTION jtai_audit_chains_guard()",
]

# SQLite has no transaction-local setting a trigger could read, so it refuses UPDATE only;
# deletions are found by verification (seq gaps, heads, deletion records).
SQLITE_GUARDS = [
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
    BEGIN
        SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER audit_chains_forward_only BEFORE UPDATE ON audit_chains
    WHEN NEW.chain <> OLD.chain OR NEW.last_seq <= OLD.last_seq
    BEGIN
        SELECT RAISE(ABORT, 'audit_chains heads only move forward');
    END
    """,
]


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_chains",
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    _chain_existing_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("chain", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_audit_events_chain_seq", ["chain", "seq"])
    guards = POSTGRESQL_GUARDS if op.get_bind().dialect.name == "postgresql" else SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def _chain_existing_events() -> None:
    """Give every document event its inspection, take free text out of the details, then
    seal the events in id order, one chain per inspection, and record each chain's head
    (a head at seq 0 for an inspection that has no event left)."""
    connection = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("inspection_id", sa.String),
        sa.column("document_id", sa.String),
        sa.column("detail", sa.JSON),
        sa.column("chain", sa.String),
        sa.column("seq", sa.Integer),
        sa.column("prev_hash", sa.String),
        sa.column("entry_hash", sa.String),
    )
    documents = sa.table("documents", sa.column("id", sa.String), sa.column("inspection_id"))
    inspections = sa.table("inspections", sa.column("id", sa.String))
    heads_table = sa.table(
        "audit_chains",
        sa.column("chain", sa.String),
        sa.column("last_seq", sa.Integer),
        sa.column("last_entry_hash", sa.String),
    )
    connection.execute(
        events.update()
        .where(events.c.inspection_id.is_(None), events.c.document_id.is_not(None))
        .values(
            inspection_id=sa.select(documents.c.inspection_id)
            .where(documents.c.id == events.c.document_id)
            .scalar_subquery()
        )
    )
    heads: dict[str, tuple[int, str]] = {}
    rows = connection.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        chain = chain_of(row["inspection_id"])
        last_seq, last_hash = heads.get(chain, (0, GENESIS_HASH))
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)
        detail = {k: v for k, v in (row["detail"] or {}).items() if k not in FREE_TEXT_KEYS}
        entry = seal(
            seq=last_seq + 1,
            prev_hash=last_hash,
            at=at,
            actor=row["actor"],
            action=row["action"],
            inspection_id=row["inspection_id"],
            document_id=row["document_id"],
            detail=detail,
            key=None,  # before keyed chains (0010): sha256, trusted once anchored
        )
        connection.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(
                at=entry.at,
                detail=entry.detail,
                chain=entry.chain,
                seq=entry.seq,
                prev_hash=entry.prev_hash,
                entry_hash=entry.entry_hash,
            )
        )
        heads[chain] = (entry.seq, entry.entry_hash)
    for (inspection_id,) in connection.execute(sa.select(inspections.c.id)):
        heads.setdefault(inspection_id, (0, GENESIS_HASH))
    if heads:
        connection.execute(
            heads_table.insert(),
            [
                {"chain": chain, "last_seq": seq, "last_entry_hash": digest}
                for chain, (seq, digest) in sorted(heads.items())
            ],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_chains_forward_only ON audit_chains")
        op.execute("DROP TRIGGER IF EXISTS audit_chains_no_truncate ON audit_chains")
        op.execute("DROP FUNCTION IF EXISTS jtai_audit_events_guard()")
        op.execute("DROP FUNCTION IF EXISTS jtai_audit_chains_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only")
        op.execute("DROP TRIGGER IF EXISTS audit_chains_forward_only")
    op.drop_table("audit_chains")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_events_chain_seq", type_="unique")
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("chain")
