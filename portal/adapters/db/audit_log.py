"""The audit log in the database: appending to a hash chain, deleting a chain for
retention, and reading every chain for verification (portal/domain/audit_chain.py).

Appending locks the chain's head row (audit_chains) in the writer's transaction, so two
writers on PostgreSQL cannot both take the same seq; UNIQUE (chain, seq) on audit_events is
the backstop. SQLite serialises writers already: the head is written before it is read, so
the write lock is held from the start.

Events are sealed with the newest key of the keyring the session carries
(`session.info["audit_keys"]`, put there by `Tables`); a session without one cannot
append. Verification takes the keyring and the anchors (portal/adapters/audit_anchors.py).

On PostgreSQL, triggers (migration 0008) refuse UPDATE of audit events and DELETE or
TRUNCATE of them (or of heads) unless the transaction has set `jtai.audit_retention` to
'on', which only `delete_chain` does. On SQLite a trigger refuses UPDATE; deletions are
found by verification (seq gaps, heads, deletion records).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.adapters.db.engine import AUDIT_KEYS
from portal.adapters.db.tables import AuditChainRow, AuditEventRow, InspectionRow
from portal.domain.audit_chain import (
    GENESIS_HASH,
    PORTAL_CHAIN,
    Anchor,
    AuditEntry,
    AuditKeyring,
    ChainDeletion,
    ChainHead,
    LogVerdict,
    chain_of,
    seal,
    verify_chain,
    verify_log,
)
from portal.domain.moments import utc_aware

RETENTION_SETTING = "jtai.audit_retention"
"""The transaction-local PostgreSQL setting that lets retention delete audit events."""


class ChainMoved(RuntimeError):
    """The chain's head changed under a writer that held its lock: a bug, never retried."""


class AuditEvent(NamedTuple):
    """An event to append: who did what, to which inspection and document, with what
    detail (ids, codes, counts and dates only)."""

    actor: str
    action: str
    inspection_id: str | None
    document_id: str | None
    detail: Mapping[str, Any]


def append(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    inspection_id: str | None,
    document_id: str | None,
    detail: Mapping[str, Any],
) -> AuditEntry:
    """Add the next event of the chain of `inspection_id` in the session's transaction,
    sealed with the newest key of the session's keyring (ValueError without one: an
    unkeyed event is never written)."""
    event = AuditEvent(actor, action, inspection_id, document_id, detail)
    return append_many(session, at, [event])[0]


def append_many(session: Session, at: datetime, events: Sequence[AuditEvent]) -> list[AuditEntry]:
    """Add `events`, all at `at`, to their chains in the session's transaction, in the order
    given within each chain; the entries in the order of `events`.

    Each chain's head is locked and moved once, and its events inserted in one statement:
    a batch of documents costs a few statements, not four an event. Chains are locked in
    the order of their names, so two writers of several chains never wait on each other in
    a circle. The same guarantees as `append` for each event.
    """
    keys = session.info.get(AUDIT_KEYS)
    if not isinstance(keys, AuditKeyring):
        raise ValueError("this session carries no audit keyring: audit events must be keyed")
    by_chain: dict[str, list[int]] = {}
    for i, event in enumerate(events):
        if event.document_id is not None and event.inspection_id is None:
            raise ValueError(f"an event of document {event.document_id} must name its inspection")
        by_chain.setdefault(chain_of(event.inspection_id), []).append(i)
    entries: dict[int, AuditEntry] = {}
    for chain in sorted(by_chain):
        head = lock_head(session, chain)
        sealed: list[AuditEntry] = []
        last_seq, last_hash = head.last_seq, head.last_entry_hash
        for i in by_chain[chain]:
            event = events[i]
            entry = seal(
                seq=last_seq + 1,
                prev_hash=last_hash,
                at=utc_aware(at),
                actor=event.actor,
                action=event.action,
                inspection_id=event.inspection_id,
                document_id=event.document_id,
                detail=event.detail,
                key=keys.current,
            )
            last_seq, last_hash, entries[i] = entry.seq, entry.entry_hash, entry
            sealed.append(entry)
        connection = session.connection()
        moved = connection.execute(
            _MOVE_HEAD,
            {"b_chain": chain, "b_was": head.last_seq, "b_seq": last_seq, "b_hash": last_hash},
        )
        if moved.rowcount != 1:
            raise ChainMoved(f"the head of audit chain {chain} moved while it was locked")
        connection.execute(_INSERT_EVENTS, [e.model_dump(exclude={"id"}) for e in sealed])
    return [entries[i] for i in range(len(events))]


