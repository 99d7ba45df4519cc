"""Reading a document's content: accepted documents to the inspection's inspectors, and
health records only on site, during fieldwork, watermarked with who viewed them and when.
Every attempt is recorded, allowed or not. What to send is returned, never sent: the
doors stream it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from portal.domain.access import Principal
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.errors import Refusal, Refused
from portal.domain.onsite import decide_onsite_view
from portal.domain.withdrawal import why_withdrawn
from portal.services.documents import visible_document

if TYPE_CHECKING:
    from portal.bootstrap import Container

READ_BYTES = 256 * 1024
"""A document's bytes are read from the store in pieces of this size."""


@dataclass(frozen=True)
class DocumentContent:
    """What to send for a document: its bytes (read as they are sent, or already whole for
    a watermarked health record), their media type, and whether to show them in the
    browser (`inline`) or save them (`attachment`) under the document's name."""

    document: Document
    media_type: str
    disposition: Literal["inline", "attachment"]
    chunks: Iterator[bytes] | None = None
    whole: bytes | None = None


def read_content(
    container: Container, principal: Principal, document_id: str, address: str
) -> DocumentContent:
    """The content of an accepted document for `principal`, reading from `address` now;
    the attempt is recorded. Refused: not_found (`document_not_found`), gone
    (`document_deleted`; `document_withdrawn`, its attempt recorded as denied, for a
    document withdrawn after a rescan found it infected), conflict (`not_accepted`, and
    `onsite_view_needs_pdf` for a health record that is not a PDF), forbidden
    (`onsite_only`, with the `rule` that refused it) for a health record off site or
    outside fieldwork."""
    document = visible_document(container, principal, document_id)
    if document.deleted_at is not None:
        raise Refused(
            Refusal.gone,
            "document_deleted",
            "Deleted under the retention policy",
            f"This document's content was deleted on {document.deleted_at:%d %B %Y}; "
            "its record remains. Ask the records team for the deletion record.",
        )
    if document.status is DocumentStatus.withdrawn:
        container.repository.record_view(
            document, principal.actor, address, False, "withdrawn", container.clock.now()
        )
        raise Refused(
            Refusal.gone,
            "document_withdrawn",
            "Withdrawn: found infected",
            why_withdrawn(document.reasons, document.decided_at),
            reasons=[r.value for r in document.reasons],
        )
    if document.status is not DocumentStatus.accepted:
        raise Refused(
            Refusal.conflict,
            "not_accepted",
            "Not available",
            f"This document is {document.status.value}; only accepted documents can be read.",
        )
    if document.area is Area.onsite:
        return _view_on_site(container, principal, document, address)
    container.repository.record_view(
        document, principal.actor, address, True, "inspector_of_inspection", container.clock.now()
    )
    return DocumentContent(
        document=document,
        media_type=document.mime_type or "application/octet-stream",
        disposition="attachment",
        chunks=_stored_bytes(container, document),
    )


def _stored_bytes(container: Container, document: Document) -> Iterator[bytes]:
    """The document's stored bytes, opened only once the first piece is asked for."""
    with container.store.open(document.area, document.object_key) as source:
        while chunk := source.read(READ_BYTES):
            yield chunk


def _view_on_site(
    container: Container, principal: Principal, document: Document, address: str
) -> DocumentContent:
    """A health record, if the on-site rule allows this view (recorded either way), as a
    PDF watermarked with the viewer, the inspection and the time."""
    policy = container.onsite_policy(document.inspection_id)
    now = container.clock.now()
    decision = decide_onsite_view(principal, document, policy, address, now)
    container.repository.record_view(
        document, principal.actor, address, decision.allowed, decision.rule, now
    )
    if not decision.allowed:
        raise Refused(
            Refusal.forbidden,
            "onsite_only",
            "Only viewable on site, during fieldwork",
            "Health records can only be viewed by the inspection's inspectors on "
            "site during fieldwork. " + policy.where_and_when(),
            rule=decision.rule,
        )
    if document.file_type != "pdf":
        raise Refused(
            Refusal.conflict,
            "onsite_view_needs_pdf",
            "Cannot be shown on site",
            "Health records are shown as watermarked PDFs only; ask the agency to "
            "upload this record as a PDF.",
        )
    with container.store.local_copy(document.area, document.object_key) as path:
        marked = container.watermarker.watermark_pdf(
            path,
            f"Viewed by {principal.actor} - inspection "
            f"{document.inspection_id} - {now:%Y-%m-%d %H:%M} UTC - "
            "on site, do not copy",
        )
    return DocumentContent(
        document=document, media_type="application/pdf", disposition="inline", whole=marked
    )
