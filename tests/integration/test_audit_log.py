"""The tamper-evident audit log on SQLite and PostgreSQL: chains built by real repository
calls verify; altering, deleting or losing entries is caught and named by
`jtai-portal audit verify`; PostgreSQL refuses changes; retention's deletion stays lawful."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal.adapters.audit_keys import load_keyring
from portal.adapters.db.audit_log import AuditEvent, append_many, verify_audit_log
from portal.adapters.db.engine import AUDIT_KEYS, MIGRATIONS_DIR, make_engine, migrate
from portal.adapters.db.repository import SqlRepository, _audit
from portal.adapters.db.retention_records import RetentionRecords
from portal.adapters.db.tables import AuditChainRow, AuditEventRow, Base
from portal.cli import main
from portal.domain.access import Inspection, InspectionState
from portal.domain.audit_chain import (
    CHAIN_DELETED,
    GENESIS_HASH,
    PORTAL_CHAIN,
    AuditKeyring,
    entry_hash,
)
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.domain.retention import RetentionEntry, RetentionEvent

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
INSPECTION = "insp1"
NAME = "Jayden Okafor"


@dataclass
class Database:
    url: str
    engine: Engine
    repository: SqlRepository
    records: RetentionRecords
    data_dir: Path
    """The portal's data directory: its audit key file and anchor file."""
    keys: AuditKeyring

    @property
    def postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> Session:
        """A session that can append audit events, as the repository's do."""
        return Session(self.engine, info={AUDIT_KEYS: self.keys})


def _keys(data_dir: Path) -> AuditKeyring:
    """The portal's audit keys in `data_dir/audit-key`, made on first use as `up` does."""
    return load_keyring(data_dir / "audit-key", create_at=NOW)


