"""Retention runs against real stores (the filesystem, moto's versioned S3 bucket) and real
databases (SQLite, PostgreSQL): what goes, what is held, names, and interrupted runs."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from portal.adapters.store_fs import FilesystemStore
from portal.bootstrap import Container
from portal.domain.access import Inspection, Role
from portal.domain.chase import MessageKind, PlannedMessage
from portal.domain.concerns import Concern, ConcernCategory, Signatory, response_item
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.errors import StoreUnavailable
from portal.domain.extra_items import ExtraItem
from portal.domain.ports import ObjectStore
from portal.domain.retention import RetentionEvent, RunInProgress
from portal.domain.timeline import LONDON
from portal.services.identities import new_user
from portal.services.retention_runs import run_retention
from portal.settings import Settings
from tests.factories import build_beside_processes, build_portal, settable_clock
from tests.integration.s3_fixtures import S3Target, s3_inprocess  # noqa: F401

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
# Fieldwork starts Monday 30 March 2026 and, Good Friday being a bank holiday, ends on
# Thursday 2 April. Child lists are due 20 April, health records 13 April, names 2 April.
FIELDWORK_START = date(2026, 3, 30)
INSPECTION = "insp-retention"
REGISTERED_NAME = "Jayden Okafor"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


@dataclass
class Portal:
    container: Container
    store: ObjectStore
    s3: S3Target | None
    added: int = 0

    def add_document(
        self,
        item: str,
        *,
        status: DocumentStatus = DocumentStatus.accepted,
        area: Area = Area.clean,
        filename: str = "report.pdf",
        versions: int = 1,
        decided_at: datetime = T0,
    ) -> Document:
        self.added += 1
        doc = Document(
            id=uuid.uuid4().hex,
            inspection_id=INSPECTION,
            agency="local_authority",
            item_number=item,
            child_id="C1" if item in ("case_record", "audit") else None,
            original_filename=filename,
            status=status,
            area=area,
            size_bytes=11,
            sha256_received="a" * 64,
            sha256_stored="b" * 64,
            detail=f"uploaded as {filename}",
            received_at=T0 + timedelta(seconds=self.added),
            updated_at=decided_at,
            decided_at=decided_at,
        )
        self.container.repository.add_document(doc, "test")
        for n in range(versions):
            self.store.put(area, doc.object_key, io.BytesIO(f"version {n}".encode()))
        return doc

    def run(self, day: date, dry_run: bool = False) -> Any:
        return run_retention(self.container, dry_run=dry_run, as_of=at(day), actor="test")

    def gone(self, doc: Document) -> bool:
        return all(self.store.versions(area, doc.object_key) == () for area in Area)


def _settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        retention_run_lease_seconds=600,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(params=["filesystem-sqlite", "s3versioned-sqlite", "filesystem-postgresql"])
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Portal]:
    database_url = None
    if request.param.endswith("postgresql"):
        database_url = request.getfixturevalue("postgres_url")
    s3: S3Target | None = None
    store: ObjectStore
    if request.param.startswith("s3"):
        s3 = request.getfixturevalue("s3_inprocess")
        store = s3.store
    else:
        store = FilesystemStore(tmp_path / "objects")
    container = build_portal(_settings(tmp_path, database_url), store=store)
    if database_url:
        _empty_database(container)
    container.repository.add_inspection(
        Inspection(
            id=INSPECTION,
            theme_key="domestic-abuse/sept-2024",
            area_name="Testshire",
            fieldwork_start=FIELDWORK_START,
            agencies=("local_authority", "police"),
            created_at=T0,
        ),
        actor="test",
    )
    yield Portal(container, store, s3)
    if database_url:
        _empty_database(container)


def _empty_database(container: Container) -> None:
    """The PostgreSQL database is shared by the session's tests: start each one empty."""
    from portal.adapters.db.tables import Base

    with container.repository.engine.begin() as connection:
        # The audit log is append-only outside retention (migration 0008's triggers).
        connection.exec_driver_sql("SET LOCAL jtai.audit_retention = 'on'")
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def test_a_dry_run_lists_what_would_go_and_deletes_nothing(portal: Portal) -> None:
    child_list = portal.add_document("list:ilacs_4")
    case_record = portal.add_document("case_record")
    run = portal.run(date(2026, 4, 20), dry_run=True)
    would = {e.record_id: e for e in run.entries if e.action == "would_delete"}
    assert set(would) == {child_list.id}
    assert would[child_list.id].rule == "10 working days after fieldwork_end"
    assert would[child_list.id].due == date(2026, 4, 20)
    assert not portal.gone(child_list) and not portal.gone(case_record)
    assert portal.container.repository.get_document(child_list.id).deleted_at is None  # type: ignore[union-attr]
    assert run.summary["would_delete"] == 1
    assert run.status == "completed" and run.dry_run


