"""Following documents: which ones a person may see, a document's status, and the
inspection's documents listed a page at a time with whether the person may read each one,
from where they are, now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from portal.domain.access import Inspection, Principal, Role
from portal.domain.authorization import Permission, Target, TargetKind, authorize
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.errors import Refusal, Refused
from portal.domain.onsite import OnSitePolicy, decide_onsite_view
from portal.domain.reasons import CodeAndMessage, reason_sentence
from portal.domain.scope import target_title
from portal.domain.signatures import is_local_test_version
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container

MAX_PAGE = 500
"""The most documents one page of the listing holds."""


class DocumentViewing(BaseModel):
    """Who may read a document's content, and whether the caller may, here and now."""

    on_site_only: bool = Field(
        description="A health record: read only by the inspection's inspectors, from the "
        "registered on-site network, during the fieldwork window."
    )
    readable_now: bool = Field(
        description="Whether GET /v1/documents/{id}/content would give the caller its "
        "content now, from where the caller is."
    )
    rule: str = Field(
        description="What decides it: inspector_of_inspection, not_an_inspector_of_this_"
        "inspection, not_accepted, withdrawn, deleted, or for health records "
        "on_site_during_fieldwork, off_site, outside_fieldwork or unknown_client_address."
    )
    where_and_when: str | None = Field(
        description="For health records: where and when they can be viewed, in words."
    )
    window_start: datetime | None
    window_end: datetime | None


# The listing's models have no docstrings: they would become the API schemas' descriptions.
class DocumentScan(BaseModel):
    engine: str = Field(description="The clamd engine whose scan decided it, e.g. 1.4.6.")
    signatures: str = Field(
        description="The signatures that judged it: the ClamAV database version (e.g. "
        "`27505`), followed by `+<id>` when the database was installed by the portal "
        "(`jtai-portal signatures install`); `local+<id>` for local signatures only. A "
        "different value means different signatures."
    )
    signatures_date: datetime | None = Field(
        description="When those signatures were published (none for local signatures)."
    )
    local_test_signatures: bool = Field(
        description="Judged by the portal's local test signatures only (they find the EICAR "
        "test file and nothing else)."
    )
    scanned_at: datetime = Field(description="When clamd scanned it.")


def document_scan(document: Document) -> DocumentScan | None:
    """Which signatures judged the document and when, once a verdict that scanned it is
    recorded (None before, and for a document that never reached the scan)."""
    if document.scan_signatures is None or document.scanned_at is None:
        return None
    return DocumentScan(
        engine=document.scan_engine or "",
        signatures=document.scan_signatures,
        signatures_date=document.scan_signatures_date,
        local_test_signatures=is_local_test_version(document.scan_signatures),
        scanned_at=document.scanned_at,
    )


class DocumentEntry(BaseModel):
    id: str
    item: str
    child_id: str | None
    title: str = Field(description="What it was sent for, e.g. the Annex A item's title.")
    agency: str
    filename: str
    status: str
    reasons: list[CodeAndMessage]
    file_type: str | None
    size_bytes: int | None
    received_at: datetime
    decided_at: datetime | None
    deleted_at: datetime | None
    health_record: bool
    viewing: DocumentViewing
    scan: DocumentScan | None = Field(
        default=None, description="Which signatures judged it, once a verdict scanned it."
    )


class DocumentPage(BaseModel):
    documents: list[DocumentEntry]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def visible_document(container: Container, principal: Principal, document_id: str) -> Document:
    """The document the gate let this principal reach; Refused (not_found,
    `document_not_found`) if there is none (or it has gone meanwhile)."""
    document = container.repository.get_document(document_id)
    if document is None:
        raise Refused(
            Refusal.not_found,
            "document_not_found",
            "No such document",
            f"There is no document {document_id} that your token can see.",
        )
    return document


def visible_agency(principal: Principal) -> str | None:
    """The one agency whose documents this principal may see (an uploader's own), or None
    for every agency: as a document's status hides other agencies' documents."""
    return (principal.agency or "") if principal.role is Role.agency_uploader else None