def _drop_everything(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@contextmanager
def _migrated(url: str, data_dir: Path) -> Iterator[Database]:
    """A migrated database holding one inspection (and its inspection_created event)."""
    engine = make_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        _drop_everything(engine)  # the session's database may hold another test's rows
    migrate(engine)
    keys = _keys(data_dir)
    repository = SqlRepository(engine, audit_keys=keys)
    repository.add_inspection(
        Inspection(
            id=INSPECTION,
            theme_key="domestic-abuse/sept-2024",
            area_name="Testshire",
            agencies=("police",),
            created_at=NOW,
        ),
        actor="admin:tok0",
    )
    try:
        yield Database(
            url, engine, repository, RetentionRecords(engine, audit_keys=keys), data_dir, keys
        )
    finally:
        if postgresql:
            _drop_everything(engine)
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    with _migrated(url, tmp_path / "data") as database:
        yield database


@pytest.fixture
def postgresql_database(postgres_url: str, tmp_path: Path) -> Iterator[Database]:
    with _migrated(postgres_url, tmp_path / "data") as database:
        yield database


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    with _migrated(f"sqlite:///{tmp_path / 'portal.sqlite3'}", tmp_path / "data") as database:
        yield database


def _document(n: int = 0) -> Document:
    return Document(
        id=uuid.uuid4().hex,
        inspection_id=INSPECTION,
        agency="police",
        item_number="3.1",
        original_filename=f"{NAME} chronology.pdf",
        status=DocumentStatus.received,
        size_bytes=10,
        sha256_received="a" * 64,
        received_at=NOW + timedelta(seconds=n),
        updated_at=NOW + timedelta(seconds=n),
    )


def _a_day_of_changes(db: Database) -> Document:
    """Repository and retention calls as the API, the pipeline and retention make them,
    with a name in every free-text argument."""
    repository, records = db.repository, db.records
    document = _document()
    repository.add_document(document, "agency_uploader:tok2@insp1/police")
    repository.claim_next_batch("a" * 32, NOW, 10, 10_000)
    repository.record_outcome(
        document.id,
        "a" * 32,
        NOW,
        status=DocumentStatus.failed,
        reasons=[ReasonCode.scanner_unavailable],
        detail=f"clamd down while scanning {NAME} chronology.pdf",
        next_attempt_at=NOW + timedelta(hours=1),
    )
    assert repository.request_reprocess(document.id, NOW, "lead_inspector:tok1@insp1")
    repository.claim_next_batch("b" * 32, NOW, 10, 10_000)
    assert repository.release_stale(NOW + timedelta(hours=1), lease_seconds=60) == [document.id]
    repository.claim_next_batch("c" * 32, NOW + timedelta(hours=1), 10, 10_000)
    repository.record_outcome(
        document.id,
        "c" * 32,
        NOW + timedelta(hours=1),
        status=DocumentStatus.accepted,
        area=Area.clean,
        detail=f"accepted {NAME} chronology.pdf",
    )
    accepted = repository.get_document(document.id)
    assert accepted is not None
    repository.record_view(accepted, "inspector:tok3@insp1", "10.0.0.7", True, "clean", NOW)
    repository.set_deadline_override(
        INSPECTION, "week1_tuesday_5pm", NOW, f"moved for {NAME}'s conference", "li", NOW
    )
    repository.replace_selection(INSPECTION, "shortlist", ["C1", "C2"], "li", NOW)
    repository.set_onsite(INSPECTION, ["10.0.0.0/24"], NOW, NOW + timedelta(days=3), "li", NOW)
    repository.set_inspection_state(
        INSPECTION, InspectionState.closed, f"closed at {NAME}'s family's request", "li", NOW
    )
    records.set_event(INSPECTION, RetentionEvent.fieldwork_end, date(2026, 12, 4), "li", NOW)
    hold = records.place_hold(INSPECTION, document.id, f"claim by {NAME}", "ro", NOW)
    records.lift_hold(hold.id, f"{NAME}'s claim settled", "ro", NOW)
    records.add_name(INSPECTION, NAME, "C1", f"{NAME}, 3 siblings", "li", NOW)
    with db.session() as session, session.begin():  # an event of no inspection
        _audit(session, NOW, "admin:tok0", "token_issued", detail={"token_id": "tok9"})
    return document


def _events(db: Database, chain: str | None = None) -> list[AuditEventRow]:
    query = select(AuditEventRow).order_by(AuditEventRow.chain, AuditEventRow.seq)
    if chain is not None:
        query = query.where(AuditEventRow.chain == chain)
    with Session(db.engine) as session:
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str) -> tuple[int, str]:
    """Run `jtai-portal ARGS` against the database and its data directory (key file,
    anchor file): (exit status, output)."""
    monkeypatch.setenv("JTAI_DATABASE_URL", db.url)
    monkeypatch.setenv("JTAI_DATA_DIR", str(db.data_dir))
    try:
        main(list(args))
        status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    return status, capsys.readouterr().out.strip()


def _verify(db: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> tuple[int, str]:
    """Run `jtai-portal audit verify` against the database: (exit status, output)."""
    return _cli(db, monkeypatch, capsys, "audit", "verify")


def _tamper(db: Database, statement: Any) -> None:
    """Run a statement on audit_events as someone with raw access would, bypassing the
    append-only triggers (PostgreSQL: disabled for the statement; SQLite: dropped)."""
    with db.engine.begin() as connection:
        if db.postgresql:
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
            connection.execute(statement)
            connection.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_append_only")
            connection.execute(statement)


def _retention_run(db: Database, run_id: str) -> RetentionEntry:
    db.records.start_run(
        run_id,
        dry_run=False,
        as_of=NOW,
        actor="test",
        policy_sha256="0" * 64,
        now=NOW,
        lease_seconds=600,
    )
    return RetentionEntry(
        inspection_id=INSPECTION,
        record_kind="audit_log",
        record_id=INSPECTION,
        action="deleted",
        retention_class="audit_log",
    )


def test_the_chain_verifies_after_a_realistic_sequence_of_repository_calls(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    document = _a_day_of_changes(database)

    events = _events(database, INSPECTION)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.inspection_id == INSPECTION for e in events)
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(events))
    by_action = {e.action: e for e in events}
    for action in ("document_reprocess_requested", "document_released", "document_accepted"):
        assert by_action[action].document_id == document.id
    assert [e.action for e in _events(database, PORTAL_CHAIN)] == ["token_issued"]

    status, output = _verify(database, monkeypatch, capsys)
    assert status == 0, output
    entries = len(events) + 1
    assert output == (
        f"audit log OK: 2 chains (0 lawfully deleted in whole or part), {entries} entries "
        f"verified ({entries} keyed, 0 unkeyed and anchored), 0 anchors hold"
    )
    assert {e.key_id for e in events} == {database.keys.current.key_id}


