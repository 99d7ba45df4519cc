"""Tokens are scoped: uploaders to their agency, staff to their inspection."""

from datetime import UTC, datetime

from portal.domain.access import (
    Principal,
    Role,
    can_read_content,
    can_see_status,
    can_upload,
    retention_scope,
)
from portal.domain.documents import Area, Document, DocumentStatus

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _document(**changes: object) -> Document:
    base = dict(
        id="d1",
        inspection_id="i1",
        agency="police",
        item_number="3.1",
        original_filename="a.pdf",
        status=DocumentStatus.accepted,
        area=Area.clean,
        received_at=NOW,
        updated_at=NOW,
    )
    base.update(changes)
    return Document.model_validate(base)


def test_an_uploader_uploads_only_for_its_own_agency_and_inspection() -> None:
    uploader = Principal(
        token_id="t", role=Role.agency_uploader, inspection_id="i1", agency="police"
    )
    assert can_upload(uploader, "i1", "police")
    assert not can_upload(uploader, "i1", "health")
    assert not can_upload(uploader, "i2", "police")


def test_an_uploader_sees_only_its_own_agencys_documents() -> None:
    uploader = Principal(
        token_id="t", role=Role.agency_uploader, inspection_id="i1", agency="health"
    )
    assert not can_see_status(uploader, _document())


def test_inspectors_read_only_accepted_documents_of_their_inspection() -> None:
    inspector = Principal(token_id="t", role=Role.inspector, inspection_id="i1")
    assert can_read_content(inspector, _document())
    assert not can_read_content(inspector, _document(status=DocumentStatus.failed))
    assert not can_read_content(inspector, _document(inspection_id="i2"))


def test_nobody_reads_health_records_off_site_yet() -> None:
    inspector = Principal(token_id="t", role=Role.inspector, inspection_id="i1")
    assert not can_read_content(inspector, _document(area=Area.onsite))


def test_uploaders_never_read_document_content() -> None:
    uploader = Principal(
        token_id="t", role=Role.agency_uploader, inspection_id="i1", agency="police"
    )
    assert not can_read_content(uploader, _document())


def test_a_retention_run_covers_only_the_inspection_its_records_officer_keeps() -> None:
    officer_here = Principal(token_id="t", role=Role.records_officer, inspection_id="i1")
    officer_everywhere = Principal(token_id="t", role=Role.records_officer)
    admin = Principal(token_id="t", role=Role.admin)

    assert retention_scope(officer_here) == "i1"
    assert retention_scope(officer_everywhere) is None
    assert retention_scope(admin) is None