# The statements an append runs, built once and run on the session's connection: built
# anew through the ORM each time they cost 1.5 ms of CPU an event (measured: 300 appends
# on SQLite), most of it building and compiling the same four statements.
_CHAINS = cast(Table, AuditChainRow.__table__)
_EVENTS = cast(Table, AuditEventRow.__table__)
_HEAD_VALUES = {"chain": bindparam("b_chain"), "last_seq": 0, "last_entry_hash": GENESIS_HASH}
_CREATE_HEAD = {
    dialect: dialect_insert(_CHAINS)
    .values(_HEAD_VALUES)
    .on_conflict_do_nothing(index_elements=["chain"])
    for dialect, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_READ_HEAD = (
    select(_CHAINS.c.last_seq, _CHAINS.c.last_entry_hash)
    .where(_CHAINS.c.chain == bindparam("b_chain"))
    .with_for_update()
)
_MOVE_HEAD = (
    update(_CHAINS)
    .where(_CHAINS.c.chain == bindparam("b_chain"), _CHAINS.c.last_seq == bindparam("b_was"))
    .values(last_seq=bindparam("b_seq"), last_entry_hash=bindparam("b_hash"))
)
_INSERT_EVENTS = insert(_EVENTS)


def lock_head(session: Session, chain: str) -> ChainHead:
    """The chain's head, created at seq 0 if new, locked until the transaction ends.

    The head is written (inserted if absent) before it is read: on PostgreSQL a concurrent
    first writer makes this wait, and on SQLite it takes the write lock at once, so the read
    is never stale.
    """
    # The statements below run on the connection, past the session: rows it still holds
    # (the document an event names) must be written first.
    session.flush()
    connection = session.connection()
    connection.execute(_CREATE_HEAD[connection.dialect.name], {"b_chain": chain})
    row = connection.execute(_READ_HEAD, {"b_chain": chain}).one()
    return ChainHead(chain=chain, last_seq=row.last_seq, last_entry_hash=row.last_entry_hash)


def delete_chain(session: Session, chain: str) -> ChainDeletion | None:
    """Delete every entry of a chain in the session's transaction (the caller records the
    deletion in the portal chain in the same transaction). None if it has no entries.

    The head stays, so a later event continues the chain after the deleted part. Whether
    the deleted entries verified is part of the record: deleting them cannot hide a break.
    """
    if chain == PORTAL_CHAIN:
        raise ValueError("the portal chain is never deleted")
    head = lock_head(session, chain)
    rows = session.execute(
        select(*_ENTRY_COLUMNS).where(AuditEventRow.chain == chain).order_by(AuditEventRow.seq)
    ).all()
    if not rows:
        return None
    entries = [_entry(row) for row in rows]
    first, last = entries[0], entries[-1]
    keys = session.info.get(AUDIT_KEYS, AuditKeyring())
    found = verify_chain(entries, keys=keys, seq=first.seq, prev_hash=first.prev_hash)
    verified = found is None and (
        head.last_seq,
        head.last_entry_hash,
    ) == (last.seq, last.entry_hash)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config(:name, 'on', true)"), {"name": RETENTION_SETTING})
    session.execute(delete(AuditEventRow).where(AuditEventRow.chain == chain))
    return ChainDeletion(
        chain=chain,
        count=len(entries),
        first_seq=first.seq,
        first_prev_hash=first.prev_hash,
        last_seq=last.seq,
        last_entry_hash=last.entry_hash,
        verified=verified,
        last_event_id=last.id,
    )


def chain_count(session: Session, chain: str) -> int:
    """How many entries the chain has now."""
    query = select(func.count()).select_from(AuditEventRow).where(AuditEventRow.chain == chain)
    return int(session.scalar(query) or 0)


def chain_heads(engine: Engine) -> list[ChainHead]:
    """Every chain's head as committed now (what anchoring copies out)."""
    with _snapshot(engine) as connection:
        return list(_heads(connection).values())


def _heads(connection: Connection) -> dict[str, ChainHead]:
    return {
        row.chain: ChainHead(
            chain=row.chain, last_seq=row.last_seq, last_entry_hash=row.last_entry_hash
        )
        for row in connection.execute(select(AuditChainRow))
    }


def verify_audit_log(
    engine: Engine, keys: AuditKeyring, anchors: Sequence[Anchor] = ()
) -> LogVerdict:
    """Walk every chain of the log in one consistent snapshot, recomputing every HMAC (or,
    for entries written before keys, sha256) under the key each entry names, and checking
    that every anchor is still a prefix of its chain."""
    with _snapshot(engine) as connection:
        heads = _heads(connection)
        inspections = list(connection.scalars(select(InspectionRow.id)))
        portal = [
            _entry(row)
            for row in connection.execute(
                select(*_ENTRY_COLUMNS)
                .where(AuditEventRow.chain == PORTAL_CHAIN)
                .order_by(AuditEventRow.seq, AuditEventRow.id)
            )
        ]
        others = connection.execute(
            select(*_ENTRY_COLUMNS)
            .where(AuditEventRow.chain != PORTAL_CHAIN)
            .order_by(AuditEventRow.chain, AuditEventRow.seq, AuditEventRow.id)
            .execution_options(yield_per=1000)
        )
        chains = (
            (chain, [_entry(row) for row in rows])
            for chain, rows in itertools.groupby(others, key=lambda row: row.chain)
        )
        return verify_log(portal, chains, heads, inspections, keys=keys, anchors=anchors)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one moment of the database, heads and entries
    alike, while writers go on."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # pysqlite begins transactions only before writes; begin one ourselves.
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")
        else:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield connection


_ENTRY_COLUMNS = (
    AuditEventRow.id,
    AuditEventRow.chain,
    AuditEventRow.seq,
    AuditEventRow.at,
    AuditEventRow.actor,
    AuditEventRow.action,
    AuditEventRow.inspection_id,
    AuditEventRow.document_id,
    AuditEventRow.detail,
    AuditEventRow.prev_hash,
    AuditEventRow.entry_hash,
    AuditEventRow.key_id,
)


def _entry(row: Row[Any]) -> AuditEntry:
    """The AuditEntry a row of _ENTRY_COLUMNS holds, its time in UTC (SQLite drops the zone)."""
    # From the row's dict, not model_validate(from_attributes=True): measured 1.6x slower
    # per entry, and verification reads every entry of the log.
    fields = row._asdict()
    fields["at"] = utc_aware(fields["at"])
    fields["detail"] = fields["detail"] or {}
    return AuditEntry(**fields)


class SqlAuditLog:
    """The AuditLog port over the metadata database's audit tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def chain_heads(self) -> list[ChainHead]:
        """Every chain's head as committed now."""
        return chain_heads(self.engine)

    def verify(self, keys: AuditKeyring, anchors: Sequence[Anchor]) -> LogVerdict:
        """Every chain and anchor checked in one consistent snapshot."""
        return verify_audit_log(self.engine, keys, anchors)