def test_no_audit_event_keeps_the_free_text_it_was_given(database: Database) -> None:
    _a_day_of_changes(database)
    found = database.records.find_text([NAME, "Jayden", "Okafor"])
    assert found  # the names are in the tables that retention reduces ...
    assert not [column for column in found if column.startswith("audit_")]  # ... not here
    moved = next(e for e in _events(database) if e.action == "deadline_moved")
    assert moved.detail == {"deadline": "week1_tuesday_5pm", "due": NOW.isoformat()}


def test_an_altered_detail_is_caught_and_named_by_the_verify_command(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _a_day_of_changes(database)
    moved = next(e for e in _events(database) if e.action == "deadline_moved")
    _tamper(
        database,
        update(AuditEventRow)
        .where(AuditEventRow.id == moved.id)
        .values(detail={"deadline": "week1_tuesday_5pm", "due": "2027-01-01T00:00:00+00:00"}),
    )
    status, output = _verify(database, monkeypatch, capsys)
    assert status == 1
    assert output.startswith(
        f"audit log BROKEN at entry id {moved.id} (chain {INSPECTION}, seq {moved.seq}): "
        "hash_mismatch: "
    ), output


def test_an_entry_altered_and_resealed_with_the_key_is_caught_at_the_next_link(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _a_day_of_changes(database)
    events = _events(database, INSPECTION)
    victim, after = events[3], events[4]
    forged = entry_hash(
        chain=victim.chain,
        seq=victim.seq,
        at=victim.at if victim.at.tzinfo else victim.at.replace(tzinfo=UTC),
        actor="someone else",
        action=victim.action,
        inspection_id=victim.inspection_id,
        document_id=victim.document_id,
        detail=victim.detail,
        prev_hash=victim.prev_hash,
        key=database.keys.current,
    )
    _tamper(
        database,
        update(AuditEventRow)
        .where(AuditEventRow.id == victim.id)
        .values(actor="someone else", entry_hash=forged),
    )
    status, output = _verify(database, monkeypatch, capsys)
    assert status == 1
    assert (
        f"entry id {after.id} (chain {INSPECTION}, seq {after.seq}): prev_hash_mismatch" in output
    )


def test_a_deleted_entry_is_caught_as_a_gap(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _a_day_of_changes(database)
    events = _events(database, INSPECTION)
    with database.engine.begin() as connection:
        if database.postgresql:
            connection.exec_driver_sql("SET LOCAL jtai.audit_retention = 'on'")
        connection.execute(delete(AuditEventRow).where(AuditEventRow.id == events[2].id))
    status, output = _verify(database, monkeypatch, capsys)
    assert status == 1
    assert f"entry id {events[3].id} (chain {INSPECTION}, seq 4): seq_gap" in output
    assert "entries 3..3 are missing" in output


def test_a_lost_newest_entry_is_caught_by_the_chains_head(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _a_day_of_changes(database)
    last = _events(database, INSPECTION)[-1]
    with database.engine.begin() as connection:
        if database.postgresql:
            connection.exec_driver_sql("SET LOCAL jtai.audit_retention = 'on'")
        connection.execute(delete(AuditEventRow).where(AuditEventRow.id == last.id))
    status, output = _verify(database, monkeypatch, capsys)
    assert status == 1
    assert f"(chain {INSPECTION}, seq {last.seq}): missing_tail" in output


def test_a_whole_chain_deleted_outside_retention_is_caught(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _a_day_of_changes(database)
    with database.engine.begin() as connection:
        if database.postgresql:
            connection.exec_driver_sql("SET LOCAL jtai.audit_retention = 'on'")
        connection.execute(delete(AuditEventRow).where(AuditEventRow.chain == INSPECTION))
    status, output = _verify(database, monkeypatch, capsys)
    assert status == 1
    assert f"(chain {INSPECTION}, seq 1): chain_missing" in output


def test_retentions_deletion_of_an_audit_log_leaves_a_verifying_log(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    document = _a_day_of_changes(database)
    records = database.records
    before = _events(database, INSPECTION)
    entry = _retention_run(database, "run1")

    assert records.delete_audit_log(INSPECTION, "run1", entry, NOW) == len(before)

    assert records.audit_log_count(INSPECTION) == 0
    deleted = _events(database, PORTAL_CHAIN)[-1]
    assert deleted.action == CHAIN_DELETED and deleted.actor == "retention:run1"
    assert deleted.detail == {
        "chain": INSPECTION,
        "count": len(before),
        "first_seq": 1,
        "first_prev_hash": GENESIS_HASH,
        "last_seq": before[-1].seq,
        "last_entry_hash": before[-1].entry_hash,
        "last_event_id": before[-1].id,
        "verified": True,
    }
    run = records.get_run("run1")
    assert run is not None
    proof = run.entries[0].proof
    assert (proof["last_event_id"], proof["last_seq"], proof["chain_verified"]) == (
        before[-1].id,
        before[-1].seq,
        True,
    )
    assert _verify(database, monkeypatch, capsys)[0] == 0

    # Later events continue the chain after its deleted part, and can be deleted in turn.
    records.lift_hold(records.place_hold(INSPECTION, document.id, "x", "ro", NOW).id, "", "", NOW)
    later = _events(database, INSPECTION)
    assert [e.seq for e in later] == [before[-1].seq + 1, before[-1].seq + 2]
    assert later[0].prev_hash == before[-1].entry_hash
    status, output = _verify(database, monkeypatch, capsys)
    assert status == 0, output
    assert records.delete_audit_log(INSPECTION, "run1", entry, NOW) == 2
    status, output = _verify(database, monkeypatch, capsys)
    assert status == 0, output
    assert "(1 lawfully deleted in whole or part)" in output


OLD_INSPECTIONS = sa.table(
    "inspections",
    sa.column("id", sa.String),
    sa.column("theme_key", sa.String),
    sa.column("area_name", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
OLD_DOCUMENTS = sa.table(
    "documents",
    *(
        sa.column(name, sa.String)
        for name in (
            "id",
            "inspection_id",
            "agency",
            "item_number",
            "original_filename",
            "status",
            "detail",
            "area",
        )
    ),
    sa.column("reasons", sa.JSON),
    sa.column("warnings", sa.JSON),
    sa.column("attempts", sa.Integer),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
OLD_AUDIT_EVENTS = sa.table(
    "audit_events",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("inspection_id", sa.String),
    sa.column("document_id", sa.String),
    sa.column("detail", sa.JSON),
)
"""audit_events as revision 0007 left it, before chains."""


def test_events_from_before_keys_verify_once_migrate_has_anchored_them(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    for n, url in enumerate(
        (f"sqlite:///{tmp_path / 'old.sqlite3'}", request.getfixturevalue("postgres_url"))
    ):
        engine = make_engine(url)
        _drop_everything(engine)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0007")
            connection.execute(
                OLD_INSPECTIONS.insert(),
                [
                    {"id": "old1", "theme_key": "t/v", "area_name": "Oldshire", "created_at": NOW},
                    {"id": "old2", "theme_key": "t/v", "area_name": "Newshire", "created_at": NOW},
                ],
            )
            connection.execute(
                OLD_DOCUMENTS.insert().values(
                    id="doc1",
                    inspection_id="old1",
                    agency="police",
                    item_number="1.1",
                    original_filename="a.pdf",
                    status="received",
                    reasons=[],
                    warnings=[],
                    detail="",
                    area="quarantine",
                    attempts=0,
                    received_at=NOW,
                    updated_at=NOW,
                )
            )
            connection.execute(
                OLD_AUDIT_EVENTS.insert(),
                [
                    {"at": NOW, "actor": "x", "action": action, "inspection_id": inspection_id}
                    | {"document_id": document_id, "detail": detail}
                    for action, inspection_id, document_id, detail in [
                        ("inspection_created", "old1", None, {}),
                        ("token_issued", None, None, {"token_id": "t1"}),
                        ("document_released", None, "doc1", {}),
                        ("inspection_closed", "old1", None, {"reason": NAME}),
                    ]
                ],
            )
        migrate(engine)
        data_dir = tmp_path / f"data{n}"
        keys = _keys(data_dir)
        db = Database(
            url,
            engine,
            SqlRepository(engine, audit_keys=keys),
            RetentionRecords(engine, audit_keys=keys),
            data_dir,
            keys,
        )

        events = sorted(_events(db), key=lambda e: e.id)
        assert [(e.chain, e.seq, e.inspection_id) for e in events] == [
            ("old1", 1, "old1"),
            (PORTAL_CHAIN, 1, None),
            ("old1", 2, "old1"),
            ("old1", 3, "old1"),
        ]
        assert events[3].detail == {}
        with Session(engine) as session:
            heads = {h.chain: h.last_seq for h in session.scalars(select(AuditChainRow))}
        assert heads == {"old1": 3, PORTAL_CHAIN: 1, "old2": 0}
        assert {e.key_id for e in events} == {None}
        # Unkeyed and not yet anchored: reported, never trusted.
        status, output = _verify(db, monkeypatch, capsys)
        assert status == 1
        assert f"entry id {events[0].id} (chain old1, seq 1): unkeyed_unanchored" in output
        # `jtai-portal migrate` (what an upgrade runs) anchors every chain's head.
        status, output = _cli(db, monkeypatch, capsys, "migrate")
        assert status == 0 and output.endswith("2 audit chain heads anchored"), output
        db.repository.replace_selection("old1", "shortlist", ["C1"], "li", NOW)  # keyed
        status, output = _verify(db, monkeypatch, capsys)
        assert status == 0, output
        assert "(1 keyed, 4 unkeyed and anchored), 2 anchors hold" in output
        # A keyed entry rewritten with the old algorithm (unkeyed) above the anchors.
        newest = _events(db, "old1")[-1]
        forged = entry_hash(
            chain="old1",
            seq=newest.seq,
            at=newest.at if newest.at.tzinfo else newest.at.replace(tzinfo=UTC),
            actor="someone else",
            action=newest.action,
            inspection_id="old1",
            document_id=None,
            detail=newest.detail,
            prev_hash=newest.prev_hash,
        )
        _tamper(
            db,
            update(AuditEventRow)
            .where(AuditEventRow.id == newest.id)
            .values(actor="someone else", entry_hash=forged, key_id=None),
        )
        status, output = _verify(db, monkeypatch, capsys)
        assert status == 1
        assert f"entry id {newest.id} (chain old1, seq 4): " in output
        _drop_everything(engine)
        engine.dispose()


def test_postgresql_refuses_to_change_or_remove_audit_events_outside_retention(
    postgresql_database: Database,
) -> None:
    database = postgresql_database
    refused = [
        "UPDATE audit_events SET actor = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE audit_chains SET last_seq = 0",
        "DELETE FROM audit_chains",
    ]
    for statement in refused:
        with (
            pytest.raises(DBAPIError, match=r"append-only|only move forward|refused"),
            database.engine.begin() as connection,
        ):
            connection.exec_driver_sql(statement)
    with database.engine.connect() as connection:  # retention's transaction-local escape
        transaction = connection.begin()
        connection.exec_driver_sql("SET LOCAL jtai.audit_retention = 'on'")
        with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
            connection.exec_driver_sql("UPDATE audit_events SET actor = 'x'")
        assert connection.exec_driver_sql("DELETE FROM audit_events").rowcount == 1
        transaction.rollback()
    with (  # ... which ends with its transaction
        pytest.raises(DBAPIError, match="append-only"),
        database.engine.begin() as connection,
    ):
        connection.exec_driver_sql("DELETE FROM audit_events")


def test_sqlite_refuses_to_change_audit_events(sqlite_database: Database) -> None:
    for statement in (
        "UPDATE audit_events SET actor = 'x'",
        "UPDATE audit_chains SET last_seq = 0",
    ):
        with (
            pytest.raises(DBAPIError, match=r"append-only|only move forward"),
            sqlite_database.engine.begin() as connection,
        ):
            connection.exec_driver_sql(statement)


def _all_at_once(writers: int, write: Callable[[int], None]) -> list[BaseException]:
    """Run write(0) ... write(writers - 1) in threads that start writing together; what
    each raised."""
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            write(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_writers_keep_every_chain_linear(database: Database) -> None:
    writers, events_each = 8, 10

    def write(n: int) -> None:
        for i in range(events_each):
            with database.session() as session, session.begin():
                inspection_id = INSPECTION if n % 2 else None  # the portal chain is new
                _audit(session, NOW, f"writer{n}", "probe", inspection_id, detail={"i": i})

    assert not _all_at_once(writers, write)
    half = writers // 2 * events_each
    for chain, count in ((INSPECTION, 1 + half), (PORTAL_CHAIN, half)):
        events = _events(database, chain)
        assert [e.seq for e in events] == list(range(1, count + 1))
        assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(events))
    verdict = verify_audit_log(database.engine, database.keys)
    assert verdict.ok, verdict.summary()


def _statements(engine: Engine) -> list[str]:
    """The SQL statements `engine` runs from now on (each executemany once)."""
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_batch_of_events_is_chained_in_the_order_given_in_a_few_statements_per_chain(
    database: Database,
) -> None:
    events = [
        AuditEvent("pipeline", "probe", INSPECTION if i % 3 else "insp2", None, {"i": i})
        for i in range(30)
    ]
    before = {chain: len(_events(database, chain)) for chain in (INSPECTION, "insp2")}
    statements = _statements(database.engine)
    with database.session() as session, session.begin():
        entries = append_many(session, NOW, events)
    # Per chain: create the head if new, lock it, move it, insert its events.
    assert len([s for s in statements if "audit_" in s]) == 2 * 4
    assert [e.detail["i"] for e in entries] == list(range(30))
    for chain in (INSPECTION, "insp2"):
        stored = _events(database, chain)
        assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
        added = [e.detail["i"] for e in stored[before[chain] :]]
        assert added == [e.detail["i"] for e in entries if e.chain == chain]
    verdict = verify_audit_log(database.engine, database.keys)
    assert verdict.ok, verdict.summary()


def test_batches_naming_the_same_chains_in_any_order_never_deadlock_and_keep_chains_linear(
    database: Database,
) -> None:
    # Each writer's batch names the chains in its own order: the chains are still locked in
    # one order, so no two batches wait on each other in a circle.
    writers, batches_each = 6, 5
    chains = [INSPECTION, "insp2", None]

    def write(n: int) -> None:
        order = chains[n % 3 :] + chains[: n % 3]
        for b in range(batches_each):
            events = [AuditEvent(f"w{n}", "probe", c, None, {"b": b}) for c in order * 2]
            with database.session() as session, session.begin():
                append_many(session, NOW, events)

    before = {chain: len(_events(database, chain)) for chain in (INSPECTION, "insp2", PORTAL_CHAIN)}
    assert not _all_at_once(writers, write)
    for chain in (INSPECTION, "insp2", PORTAL_CHAIN):
        events = _events(database, chain)
        added = writers * batches_each * 2
        assert [e.seq for e in events] == list(range(1, before[chain] + added + 1))
        assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(events))
    verdict = verify_audit_log(database.engine, database.keys)
    assert verdict.ok, verdict.summary()
