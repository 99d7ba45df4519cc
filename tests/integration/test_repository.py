"""The repository behaves the same on SQLite (WAL) and PostgreSQL, migrated by Alembic."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text, update

from portal.adapters.audit_keys import load_keyring
from portal.adapters.db.concern_records import ConcernRecords
from portal.adapters.db.engine import MIGRATIONS_DIR, make_engine, migrate
from portal.adapters.db.repository import SqlRepository
from portal.adapters.db.tables import DocumentRow
from portal.domain.access import Inspection
from portal.domain.child_lists import ListedChild
from portal.domain.concerns import Concern, ConcernCategory, Signatory, response_item
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.ports import OutcomeToRecord
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.rescan import KnownVerdict, RescanVerdict
from portal.domain.scanning import parse_scan_reply
from portal.domain.signatures import ScannedWith, Signatures
from portal.domain.upload_scan import ScannedAtUpload, scanned_clean_at_upload, with_upload_scan

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield engine
    if request.param == "postgresql":
        from portal.adapters.db.tables import Base

        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


@pytest.fixture
def repository(engine: Engine, tmp_path: Path) -> SqlRepository:
    keys = load_keyring(tmp_path / "audit-key", create_at=NOW)
    repository = SqlRepository(engine, audit_keys=keys)
    repository.add_inspection(
        Inspection(
            id="insp1", theme_key="t/v", area_name="Testshire", agencies=("police",), created_at=NOW
        ),
        actor="test",
    )
    return repository


def _received(size: int = 10, at: datetime = NOW) -> Document:
    return Document(
        id=uuid.uuid4().hex,
        inspection_id="insp1",
        agency="police",
        item_number="3.1",
        original_filename="a.pdf",
        status=DocumentStatus.received,
        size_bytes=size,
        received_at=at,
        updated_at=at,
    )


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {
        "inspections",
        "inspection_agencies",
        "api_tokens",
        "documents",
        "audit_events",
        "alembic_version",
    } <= tables


def _schema_and_contents(engine: Engine) -> dict[str, Any]:
    """What a migration could change: the Alembic revision, every table's columns, keys,
    indexes and constraints, and how many rows each table holds."""
    inspector = inspect(engine)
    tables: dict[str, Any] = {}
    with engine.connect() as connection:
        revisions = sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))
        for table in sorted(inspector.get_table_names()):
            tables[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(table)
                ],
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign_keys": sorted(
                    (str(fk["constrained_columns"]), fk["referred_table"])
                    for fk in inspector.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (str(i["name"]), str(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    str(u["column_names"]) for u in inspector.get_unique_constraints(table)
                ),
                "rows": connection.scalar(text(f'SELECT count(*) FROM "{table}"')),
            }
    return {"revisions": revisions, "tables": tables}


def test_migrating_twice_changes_nothing(repository: SqlRepository, engine: Engine) -> None:
    document = _received()
    repository.add_document(document, "test")
    before = _schema_and_contents(engine)

    migrate(engine)

    assert _schema_and_contents(engine) == before
    assert before["revisions"] == [_head_revision()]
    assert repository.get_document(document.id) == document


def test_a_document_reads_back_as_it_was_stored(repository: SqlRepository) -> None:
    document = Document(
        id=uuid.uuid4().hex,
        inspection_id="insp1",
        agency="police",
        item_number="case_record",
        child_id="C-17",
        document_date=date(2026, 3, 1),
        health_information=True,
        original_filename="record.pdf",
        declared_content_type="application/pdf",
        status=DocumentStatus.accepted,
        reasons=(ReasonCode.duplicate, ReasonCode.outside_lookback),
        warnings=(WarningCode.metadata_stripped, WarningCode.active_content_removed),
        detail="sanitised",
        file_type="pdf",
        mime_type="application/pdf",
        size_bytes=1234,
        sha256_received="a" * 64,
        sha256_stored="b" * 64,
        area=Area.onsite,
        attempts=2,
        received_at=NOW,
        updated_at=NOW + timedelta(minutes=1),
        decided_at=NOW + timedelta(minutes=2),
    )
    repository.add_document(document, "test")

    stored = repository.get_document(document.id)

    assert stored is not None
    assert stored == document
    assert stored.received_at.tzinfo is not None
    assert isinstance(stored.status, DocumentStatus)
    assert all(isinstance(r, ReasonCode) for r in stored.reasons)
    assert all(isinstance(w, WarningCode) for w in stored.warnings)


def test_a_document_is_claimed_by_one_batch_only(repository: SqlRepository) -> None:
    document = _received()
    repository.add_document(document, "test")
    first = repository.claim_next_batch("a" * 32, NOW, 10, 10_000)
    second = repository.claim_next_batch("b" * 32, NOW, 10, 10_000)
    assert [d.id for d in first] == [document.id]
    assert second == []
    assert first[0].status is DocumentStatus.processing
    assert first[0].attempts == 1


def test_a_flow_run_claims_its_batch_again_keeping_its_own_and_leaving_the_rest(
    repository: SqlRepository,
) -> None:
    # Ids chosen so that neither the database's order nor sorting gives the order asked.
    ours, waiting, theirs, final, deleting = (
        _received().model_copy(update={"id": f"{n}" * 32}) for n in (1, 7, 3, 5, 2)
    )
    for document in (ours, waiting, theirs, final, deleting):
        repository.add_document(document, "test")
    assert repository.claim_documents([ours.id], "ours", NOW)
    assert repository.claim_documents([theirs.id], "theirs", NOW)
    repository.claim_documents([final.id], "done", NOW)
    repository.record_outcome(final.id, "done", NOW, status=DocumentStatus.accepted)
    with repository.engine.begin() as connection:
        connection.execute(
            update(DocumentRow).where(DocumentRow.id == deleting.id).values(deletion_started_at=NOW)
        )

    asked = [waiting.id, "unknown", theirs.id, deleting.id, ours.id, final.id, waiting.id]
    claimed = repository.claim_documents(asked, "ours", NOW + timedelta(seconds=1))

    assert [d.id for d in claimed] == [waiting.id, ours.id]
    assert all(d.status is DocumentStatus.processing for d in claimed)
    assert [d.attempts for d in claimed] == [1, 1]  # a re-claim is not another attempt
    # Theirs is still theirs: their outcome is written, once.
    assert repository.record_outcomes(
        "theirs", NOW, [OutcomeToRecord(document_id=theirs.id, status=DocumentStatus.accepted)]
    ) == [True]
    assert repository.get_document(final.id).status is DocumentStatus.accepted  # type: ignore[union-attr]


def test_a_batch_is_bounded_by_count_and_bytes_oldest_first(repository: SqlRepository) -> None:
    documents = [_received(size=400, at=NOW + timedelta(seconds=i)) for i in range(5)]
    for document in documents:
        repository.add_document(document, "test")
    batch = repository.claim_next_batch("c" * 32, NOW, 4, 1000)
    assert [d.id for d in batch] == [d.id for d in documents[:2]]


def test_the_documents_waiting_are_read_oldest_first_with_retries_when_due(
    repository: SqlRepository,
) -> None:
    older, newer = _received(size=7, at=NOW - timedelta(seconds=2)), _received(at=NOW)
    retried = _received(at=NOW - timedelta(seconds=1))
    for document in (newer, older, retried):
        repository.add_document(document, "test")
    repository.claim_documents([retried.id], "r" * 32, NOW)
    repository.record_outcome(
        retried.id,
        "r" * 32,
        NOW,
        status=DocumentStatus.failed,
        next_attempt_at=NOW + timedelta(seconds=30),
    )
    assert [(d.id, d.size_bytes) for d in repository.waiting_documents(NOW, 10)] == [
        (older.id, 7),
        (newer.id, 10),
    ]
    later = repository.waiting_documents(NOW + timedelta(seconds=30), 2)
    assert [d.id for d in later] == [older.id, retried.id]
    assert later[0].received_at == older.received_at


def test_what_was_sent_for_several_items_is_read_at_once_each_in_the_order_received(
    repository: SqlRepository,
) -> None:
    later = _received(at=NOW + timedelta(minutes=1))
    first = _received()
    other_item = _received().model_copy(update={"item_number": "3.2"})
    for document in (later, first, other_item):
        repository.add_document(document, actor="test")

    found = repository.uploads_for_items("insp1", "police", ["3.1", "3.2", "3.3"])

    assert {item: [d.id for d in docs] for item, docs in found.items()} == {
        "3.1": [first.id, later.id],
        "3.2": [other_item.id],
        "3.3": [],
    }
    assert found["3.1"] == repository.uploads_for_item("insp1", "police", "3.1")
    assert repository.uploads_for_items("insp1", "health", ["3.1"]) == {"3.1": []}


def test_an_outcome_is_recorded_only_under_the_claim_that_holds_the_document(
    repository: SqlRepository,
) -> None:
    document = _received()
    repository.add_document(document, "test")
    repository.claim_next_batch("d" * 32, NOW, 1, 100)
    assert not repository.record_outcome(document.id, "e" * 32, NOW, status=DocumentStatus.accepted)
    assert repository.record_outcome(
        document.id, "d" * 32, NOW, status=DocumentStatus.rejected, reasons=[ReasonCode.infected]
    )
    stored = repository.get_document(document.id)
    assert stored is not None
    assert stored.status is DocumentStatus.rejected
    assert stored.reasons == (ReasonCode.infected,)
    assert not repository.record_outcome(document.id, "d" * 32, NOW, status=DocumentStatus.accepted)


def test_a_failed_document_waits_for_its_retry_time(repository: SqlRepository) -> None:
    document = _received()
    repository.add_document(document, "test")
    repository.claim_next_batch("f" * 32, NOW, 1, 100)
    repository.record_outcome(
        document.id,
        "f" * 32,
        NOW,
        status=DocumentStatus.failed,
        reasons=[ReasonCode.scanner_unavailable],
        next_attempt_at=NOW + timedelta(seconds=30),
    )
    assert repository.claim_next_batch("g" * 32, NOW + timedelta(seconds=10), 1, 100) == []
    retried = repository.claim_next_batch("g" * 32, NOW + timedelta(seconds=31), 1, 100)
    assert [d.id for d in retried] == [document.id]
    assert retried[0].attempts == 2


def test_documents_stuck_in_processing_are_released_after_the_lease(
    repository: SqlRepository,
) -> None:
    document = _received()
    repository.add_document(document, "test")
    repository.claim_next_batch("h" * 32, NOW, 1, 100)
    assert repository.release_stale(NOW + timedelta(seconds=60), lease_seconds=300) == []
    assert repository.release_stale(NOW + timedelta(seconds=301), lease_seconds=300) == [
        document.id
    ]
    stored = repository.get_document(document.id)
    assert stored is not None and stored.status is DocumentStatus.received


def test_every_state_change_leaves_an_audit_event(repository: SqlRepository) -> None:
    document = _received()
    repository.add_document(document, "uploader")
    repository.claim_next_batch("i" * 32, NOW, 1, 100)
    repository.record_outcome(document.id, "i" * 32, NOW, status=DocumentStatus.accepted)
    actions = [e["action"] for e in repository.audit_events(document.id)]
    assert actions == ["document_received", "document_accepted"]


def test_a_concerns_evaluation_and_each_signature_are_recorded_once_in_order(
    engine: Engine, tmp_path: Path
) -> None:
    keys = load_keyring(tmp_path / "audit-key", create_at=NOW)
    SqlRepository(engine, audit_keys=keys).add_inspection(
        Inspection(
            id="insp1", theme_key="t/v", area_name="Testshire", agencies=("police",), created_at=NOW
        ),
        actor="test",
    )
    records = ConcernRecords(engine, audit_keys=keys)
    concern = Concern(
        id="0123456789ab",
        inspection_id="insp1",
        agency="police",
        case_numbers=("C1", "C2"),
        category=ConcernCategory.service_offer,
        service="Public protection unit",
        issues="No strategy discussion.",
        referred_by="inspector:user-1",
        referred_at=NOW,
    )
    records.add_concern(concern, response_item(concern, NOW + timedelta(days=2)))
    later = NOW + timedelta(days=3)

    assert not records.sign_concern(
        "insp1", concern.id, Signatory.lead_inspector, "li", None, later
    )
    assert records.record_evaluation("insp1", concern.id, "Seen.", "li", later)
    assert records.sign_concern(
        "insp1", concern.id, Signatory.chief_officer, "po", "A. Chief", later
    )
    assert not records.sign_concern(
        "insp1", concern.id, Signatory.chief_officer, "po", "B. Chief", later
    )
    assert not records.record_evaluation("insp1", concern.id, "Changed.", "li", later)
    assert records.sign_concern("insp1", concern.id, Signatory.lead_inspector, "li", None, later)

    stored = records.get_concern("insp1", concern.id)
    assert stored is not None
    assert (stored.case_numbers, stored.evaluation, stored.chief_officer) == (
        ("C1", "C2"),
        "Seen.",
        "A. Chief",
    )
    assert (stored.lead_signed_at, stored.agency_signed_at) == (later, later)
    assert records.get_concern("other", concern.id) is None
    assert [c.id for c in records.concerns("insp1")] == [concern.id]


def test_the_letters_days_are_recorded_all_or_none(
    repository: SqlRepository, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.adapters.db import retention_records
    from portal.domain.after_fieldwork import LetterStep

    records = retention_records.RetentionRecords(
        engine, audit_keys=load_keyring(tmp_path / "audit-key", create_at=NOW)
    )
    days = {
        LetterStep.draft_letter_shared: date(2027, 4, 30),
        LetterStep.final_letter_sent: date(2027, 6, 3),
        LetterStep.letter_published: date(2027, 6, 10),
    }
    audited: list[str] = []
    real_audit = retention_records._audit

    def audit_failing_on_the_third(*args: Any, **kwargs: Any) -> None:
        audited.append(args[3])
        if len(audited) == 3:
            raise RuntimeError("the database went away")
        real_audit(*args, **kwargs)

    monkeypatch.setattr(retention_records, "_audit", audit_failing_on_the_third)
    with pytest.raises(RuntimeError):
        records.set_letter_days("insp1", days, "li", NOW)
    assert records.letter_days("insp1") == {}

    monkeypatch.setattr(retention_records, "_audit", real_audit)
    records.set_letter_days("insp1", days, "li", NOW)
    assert records.letter_days("insp1") == days
    assert audited == ["letter_day_recorded", "letter_day_recorded", "retention_event_recorded"]


def test_a_rescan_finds_held_documents_judged_under_other_signatures_and_records_them_once(
    repository: SqlRepository,
) -> None:
    old = ScannedWith(signatures=Signatures(engine="1.4.3", database_version=27505), at=NOW)
    new = ScannedWith(signatures=Signatures(engine="1.4.3", database_version=27506), at=NOW)

    def held(status: DocumentStatus = DocumentStatus.accepted, **changes: Any) -> str:
        document = _received().model_copy(
            update={"status": status, "area": Area.clean, "sha256_stored": "same", **changes}
        )
        repository.add_document(document, actor="test")
        return document.id

    judged_before = held(scan_engine="1.4.3", scan_signatures=old.signatures.version)
    never_recorded = held()
    current = held(scan_engine="1.4.3", scan_signatures=new.signatures.version)
    held(status=DocumentStatus.rejected)

    candidates = repository.rescan_candidates("1.4.3", new.signatures.version)
    assert {c.document_id for c in candidates} == {judged_before, never_recorded}
    assert all(c.inspection_created_at == NOW and c.sha256 == "same" for c in candidates)
    another_engine = repository.rescan_candidates("1.4.4", new.signatures.version)
    assert current in {c.document_id for c in another_engine}

    clean = KnownVerdict(verdict=RescanVerdict.clean)
    assert repository.record_rescan({"same": clean}, [judged_before, never_recorded], new, "t") == 2
    assert repository.record_rescan({"same": clean}, [], new, "t") == 0  # kept once
    assert repository.scan_verdicts(["same", "other"], "1.4.3", "27506") == {"same": clean}
    assert repository.scan_verdicts(["same"], "1.4.3", "27505") == {}
    assert repository.rescan_candidates("1.4.3", "27506") == []
    recorded = repository.get_document(judged_before)
    assert recorded is not None
    assert (recorded.scan_signatures, recorded.scanned_at) == ("27506", NOW)


def _scanned_at_upload(reply: str) -> ScannedAtUpload:
    signatures = Signatures(
        engine="1.4.6",
        database_version=27505,
        database_date=NOW - timedelta(hours=5),
        database_id="d70512f927bd6fec",
    )
    return ScannedAtUpload(
        reply=parse_scan_reply(reply), scanned=ScannedWith(signatures=signatures, at=NOW)
    )


def test_a_document_scanned_clean_at_upload_reads_back_with_that_scan_after_a_failed_run(
    repository: SqlRepository,
) -> None:
    document = with_upload_scan(_received(), _scanned_at_upload("stream: OK"), NOW)
    repository.add_document(document, "test")
    assert repository.get_document(document.id) == document

    (claimed,) = repository.claim_next_batch("d" * 32, NOW, 10, 10_000)
    assert repository.record_outcome(
        document.id, "d" * 32, NOW, status=DocumentStatus.failed, next_attempt_at=NOW
    )

    again = repository.get_document(document.id)
    assert again is not None
    assert again.scan_signatures is None  # the failed run recorded no verdict
    assert scanned_clean_at_upload(again) == _scanned_at_upload("stream: OK").scanned
    assert claimed.upload_scan_verdict == "clean"


def test_an_upload_rejected_at_intake_is_recorded_final_with_its_rejection_audited(
    repository: SqlRepository,
) -> None:
    found = _scanned_at_upload("stream: Eicar-Test-Signature FOUND")
    document = with_upload_scan(_received(), found, NOW)
    repository.add_document(document, "uploader", held_by=("hold1",))

    recorded = repository.get_document(document.id)
    assert recorded == document
    assert recorded is not None and recorded.status is DocumentStatus.rejected
    assert recorded.scan_signatures == "27505+d70512f927bd6fec"
    events = repository.audit_events(document.id)
    assert [(e["actor"], e["action"]) for e in events] == [
        ("uploader", "document_received"),
        ("upload_scan", "document_rejected"),
    ]
    assert events[0]["detail"]["upload_scan"] == "found"
    assert events[1]["detail"] == {
        "reasons": ["infected"],
        "scan_signatures": "27505+d70512f927bd6fec",
        "quarantine_kept_by_holds": ["hold1"],
    }
    assert repository.claim_next_batch("e" * 32, NOW, 10, 10_000) == []


def test_many_documents_are_read_in_one_call_and_unknown_ids_are_left_out(
    repository: SqlRepository,
) -> None:
    documents = [_received() for _ in range(3)]
    for document in documents:
        repository.add_document(document, "test")
    asked = [documents[2].id, uuid.uuid4().hex, documents[0].id]
    found = repository.get_documents(asked)
    assert sorted(d.id for d in found) == sorted([documents[0].id, documents[2].id])
    assert {d.id: d for d in found}[documents[0].id] == repository.get_document(documents[0].id)
    assert repository.get_documents([]) == []


def test_five_hundred_documents_are_read_in_one_call(repository: SqlRepository) -> None:
    documents = [_received() for _ in range(500)]
    for document in documents:
        repository.add_document(document, "test")
    found = repository.get_documents([d.id for d in documents])
    assert {d.id for d in found} == {d.id for d in documents}


def test_documents_received_or_processing_are_counted_as_waiting_for_the_pipeline(
    repository: SqlRepository,
) -> None:
    assert repository.waiting_for_pipeline() == 0
    documents = [_received() for _ in range(3)]
    for document in documents:
        repository.add_document(document, "test")
    repository.claim_next_batch("w" * 32, NOW, 1, 100)
    assert repository.waiting_for_pipeline() == 3  # two received, one processing

    repository.record_outcomes(
        "w" * 32,
        NOW,
        [OutcomeToRecord(d.id, DocumentStatus.accepted) for d in documents],
    )

    assert repository.waiting_for_pipeline() == 2


def _fail_updates_deciding(engine: Engine, document_id: str) -> None:
    """A database that refuses to record an outcome for `document_id` (a trigger raising,
    as a full disk or a broken constraint would), in the middle of a batch's transaction."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION jtai_test_refuse() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER jtai_test_refuse BEFORE UPDATE ON documents FOR EACH ROW "
                f"WHEN (NEW.id = '{document_id}' AND NEW.status <> 'processing') "
                "EXECUTE FUNCTION jtai_test_refuse()"
            )
        else:
            connection.exec_driver_sql(
                "CREATE TRIGGER jtai_test_refuse BEFORE UPDATE ON documents "
                f"WHEN NEW.id = '{document_id}' AND NEW.status <> 'processing' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def test_a_batch_of_outcomes_is_written_whole_or_not_at_all(
    repository: SqlRepository, engine: Engine
) -> None:
    documents = [_received() for _ in range(3)]
    for document in documents:
        repository.add_document(document, "test")
    token = "j" * 32
    repository.claim_next_batch(token, NOW, 3, 100)
    children = (ListedChild(child_key="C1", row=2, group=None),)
    outcomes = [
        OutcomeToRecord(documents[0].id, DocumentStatus.accepted, listed_children=children),
        OutcomeToRecord(documents[1].id, DocumentStatus.rejected, reasons=[ReasonCode.infected]),
        OutcomeToRecord(documents[2].id, DocumentStatus.accepted),
    ]
    _fail_updates_deciding(engine, documents[2].id)

    with pytest.raises(Exception, match="refused by the test"):
        repository.record_outcomes(token, NOW, outcomes)

    for document in documents:  # nothing of the batch was written
        stored = repository.get_document(document.id)
        assert stored is not None and stored.status is DocumentStatus.processing
        assert [e["action"] for e in repository.audit_events(document.id)] == ["document_received"]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM listed_children").scalar() == 0
        connection.exec_driver_sql(
            "DROP TRIGGER jtai_test_refuse"
            + (" ON documents" if engine.dialect.name == "postgresql" else "")
        )
        connection.commit()

    assert repository.record_outcomes(token, NOW, outcomes) == [True, True, True]
    assert [d.status for d in map(repository.get_document, [d.id for d in documents]) if d] == [
        DocumentStatus.accepted,
        DocumentStatus.rejected,
        DocumentStatus.accepted,
    ]
    assert [repository.audit_events(d.id)[-1]["action"] for d in documents] == [
        "document_accepted",
        "document_rejected",
        "document_accepted",
    ]


def test_in_a_batch_only_the_outcomes_whose_claim_holds_are_written(
    repository: SqlRepository,
) -> None:
    documents = [_received() for _ in range(3)]
    for document in documents:
        repository.add_document(document, "test")
    repository.claim_next_batch("k" * 32, NOW, 3, 100)
    # The reconciler took the middle one back, and another run holds it now.
    with repository._session() as session, session.begin():
        session.execute(
            update(DocumentRow)
            .where(DocumentRow.id == documents[1].id)
            .values(claim_token="l" * 32)
        )

    written = repository.record_outcomes(
        "k" * 32, NOW, [OutcomeToRecord(d.id, DocumentStatus.accepted) for d in documents]
    )

    assert written == [True, False, True]
    statuses = [repository.get_document(d.id) for d in documents]
    assert [s.status for s in statuses if s] == [
        DocumentStatus.accepted,
        DocumentStatus.processing,
        DocumentStatus.accepted,
    ]
    assert [e["action"] for e in repository.audit_events(documents[1].id)] == ["document_received"]
