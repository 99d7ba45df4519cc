"""Withdrawing a document a rescan found infected, against real stores (the filesystem,
moto's versioned S3 buckets, health records in a bucket of their own) and real databases
(SQLite, PostgreSQL): its status, every version of its bytes, legal holds, the audit log,
the notices, interrupted calls, and retention afterwards."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from portal.adapters.store_fs import FilesystemStore
from portal.adapters.store_routed import AreaRoutedStore
from portal.adapters.store_s3 import S3Store, ensure_bucket
from portal.bootstrap import Container
from portal.domain.access import Inspection, Principal, Role
from portal.domain.chase import Contacts, MessageKind
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.errors import Refusal, Refused, StoreUnavailable
from portal.domain.ports import ObjectStore
from portal.domain.reasons import ReasonCode
from portal.domain.timeline import LONDON
from portal.domain.withdrawal import WithdrawalOutcome
from portal.services.onsite import read_content
from portal.services.retention_runs import run_retention
from portal.services.withdrawal import withdraw_infected
from portal.settings import Settings
from tests.factories import build_portal, settable_clock
from tests.integration.s3_fixtures import STORE_PREFIX, S3Target, s3_inprocess  # noqa: F401
from tests.integration.test_retention_runs import _empty_database

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
INSPECTION = "insp-withdrawal"
SIGNATURE = "Win.Test.EICAR_HDB-1"
SCANNER = "ClamAV 1.0.7/27432/Mon Dec  1 09:12:00 2026"
AGENCY_MAIL = "la@council.example"
LEAD_MAIL = "lead@inspectorate.example"
FILENAME = "Jayden Okafor chronology.pdf"


@dataclass
class Portal:
    container: Container
    store: ObjectStore

    def accepted(
        self,
        area: Area = Area.clean,
        versions: int = 1,
        status: DocumentStatus = DocumentStatus.accepted,
    ) -> Document:
        """A document (accepted unless `status` says otherwise) whose bytes (`versions` of
        them) are in `area`."""
        doc = Document(
            id=uuid.uuid4().hex,
            inspection_id=INSPECTION,
            agency="local_authority",
            item_number="case_record" if area is Area.onsite else "1.1",
            child_id="C1" if area is Area.onsite else None,
            original_filename=FILENAME,
            status=status,
            area=area,
            size_bytes=9,
            sha256_received="a" * 64,
            sha256_stored="b" * 64,
            received_at=T0,
            updated_at=T0,
            decided_at=T0,
        )
        self.container.repository.add_document(doc, "test")
        for n in range(versions):
            self.store.put(area, doc.object_key, io.BytesIO(f"version {n}".encode()))
        return doc

    def versions(self, doc: Document) -> dict[Area, tuple[str, ...]]:
        return {area: self.store.versions(area, doc.object_key) for area in Area}

    def withdraw(self, doc: Document, container: Container | None = None) -> Any:
        return withdraw_infected(container or self.container, doc.id, SIGNATURE, SCANNER)

    def events(self, doc: Document) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (e["actor"], e["action"], e["detail"])
            for e in self.container.repository.audit_events(doc.id)
        ]

    def notices(self) -> list[Any]:
        return [
            m
            for m in self.container.repository.outbox(INSPECTION)
            if m.kind is MessageKind.withdrawal_notice
        ]

    def hold(self, document_id: str | None = None) -> str:
        return self.container.records.place_hold(
            INSPECTION, document_id, "claim CL-4", "records_officer:test", T0
        ).id


def _settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        _env_file=None,  # type: ignore[call-arg]
    )


def _onsite_bucket(s3: S3Target) -> S3Store:
    bucket = f"{s3.bucket}-onsite"
    ensure_bucket(s3.client, bucket, prefix=STORE_PREFIX)
    return S3Store(s3.client, bucket, STORE_PREFIX)


@pytest.fixture(
    params=[
        "filesystem-sqlite",
        "s3versioned-sqlite",
        "filesystem-postgresql",
        "s3onsitebucket-postgresql",
    ]
)
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Portal]:
    database_url = None
    if request.param.endswith("postgresql"):
        database_url = request.getfixturevalue("postgres_url")
    store: ObjectStore = FilesystemStore(tmp_path / "objects")
    if request.param.startswith("s3"):
        s3: S3Target = request.getfixturevalue("s3_inprocess")
        store = s3.store
        if request.param.startswith("s3onsitebucket"):
            store = AreaRoutedStore(s3.store, {Area.onsite: _onsite_bucket(s3)})
    container = build_portal(_settings(tmp_path, database_url), store=store)
    settable_clock(container).set(T0 + timedelta(days=1))
    if database_url:
        _empty_database(container)
    container.repository.add_inspection(
        Inspection(
            id=INSPECTION,
            theme_key="domestic-abuse/sept-2024",
            area_name="Testshire",
            fieldwork_start=date(2026, 12, 7),
            agencies=("local_authority", "police"),
            created_at=T0,
        ),
        actor="test",
    )
    container.repository.set_contacts(
        INSPECTION,
        Contacts(lead_inspector=(LEAD_MAIL,), agencies={"local_authority": (AGENCY_MAIL,)}),
    )
    yield Portal(container, store)
    if database_url:
        _empty_database(container)


def test_a_withdrawn_document_says_why_and_nothing_of_its_bytes_is_left(portal: Portal) -> None:
    doc = portal.accepted(versions=3)

    done = portal.withdraw(doc)

    assert (done.outcome, done.hold_ids) == (WithdrawalOutcome.withdrawn, ())
    stored = portal.container.repository.get_document(doc.id)
    assert stored is not None
    assert stored.status is DocumentStatus.withdrawn
    assert stored.reasons == (ReasonCode.infected_on_rescan,)
    assert stored.detail == f"{SIGNATURE} (found on rescan by {SCANNER})"
    assert stored.decided_at == portal.container.clock.now()
    assert stored.area is Area.quarantine
    assert stored.sha256_stored == "b" * 64  # what was accepted stays on record
    assert portal.versions(doc) == {area: () for area in Area}


def test_the_audit_log_records_the_withdrawal_and_where_the_bytes_went_without_names(
    portal: Portal,
) -> None:
    doc = portal.accepted()
    portal.withdraw(doc)

    withdrawn, settled = portal.events(doc)[-2:]
    assert withdrawn == (
        "rescan",
        "document_withdrawn",
        {
            "reasons": ["infected_on_rescan"],
            "signature": SIGNATURE,
            "scanned_with": SCANNER,
            "area": "clean",
        },
    )
    assert settled == (
        "rescan",
        "withdrawn_content_deleted",
        {"areas_emptied": ["clean", "onsite"], "hold_ids": [], "kept_sha256": None},
    )
    assert "okafor" not in str(portal.events(doc)).lower()
    assert portal.container.audit_log.verify(portal.container.audit_keys, []).ok


def test_the_agency_and_the_lead_are_told_once_however_often_it_is_called(
    portal: Portal,
) -> None:
    doc = portal.accepted()
    portal.withdraw(doc)
    events = portal.events(doc)

    again = portal.withdraw(doc)

    assert again.outcome is WithdrawalOutcome.already_withdrawn
    assert portal.events(doc) == events
    notices = portal.notices()
    assert sorted(m.recipients for m in notices) == [(AGENCY_MAIL,), (LEAD_MAIL,)]
    assert {m.status for m in notices} == {"sent"}
    agency = next(m for m in notices if m.agency == "local_authority")
    assert "clean copy" in agency.body and doc.id in agency.body


def test_a_legal_hold_keeps_a_health_record_s_bytes_quarantined_and_never_readable(
    portal: Portal,
) -> None:
    doc = portal.accepted(area=Area.onsite, versions=2)
    hold = portal.hold()

    done = portal.withdraw(doc)

    assert (done.outcome, done.hold_ids) == (WithdrawalOutcome.withdrawn, (hold,))
    versions = portal.versions(doc)
    assert versions[Area.clean] == () and versions[Area.onsite] == ()
    assert len(versions[Area.quarantine]) == 1
    with portal.store.open(Area.quarantine, doc.object_key) as kept:
        assert kept.read() == b"version 1"
    stored = portal.container.repository.get_document(doc.id)
    assert stored is not None and stored.area is Area.quarantine
    action, detail = portal.events(doc)[-1][1:]
    assert action == "withdrawn_content_quarantined"
    assert detail["hold_ids"] == [hold] and detail["kept_sha256"]

    inspector = Principal(token_id="t1", role=Role.inspector, inspection_id=INSPECTION)
    with pytest.raises(Refused) as refused:
        read_content(portal.container, inspector, doc.id, "127.0.0.1")
    assert (refused.value.kind, refused.value.code) == (Refusal.gone, "document_withdrawn")
    assert portal.events(doc)[-1][1:] == (
        "document_view_denied",
        {"address": "127.0.0.1", "rule": "withdrawn", "area": "quarantine"},
    )


def test_a_hold_on_another_document_keeps_nothing_of_this_one(portal: Portal) -> None:
    doc, other = portal.accepted(), portal.accepted()
    portal.hold(other.id)

    assert portal.withdraw(doc).hold_ids == ()
    assert portal.versions(doc) == {area: () for area in Area}


class FailingDeletes:
    """The real store, except that its first `failures` deletes fail as S3 timing out."""

    def __init__(self, inner: ObjectStore, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def delete(self, area: Area, key: str) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("S3 timed out")
        self.inner.delete(area, key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_store_failure_leaves_it_withdrawn_and_unreadable_and_the_next_call_finishes(
    portal: Portal,
) -> None:
    doc = portal.accepted(versions=2)
    failing = replace(portal.container, store=FailingDeletes(portal.store, 1))

    with pytest.raises(StoreUnavailable):
        portal.withdraw(doc, failing)

    stored = portal.container.repository.get_document(doc.id)
    assert stored is not None
    assert (stored.status, stored.area) == (DocumentStatus.withdrawn, Area.clean)
    assert portal.store.versions(Area.clean, doc.object_key)  # not gone yet, but unreadable
    lead = Principal(token_id="t2", role=Role.lead_inspector, inspection_id=INSPECTION)
    with pytest.raises(Refused) as refused:
        read_content(portal.container, lead, doc.id, "127.0.0.1")
    assert refused.value.code == "document_withdrawn"
    assert len(portal.notices()) == 2  # told at once, whatever happens to the bytes

    finished = portal.withdraw(doc)

    assert finished.outcome is WithdrawalOutcome.finished
    assert portal.versions(doc) == {area: () for area in Area}
    actions = [action for _actor, action, _detail in portal.events(doc)]
    assert actions.count("document_withdrawn") == 1
    assert actions.count("withdrawn_content_deleted") == 1
    assert len(portal.notices()) == 2
    assert portal.withdraw(doc).outcome is WithdrawalOutcome.already_withdrawn


@pytest.mark.parametrize(
    "status", [DocumentStatus.received, DocumentStatus.failed, DocumentStatus.rejected]
)
def test_a_document_that_was_never_accepted_is_left_alone(
    portal: Portal, status: DocumentStatus
) -> None:
    doc = portal.accepted(area=Area.quarantine, status=status)
    events = portal.events(doc)

    assert portal.withdraw(doc).outcome is WithdrawalOutcome.not_accepted
    assert portal.events(doc) == events
    assert portal.store.versions(Area.quarantine, doc.object_key)
    assert portal.notices() == []
    assert withdraw_infected(portal.container, "nope", SIGNATURE, SCANNER).outcome is (
        WithdrawalOutcome.not_found
    )


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=LONDON)


def test_retention_tombstones_a_withdrawn_document_after_two_working_weeks_unless_held(
    portal: Portal,
) -> None:
    loose, held = portal.accepted(), portal.accepted()
    hold = portal.hold(held.id)
    portal.withdraw(loose)
    portal.withdraw(held)  # withdrawn on Tuesday 1 December 2026

    early = run_retention(portal.container, dry_run=False, as_of=_at(date(2026, 12, 14)))
    assert not [e for e in early.entries if e.record_kind == "document"]

    run = run_retention(portal.container, dry_run=False, as_of=_at(date(2026, 12, 15)))
    entries = {e.record_id: e for e in run.entries if e.record_kind == "document"}
    assert (entries[loose.id].action, entries[loose.id].retention_class) == (
        "deleted",
        "rejected_upload",
    )
    assert (entries[held.id].action, entries[held.id].hold_ids) == ("held", (hold,))
    assert portal.store.versions(Area.quarantine, held.object_key)

    portal.container.records.lift_hold(hold, "claim settled", "records_officer:test", T0)
    run_retention(portal.container, dry_run=False, as_of=_at(date(2026, 12, 15)))
    assert portal.versions(held) == {area: () for area in Area}
    gone = portal.container.repository.get_document(held.id)
    assert gone is not None and gone.deleted_at is not None and gone.original_filename == ""