def document_viewing(
    principal: Principal,
    document: Document,
    policy: OnSitePolicy,
    address: str,
    now: datetime,
) -> DocumentViewing:
    """Whether reading the content would give this principal the document's content now,
    decided as reading decides (nothing is recorded: this is not an attempt to read it)."""
    on_site_only = document.area is Area.onsite
    window = policy.open_window() if on_site_only else None
    target = Target(
        kind=TargetKind.document, inspection_id=document.inspection_id, agency=document.agency
    )
    if not authorize(principal, Permission.read_document, target).allowed:
        allowed, rule = False, "not_an_inspector_of_this_inspection"
    elif document.deleted_at is not None:
        allowed, rule = False, "deleted"
    elif document.status is DocumentStatus.withdrawn:
        allowed, rule = False, "withdrawn"
    elif document.status is not DocumentStatus.accepted:
        allowed, rule = False, "not_accepted"
    elif on_site_only:
        decision = decide_onsite_view(principal, document, policy, address, now)
        allowed, rule = decision.allowed, decision.rule
    else:
        allowed, rule = True, "inspector_of_inspection"
    return DocumentViewing(
        on_site_only=on_site_only,
        readable_now=allowed,
        rule=rule,
        where_and_when=policy.where_and_when() if on_site_only else None,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
    )


def document_entries(
    container: Container,
    principal: Principal,
    inspection: Inspection,
    documents: Sequence[Document],
    address: str,
) -> list[DocumentEntry]:
    """The listing's entries for these documents of one inspection, as seen by `principal`
    from `address` now."""
    theme = container.themes[inspection.theme_key]
    policy = container.onsite_policy(inspection.id)
    now = container.clock.now()
    return [
        DocumentEntry(
            id=document.id,
            item=document.item_number,
            child_id=document.child_id,
            title=target_title(theme, document.item_number, document.child_id),
            agency=document.agency,
            filename=document.original_filename,
            status=document.status.value,
            reasons=[
                CodeAndMessage(code=r.value, message=reason_sentence(r)) for r in document.reasons
            ],
            file_type=document.file_type,
            size_bytes=document.size_bytes,
            received_at=document.received_at,
            decided_at=document.decided_at,
            deleted_at=document.deleted_at,
            health_record=document.area is Area.onsite,
            viewing=document_viewing(principal, document, policy, address, now),
            scan=document_scan(document),
        )
        for document in documents
    ]


def list_documents(
    container: Container,
    principal: Principal,
    inspection_id: str,
    address: str,
    *,
    status: DocumentStatus | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> DocumentPage:
    """One page of the inspection's documents, oldest first, starting after the document
    `cursor` (the previous page's next_cursor): each with its status and whether
    `principal` may read it from `address` now. An agency uploader sees only its own
    agency's documents. Refused (not_found) for no such inspection, (malformed,
    `invalid_cursor`) for a cursor that is not of this listing."""
    inspection = load_inspection(container, inspection_id)
    agency = visible_agency(principal)
    if cursor is not None:
        mark = container.repository.get_document(cursor)
        if mark is None or mark.inspection_id != inspection_id or agency not in (None, mark.agency):
            raise Refused(
                Refusal.malformed,
                "invalid_cursor",
                "The cursor is not valid here",
                "Pass the next_cursor of the previous page of this listing, or leave it out "
                "to start from the first page.",
            )
    documents = container.repository.inspection_documents(
        inspection_id, status=status, agency=agency, after=cursor, limit=limit + 1
    )
    page = documents[:limit]
    return DocumentPage(
        documents=document_entries(container, principal, inspection, page, address),
        next_cursor=page[-1].id if len(documents) > limit else None,
    )


def accepted_documents(
    container: Container, principal: Principal, inspection: Inspection, address: str
) -> list[DocumentEntry]:
    """All the inspection's accepted documents `principal` may see, and those accepted
    then withdrawn (never readable: their entries say why), oldest first, each with
    whether they may read it from `address` now."""
    agency = visible_agency(principal)
    found = [
        document
        for status in (DocumentStatus.accepted, DocumentStatus.withdrawn)
        for document in container.repository.inspection_documents(
            inspection.id, status=status, agency=agency
        )
    ]
    found.sort(key=lambda document: (document.received_at, document.id))
    return document_entries(container, principal, inspection, found, address)