def test_documents_go_on_their_due_working_day_with_every_version(portal: Portal) -> None:
    child_list = portal.add_document("list:ilacs_4", versions=3, filename="Jayden list.xlsx")
    health = portal.add_document("case_record", area=Area.onsite)
    rejected = portal.add_document(
        "1.1",
        status=DocumentStatus.rejected,
        area=Area.quarantine,
        decided_at=at(date(2026, 4, 1)),
    )
    # A quarantine copy left behind by an accepted document: deleted with it.
    portal.store.put(Area.quarantine, child_list.object_key, io.BytesIO(b"leftover"))

    first = portal.run(date(2026, 4, 17))
    deleted = {e.record_id for e in first.entries if e.action == "deleted"}
    assert deleted == {health.id, rejected.id}
    assert not portal.gone(child_list)

    second = portal.run(date(2026, 4, 20))
    entry = next(e for e in second.entries if e.record_id == child_list.id)
    assert entry.action == "deleted"
    assert entry.retention_class == "child_list"
    assert (entry.sha256, entry.size_bytes) == ("b" * 64, 11)
    assert entry.proof["versions_remaining"] == 0
    assert set(entry.proof["areas_checked"]) == {"quarantine", "clean", "onsite"}
    assert portal.gone(child_list) and portal.gone(health) and portal.gone(rejected)
    if portal.s3 is not None:
        listing = portal.s3.client.list_object_versions(Bucket=portal.s3.bucket)
        keys = [v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
        assert not [k for k in keys if child_list.id in k]

    tombstone = portal.container.repository.get_document(child_list.id)
    assert tombstone is not None and tombstone.deleted_at is not None
    assert (tombstone.original_filename, tombstone.detail) == ("", "")
    assert (tombstone.item_number, tombstone.sha256_stored) == ("list:ilacs_4", "b" * 64)


def test_evidence_stays_until_the_letter_is_recorded_and_its_complaint_window_closes(
    portal: Portal,
) -> None:
    case_record = portal.add_document("case_record")
    assert not [e for e in portal.run(date(2026, 12, 1)).entries if e.action == "deleted"]
    portal.container.records.set_event(
        INSPECTION, RetentionEvent.letter_published, date(2026, 5, 21), "test", T0
    )
    assert not portal.run(date(2026, 6, 4)).entries
    assert portal.gone(case_record) is False
    portal.run(date(2026, 6, 5))
    assert portal.gone(case_record)


def test_held_documents_stay_until_the_hold_is_lifted(portal: Portal) -> None:
    held = portal.add_document("list:ilacs_4")
    other = portal.add_document("list:ilacs_6")
    records = portal.container.records
    document_hold = records.place_hold(INSPECTION, held.id, "claim JR/123", "ro", T0)

    run = portal.run(date(2026, 4, 20))
    entries = {e.record_id: e for e in run.entries}
    assert entries[held.id].action == "held"
    assert entries[held.id].hold_ids == (document_hold.id,)
    assert entries[other.id].action == "deleted"
    assert not portal.gone(held)

    inspection_hold = records.place_hold(INSPECTION, None, "litigation", "ro", T0)
    records.lift_hold(document_hold.id, "claim settled", "ro", T0)
    assert portal.run(date(2026, 4, 21)).entries[0].hold_ids == (inspection_hold.id,)
    assert not portal.gone(held)

    records.lift_hold(inspection_hold.id, "litigation over", "ro", T0)
    run = portal.run(date(2026, 4, 22))
    assert [e.action for e in run.entries if e.record_id == held.id] == ["deleted"]
    assert portal.gone(held)


def test_no_registered_name_is_left_anywhere_after_the_names_run(portal: Portal) -> None:
    container = portal.container
    records = container.records
    records.add_name(INSPECTION, REGISTERED_NAME, "C1", "Okafor family, 3 siblings", "li", T0)
    doc = portal.add_document("case_record", filename=f"{REGISTERED_NAME} chronology.pdf")
    container.repository.set_deadline_override(
        INSPECTION,
        "week1_tuesday_5pm",
        at(date(2026, 3, 17), 17),
        f"moved for Jayden's conference ({REGISTERED_NAME})",
        "li",
        T0,
    )
    container.repository.enqueue_messages(
        [
            PlannedMessage(
                key="k1",
                inspection_id=INSPECTION,
                agency="police",
                deadline="week1_tuesday_5pm",
                kind=MessageKind.reminder,
                recipients=("a@example.org",),
                subject="Reminder",
                body=f"Records for {REGISTERED_NAME.upper()} are missing.",
            )
        ],
        T0,
    )
    container.repository.add_extra_item(
        ExtraItem(
            id="0123456789ab",
            inspection_id=INSPECTION,
            agency="police",
            title=f"Notes of the strategy meeting about {REGISTERED_NAME}",
            due=at(date(2026, 3, 19), 17),
            added_by="li",
            added_at=T0,
        )
    )
    container.repository.mark_on_site(INSPECTION, "C1", "police", "li", T0)
    container.repository.confirm_arrangement(
        INSPECTION,
        "C1",
        "police",
        f"Room 4, ask for {REGISTERED_NAME}'s worker",
        date(2026, 3, 23),
        "police",
        T0,
    )
    _add_concern(
        container,
        issues=f"No strategy discussion after {REGISTERED_NAME}'s disclosure",
        evaluation=f"The response explains the plan for {REGISTERED_NAME}.",
        chief_officer=f"Signed for {REGISTERED_NAME}'s health visitor",
    )
    assert records.find_text([REGISTERED_NAME])

    assert not [e for e in portal.run(date(2026, 4, 1)).entries if e.record_kind == "names"]
    run = portal.run(date(2026, 4, 2))

    assert records.find_text([REGISTERED_NAME, "Jayden", "Okafor"]) == {}
    entry = next(e for e in run.entries if e.record_kind == "names")
    assert entry.action == "names_reduced" and entry.count == 1
    assert entry.proof["names_found_in_database"] == 0
    assert entry.proof["names_found_in_stored_metadata"] == 0
    assert entry.proof["objects_metadata_checked"] == 1
    assert records.names(INSPECTION)[0].name == "J.O."
    assert container.repository.get_document(doc.id).original_filename == f"{doc.id}.pdf"  # type: ignore[union-attr]
    record = json.dumps(records.get_run(run.id).model_dump(mode="json"))  # type: ignore[union-attr]
    assert "jayden" not in record.lower() and "okafor" not in record.lower()
    # Names are reduced once; later runs leave the register alone.
    assert not [e for e in portal.run(date(2026, 4, 3)).entries if e.record_kind == "names"]


def _add_concern(
    container: Container, *, issues: str, evaluation: str, chief_officer: str
) -> Concern:
    """An issue of concern raised with the police, evaluated and signed by its chief officer."""
    concern = Concern(
        id="fedcba987654",
        inspection_id=INSPECTION,
        agency="police",
        case_numbers=("C1",),
        category=ConcernCategory.serious,
        service="Public protection unit",
        issues=issues,
        referred_by="inspector",
        referred_at=T0,
    )
    container.concerns.add_concern(concern, response_item(concern, at(date(2026, 3, 19), 17)))
    assert container.concerns.record_evaluation(INSPECTION, concern.id, evaluation, "li", T0)
    assert container.concerns.sign_concern(
        INSPECTION, concern.id, Signatory.chief_officer, "police", chief_officer, T0
    )
    return concern


def test_issues_of_concern_go_with_their_text_when_the_evidence_does(portal: Portal) -> None:
    container = portal.container
    _add_concern(
        container,
        issues="Strategy discussion not held for C1",
        evaluation="Evaluation shared on the Thursday",
        chief_officer="Chief Constable Margaret Example",
    )
    container.records.set_event(
        INSPECTION, RetentionEvent.letter_published, date(2026, 5, 21), "test", T0
    )
    assert not [e for e in portal.run(date(2026, 6, 4)).entries if e.record_kind == "concerns"]

    run = portal.run(date(2026, 6, 5))

    entry = next(e for e in run.entries if e.record_kind == "concerns")
    assert (entry.action, entry.count, entry.retention_class) == (
        "deleted",
        1,
        "annex_a_information",
    )
    assert container.concerns.concerns(INSPECTION) == []
    assert container.repository.extra_items(INSPECTION) == []
    texts = [
        "Strategy discussion not held",
        "Evaluation shared",
        "Margaret Example",
        "Public protection",
    ]
    assert container.records.find_text(texts) == {}


def test_arrangements_to_see_records_on_site_go_when_the_evidence_does(portal: Portal) -> None:
    container = portal.container
    container.repository.mark_on_site(INSPECTION, "C1", "police", "li", T0)
    container.repository.confirm_arrangement(
        INSPECTION, "C1", "police", "Room 4, Civic Centre", date(2026, 3, 23), "police", T0
    )
    container.records.set_event(
        INSPECTION, RetentionEvent.letter_published, date(2026, 5, 21), "test", T0
    )

    run = portal.run(date(2026, 6, 5))

    entry = next(e for e in run.entries if e.record_kind == "on_site_arrangements")
    assert (entry.action, entry.count) == ("deleted", 1)
    assert container.records.find_text(["Room 4, Civic Centre"]) == {}


class ProcessKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


class DyingStore:
    """Passes everything to the real store, but dies (or fails) on the n-th delete."""

    def __init__(self, inner: ObjectStore, on_delete: int, error: BaseException) -> None:
        self.inner = inner
        self.deletes = 0
        self.on_delete = on_delete
        self.error = error

    def delete(self, area: Area, key: str) -> None:
        self.deletes += 1
        if self.deletes == self.on_delete:
            raise self.error
        self.inner.delete(area, key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _with_store(container: Container, store: Any) -> Container:
    from dataclasses import replace

    return replace(container, store=store)


def test_a_run_killed_mid_deletion_is_finished_by_the_next_run(portal: Portal) -> None:
    docs = [portal.add_document(f"list:ilacs_{n}") for n in (4, 6, 7)]
    # Each document is deleted in 3 areas: the 5th delete is the second document's second.
    dying = _with_store(portal.container, DyingStore(portal.store, 5, ProcessKilled("SIGKILL")))
    with pytest.raises(ProcessKilled):
        run_retention(dying, dry_run=False, as_of=at(date(2026, 4, 20)))
    killed = portal.container.records.runs()[0]
    assert killed.status == "running"
    assert portal.gone(docs[0]) and not portal.gone(docs[2])
    assert list(portal.container.records.unfinished_deletions()) == [docs[1].id]

    later = _settings_with_lease(portal.container, 60)
    settable_clock(portal.container).advance(timedelta(minutes=2))  # the killed run is silent
    run = run_retention(later, dry_run=False, as_of=at(date(2026, 4, 20)))

    assert run.completes == (killed.id,)
    entries = {e.record_id: e for e in run.entries}
    assert entries[docs[1].id].action == "deleted"
    assert entries[docs[1].id].resumed_from == killed.id
    assert entries[docs[2].id].action == "deleted"
    assert all(portal.gone(d) for d in docs)
    assert portal.container.records.unfinished_deletions() == {}
    old = portal.container.records.get_run(killed.id)
    assert old is not None and (old.status, old.completed_by) == ("interrupted", run.id)
    # The killed run's record keeps what it did finish.
    assert [e.record_id for e in old.entries] == [docs[0].id]


def _settings_with_lease(container: Container, seconds: float) -> Container:
    from dataclasses import replace

    return replace(
        container,
        settings=container.settings.model_copy(update={"retention_run_lease_seconds": seconds}),
    )


def test_a_store_failure_leaves_the_document_for_the_next_run(portal: Portal) -> None:
    doc = portal.add_document("list:ilacs_4")
    failing = _with_store(
        portal.container, DyingStore(portal.store, 2, StoreUnavailable("S3 timed out"))
    )
    first = run_retention(failing, dry_run=False, as_of=at(date(2026, 4, 20)))
    failed = [(e.action, e.reason) for e in first.entries if e.record_kind == "document"]
    assert failed == [("failed", "S3 timed out")]
    assert first.summary["failed"] == 1
    assert portal.container.repository.get_document(doc.id).deleted_at is None  # type: ignore[union-attr]

    second = portal.run(date(2026, 4, 20))
    resumed = [(e.action, e.resumed_from) for e in second.entries if e.record_kind == "document"]
    assert resumed == [("deleted", first.id)]
    assert portal.gone(doc)


def test_a_second_deleting_run_is_refused_while_one_is_alive(portal: Portal) -> None:
    portal.container.records.start_run(
        "alive",
        dry_run=False,
        as_of=T0,
        actor="test",
        policy_sha256="0" * 64,
        now=portal.container.clock.now(),
        lease_seconds=600,
    )
    with pytest.raises(RunInProgress):
        portal.run(date(2026, 4, 20))
    assert portal.run(date(2026, 4, 20), dry_run=True).status == "completed"


def test_the_outbox_and_the_audit_log_go_by_their_rules(portal: Portal) -> None:
    container = portal.container
    container.repository.enqueue_messages(
        [
            PlannedMessage(
                key="k1",
                inspection_id=INSPECTION,
                agency="police",
                deadline="week1_tuesday_5pm",
                kind=MessageKind.reminder,
                recipients=("a@example.org",),
                subject="Reminder",
                body="Items are missing.",
            )
        ],
        T0,
    )
    portal.add_document("1.1")
    run = portal.run(date(2026, 4, 20))
    outbox = next(e for e in run.entries if e.record_kind == "outbox")
    assert (outbox.action, outbox.count) == ("deleted", 1)
    assert container.records.outbox_count(INSPECTION) == 0

    container.records.set_event(
        INSPECTION, RetentionEvent.letter_published, date(2026, 5, 21), "test", T0
    )
    assert container.records.audit_log_count(INSPECTION) > 0
    run = portal.run(date(2027, 7, 1))
    audit = next(e for e in run.entries if e.record_kind == "audit_log")
    assert audit.action == "deleted" and audit.count and audit.proof["last_event_id"]
    assert container.records.audit_log_count(INSPECTION) == 0


KILLER = """
import os, signal, sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from portal.adapters.store_fs import FilesystemStore
from portal.bootstrap import build
from portal.services.retention_runs import run_retention
from portal.settings import Settings

class KilledOnSecondDocument(FilesystemStore):
    keys: set[str] = set()

    def delete(self, area, key):
        self.keys.add(key)
        if len(self.keys) == 2 and area.value == "clean":
            os.kill(os.getpid(), signal.SIGKILL)
        super().delete(area, key)

data, objects, as_of = sys.argv[1], sys.argv[2], sys.argv[3]
container = build(Settings(data_dir=Path(data), _env_file=None),
                  store=KilledOnSecondDocument(Path(objects)))
run_retention(container, dry_run=False, as_of=datetime.fromisoformat(as_of))
"""


def test_a_process_killed_by_sigkill_mid_run_is_finished_by_the_next_run(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    store = FilesystemStore(tmp_path / "objects")
    container = build_beside_processes(_settings(tmp_path, None), store=store)
    container.repository.add_inspection(
        Inspection(
            id=INSPECTION,
            theme_key="domestic-abuse/sept-2024",
            area_name="Testshire",
            fieldwork_start=FIELDWORK_START,
            agencies=("local_authority",),
            created_at=T0,
        ),
        actor="test",
    )
    portal = Portal(container, store, None)
    docs = [portal.add_document(f"list:ilacs_{n}") for n in (4, 6, 7)]
    as_of = at(date(2026, 4, 20))

    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLER,
            str(tmp_path / "data"),
            str(tmp_path / "objects"),
            as_of.isoformat(),
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    assert list(container.records.unfinished_deletions()) == [docs[1].id]
    assert portal.gone(docs[0]) and not portal.gone(docs[2])

    later = _settings_with_lease(container, 0.001)
    run = run_retention(later, dry_run=False, as_of=as_of)
    assert len(run.completes) == 1
    resumed = [e.record_id for e in run.entries if e.resumed_from == run.completes[0]]
    assert resumed == [docs[1].id]
    assert all(portal.gone(d) for d in docs)


def test_a_name_found_after_reduction_fails_the_run_and_alerts_the_records_officer(
    portal: Portal,
) -> None:
    container = portal.container
    container.records.add_name(INSPECTION, REGISTERED_NAME, "C1", "", "li", T0)
    # Someone registered a person under the child's name: the reduction does not touch
    # the users table, so the names check finds it there.
    new_user(container, Role.inspector, REGISTERED_NAME, inspection_id=INSPECTION)
    new_user(
        container,
        Role.records_officer,
        "R. Officer",
        inspection_id=INSPECTION,
        email="records@inspectorate.example",
    )

    run = portal.run(date(2026, 4, 2))

    assert run.status == "failed"
    assert run.summary["names_check_failures"] == 1
    entry = next(e for e in run.entries if e.record_kind == "names")
    assert entry.proof["found_in_columns"] == ["users.name"]
    (alert,) = [m for m in container.repository.outbox(INSPECTION) if m.kind == "records_alert"]
    assert alert.recipients == ("records@inspectorate.example",)
    assert alert.status == "sent", alert.last_error
    assert "users.name" in alert.body and run.id in alert.body
    assert "okafor" not in (alert.subject + alert.body).lower()


def test_a_reduced_name_is_in_no_file_of_the_sqlite_database(tmp_path: Path) -> None:
    container = build_portal(_settings(tmp_path, None), store=FilesystemStore(tmp_path / "o"))
    container.repository.add_inspection(
        Inspection(
            id=INSPECTION,
            theme_key="domestic-abuse/sept-2024",
            area_name="Testshire",
            fieldwork_start=FIELDWORK_START,
            agencies=("local_authority", "police"),
            created_at=T0,
        ),
        actor="test",
    )
    container.records.add_name(INSPECTION, REGISTERED_NAME, "C1", "Okafor family note", "li", T0)
    container.records.place_hold(INSPECTION, None, f"complaint from {REGISTERED_NAME}", "ro", T0)
    (hold,) = container.records.holds(INSPECTION)
    container.records.lift_hold(hold.id, "resolved", "ro", T0)
    database = Path(container.settings.resolved_database_url.removeprefix("sqlite:///"))
    files = [database, database.with_name(database.name + "-wal")]
    assert any(b"Okafor" in f.read_bytes() for f in files if f.exists())

    run = run_retention(container, dry_run=False, as_of=at(date(2026, 4, 2)), actor="test")

    assert run.status == "completed"
    for file in files:
        if file.exists():
            assert b"Okafor" not in file.read_bytes(), f"the name is still in {file.name}"
