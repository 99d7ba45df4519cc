"""Following documents: which ones a person may see, a document's status, and the
inspection's documents listed a page at a time with whether the person may read each one,
from where they are, now."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import anyio
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

MAX_STATUS_IDS = 500
"""The most documents one status call asks about."""

MAX_STATUS_WAIT_SECONDS = 30.0
"""The longest one status call may wait for its documents to be final."""

DOCUMENT_ID = re.compile(r"^[0-9a-f]{32}$")
"""A document's id, as the upload's answer gives it."""


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


# -- the status of many documents at once ---------------------------------------------------


class Statuses(BaseModel):
    """What one status call answers: the asked documents the caller may see (in the order
    asked) and the ids it may not know of (unknown or another's: never told apart)."""

    documents: list[Document]
    unknown: list[str]

    @property
    def pending(self) -> list[str]:
        """The ids of the documents that are not final yet, in the order asked."""
        return [document.id for document in self.documents if not document.status.is_final]

    def updated(self, fresh: Sequence[Document]) -> Statuses:
        """These statuses with the documents looked at again replacing the earlier looks."""
        newer = {document.id: document for document in fresh}
        return Statuses(
            documents=[newer.get(document.id, document) for document in self.documents],
            unknown=self.unknown,
        )


def checked_ids(ids: Sequence[str]) -> list[str]:
    """The asked ids, each once, in the order first asked; Refused (malformed) for none
    (`no_ids`), more than MAX_STATUS_IDS (`too_many_ids`) or an id that is not a
    document's (`malformed_ids`, naming the first few)."""
    if not ids:
        raise Refused(
            Refusal.malformed,
            "no_ids",
            "No documents asked about",
            'Give the ids of the documents to follow, e.g. {"ids": ["<id>", ...]}: each is '
            "the `id` of an upload's answer.",
        )
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_STATUS_IDS:
        raise Refused(
            Refusal.malformed,
            "too_many_ids",
            "Too many documents in one call",
            f"Ask about at most {MAX_STATUS_IDS} documents in one call ({len(unique)} were "
            f"asked): split the ids into calls of {MAX_STATUS_IDS} or fewer.",
            limit=MAX_STATUS_IDS,
        )
    malformed = [i for i in unique if not DOCUMENT_ID.match(i)]
    if malformed:
        shown = ", ".join(repr(i[:40]) for i in malformed[:3])
        raise Refused(
            Refusal.malformed,
            "malformed_ids",
            "Not document ids",
            f"A document's id is 32 lowercase hexadecimal characters, as the upload's "
            f"answer gives it; {len(malformed)} asked are not, e.g. {shown}.",
        )
    return unique


def look_up_statuses(
    container: Container, principal: Principal, ids: Sequence[str], *, audit: bool = True
) -> Statuses:
    """The current status of each of `ids` (already checked) that `principal` may see, as
    GET /v1/documents/{id} would let them, read in one query; the rest are `unknown`. With
    `audit`, the documents that exist but are hidden from them are audited as refusals
    (one event per inspection, with the count: ids only, never the documents' details)."""
    found = {document.id: document for document in container.repository.get_documents(ids)}
    visible: list[Document] = []
    unknown: list[str] = []
    hidden: dict[str, int] = {}
    for document_id in ids:
        document = found.get(document_id)
        if document is None:
            unknown.append(document_id)
            continue
        target = Target(
            kind=TargetKind.document, inspection_id=document.inspection_id, agency=document.agency
        )
        if authorize(principal, Permission.view_document, target).allowed:
            visible.append(document)
        else:
            unknown.append(document_id)
            hidden[document.inspection_id] = hidden.get(document.inspection_id, 0) + 1
    if audit and hidden:
        _audit_hidden(container, principal, hidden)
    return Statuses(documents=visible, unknown=unknown)


def _audit_hidden(container: Container, principal: Principal, hidden: dict[str, int]) -> None:
    now = container.clock.now()
    for inspection_id, count in sorted(hidden.items()):
        container.identities.record_denial(
            principal.actor,
            inspection_id,
            None,
            {
                "method": "POST",
                "route": "/v1/documents/status",
                "permission": Permission.view_document.value,
                "outcome": "hidden",
                "documents": str(count),
            },
            now,
        )


async def wait_for_statuses(
    container: Container,
    principal: Principal,
    ids: Sequence[str],
    wait_seconds: float,
    *,
    client_gone: Callable[[], Awaitable[bool]],
) -> Statuses:
    """The status of each asked document `principal` may see (the rest `unknown`), once
    every one of them is final or `wait_seconds` have passed, whichever is first (0: at
    once), or as soon as `client_gone` says the caller has gone. Refused as `checked_ids`
    refuses. Each look is one short query in a worker thread; between looks nothing holds
    a thread, so waiting callers cannot starve other requests of anyio's thread pool."""
    asked = checked_ids(ids)
    began = container.clock.now()  # the wait runs from the request, not from its first look
    statuses = await anyio.to_thread.run_sync(lambda: look_up_statuses(container, principal, asked))
    if wait_seconds <= 0:
        return statuses

    async def look_again(pending: list[str]) -> Statuses:
        return await anyio.to_thread.run_sync(
            lambda: look_up_statuses(container, principal, pending, audit=False)
        )

    return await hold_until_final(
        statuses,
        look_again,
        wait_seconds=min(wait_seconds, MAX_STATUS_WAIT_SECONDS),
        interval=container.settings.status_wait_poll_seconds,
        now=container.clock.now,
        client_gone=client_gone,
        began=began,
    )


async def hold_until_final(
    statuses: Statuses,
    look_again: Callable[[list[str]], Awaitable[Statuses]],
    *,
    wait_seconds: float,
    interval: float,
    now: Callable[[], datetime],
    client_gone: Callable[[], Awaitable[bool]],
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    began: datetime | None = None,
) -> Statuses:
    """Look at the pending documents again every `interval` seconds (sleeping, not holding
    a thread) until none is pending, the wait ends, or the client has gone; the statuses
    of the last look. The wait ends `wait_seconds` after it `began` (default: now) by the
    portal's clock (`now`, which tests drive) and never later than that by the monotonic clock, so a
    clock stepped back (or a test's clock standing still) never holds a request longer
    than asked; a clock that goes back ends the wait at once."""
    started = began or now()
    deadline = started + timedelta(seconds=wait_seconds)
    ceiling = monotonic() + wait_seconds
    while statuses.pending:
        moment = now()
        left = min((deadline - moment).total_seconds(), ceiling - monotonic())
        if left <= 0 or moment < started:
            break
        await sleep(min(interval, left))
        if await client_gone():
            break
        statuses = statuses.updated((await look_again(statuses.pending)).documents)
    return statuses
