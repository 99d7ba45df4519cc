"""Receiving documents: the checks an upload must pass before it is received (the
inspection open, the size for what it is sent for, the scope rules), recording a file
that has arrived in quarantine as a received document (which wakes the dispatcher), and
running a failed document through the pipeline again.

How the bytes arrive (a streamed form, a resumable upload) is the doors' business
(portal/http/uploads.py, portal/web/resumable.py); every way ends in `record_upload`. A
form upload may come scanned as it arrived (portal/domain/upload_scan.py): clean, it is
recorded so; infected, it is rejected here and now, as the worker would reject it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal.domain.access import Inspection, InspectionState, Principal
from portal.domain.documents import Area, Document, DocumentStatus, Outcome, StoredObject
from portal.domain.errors import REFUSAL_OF_REASON, Refusal, Refused, TransientError
from portal.domain.filenames import neutralise_filename
from portal.domain.reasons import ReasonCode, reason_sentence
from portal.domain.retention import active_holds
from portal.domain.scope import CASE_RECORD, LIST_PREFIX, TARGET_PATTERN, decide_upload
from portal.domain.selection import CHILD_ID_PATTERN
from portal.domain.timeline import Day
from portal.domain.upload_scan import ScannedAtUpload, with_upload_scan
from portal.ingest import upload_facts
from portal.services.chasing import notify_rejections
from portal.services.documents import visible_document
from portal.services.inspections import load_inspection
from portal.services.seen_on_site import refuse_upload_if_seen_on_site

if TYPE_CHECKING:
    from portal.bootstrap import Container

log = logging.getLogger(__name__)


class UploadForm(BaseModel):
    """The text fields that come with an uploaded file."""

    model_config = ConfigDict(extra="ignore")

    item: str = Field(
        pattern=TARGET_PATTERN,
        description="Annex A item number (e.g. 1.4), 'list:<key>' for a child-level list, or "
        "'case_record' / 'audit' with child_id.",
    )
    child_id: str | None = Field(default=None, pattern=CHILD_ID_PATTERN)
    document_date: Day | None = None
    health_information: bool = Field(
        default=False,
        description="true if the file holds health information: it is then kept and shown "
        "only on site, during fieldwork, like every health record.",
    )


@dataclass(frozen=True)
class ReceivedFile:
    """A file stored in quarantine under `<inspection id>/<document_id>`, not yet recorded."""

    document_id: str
    stored: StoredObject
    filename: str | None
    content_type: str | None
    scanned_at_upload: ScannedAtUpload | None = None
    """clamd's verdict on the bytes as they arrived, when it decides something."""


def refused_for_reason(reason: ReasonCode, detail: str = "", **extensions: Any) -> Refused:
    """The refusal of an upload for a domain reason: the reason's code, the uploader's
    sentence as its title (and as its detail unless one is given)."""
    return Refused(
        REFUSAL_OF_REASON.get(reason, Refusal.invalid),
        reason.value,
        reason_sentence(reason),
        detail or reason_sentence(reason),
        **extensions,
    )


def upload_too_large(limit: int) -> Refused:
    """The refusal of a file larger than `limit` bytes, the most any upload may be."""
    return refused_for_reason(
        ReasonCode.too_large, f"The largest file accepted is {limit // (1024 * 1024)} MB."
    )


def refuse_unless_open(inspection: Inspection) -> None:
    """Uploads go only to an open inspection: Refused (conflict, `inspection_not_open`)
    otherwise."""
    if inspection.state is not InspectionState.open:
        raise Refused(
            Refusal.conflict,
            "inspection_not_open",
            "This inspection is not taking uploads",
            f"The inspection is {inspection.state.value}; nothing more can be "
            "uploaded to it. Contact the lead inspector if you think this is wrong.",
        )


def inspection_taking_uploads(container: Container, inspection_id: str) -> Inspection:
    """The inspection an upload is sent to, if it exists and is open; Refused otherwise."""
    inspection = load_inspection(container, inspection_id)
    refuse_unless_open(inspection)
    return inspection


def validated_form(fields: dict[str, str]) -> UploadForm:
    """An upload's text fields as its form (empty ones left out); Refused (invalid,
    `invalid_request`, with `errors` naming each field to correct) if they are not valid."""
    try:
        return UploadForm.model_validate({k: v for k, v in fields.items() if v != ""})
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        names = ", ".join(e["field"] for e in errors)
        raise Refused(
            Refusal.invalid,
            "invalid_request",
            "The form is not valid",
            f"Please correct {names} and upload again.",
            errors=errors,
        ) from exc


def check_before_receiving(
    container: Container,
    inspection: Inspection,
    principal: Principal,
    form: UploadForm,
    size: int,
) -> None:
    """Refuse an upload announced with its size before any of its bytes are stored (the
    pages' resumable uploads): the same size and scope rules `record_upload` applies
    once the file is whole, run early. Raises Refused."""
    refuse_unless_open(inspection)
    limit = container.settings.max_upload_bytes
    if size > limit:
        raise upload_too_large(limit)
    _check_size_for_target(container, form.item, size)
    announced = _received_document(
        uuid.uuid4().hex, inspection, principal, form, size, container.clock.now()
    )
    _check_scope(container, inspection, announced)


def record_upload(
    container: Container,
    inspection: Inspection,
    principal: Principal,
    received: ReceivedFile,
    read_form: Callable[[], UploadForm],
) -> Document:
    """Record a file already stored in quarantine as a received document (audited), and
    wake the dispatcher: what every upload path ends with (the API's and the pages' form
    uploads, and the pages' resumable uploads once their last byte has arrived).

    `read_form` gives the form that came with the file (read only now: a form may send its
    fields after its file). Raises Refused for what is refused, and whatever `read_form`
    raises; the stored file is deleted then.

    A file scanned clean as it arrived is recorded with that scan's signatures (the worker
    does not scan it again); one in which clamd found a signature is recorded `rejected`
    at once, its bytes removed and its notice sent (`_settle_rejected_upload`), and the
    dispatcher is not woken."""
    try:
        form = read_form()
        _check_size_for_target(container, form.item, received.stored.size)
        document = _received_document(
            received.document_id,
            inspection,
            principal,
            form,
            received.stored.size,
            container.clock.now(),
        ).model_copy(
            update={
                "original_filename": neutralise_filename(received.filename),
                "declared_content_type": received.content_type,
                "sha256_received": received.stored.sha256,
            }
        )
        _check_scope(container, inspection, document)
        if received.scanned_at_upload is not None:
            document = with_upload_scan(document, received.scanned_at_upload, document.received_at)
        held_by = _holds_on_rejected(container, document)
        container.repository.add_document(document, principal.actor, held_by=held_by)
    except BaseException:
        container.store.delete(Area.quarantine, f"{inspection.id}/{received.document_id}")
        raise
    if document.status is DocumentStatus.rejected:
        _settle_rejected_upload(container, document, held_by)
    else:
        container.wakeup.wake()
    return document


def _holds_on_rejected(container: Container, document: Document) -> tuple[str, ...]:
    """The active legal holds that keep a document rejected at intake (none for one
    received: its bytes stay in quarantine for the worker anyway)."""
    if document.status is not DocumentStatus.rejected:
        return ()
    holds = container.records.holds(document.inspection_id)
    return active_holds(holds, document.inspection_id, document.id)


def _settle_rejected_upload(
    container: Container, document: Document, held_by: tuple[str, ...]
) -> None:
    """After an upload found infected on arrival is recorded rejected: its quarantined
    bytes go, as the worker's rejection removes them, unless a legal hold on the
    inspection is active, when recorded or when read again just before the deletion
    (then they stay in quarantine, never readable, as a withdrawn
    document's are kept: portal/services/withdrawal.py; the audit event names the holds);
    the uploading agency is sent the worker's rejection notice. Neither failing undoes the
    rejection: a leftover quarantined object is unreadable and retention sweeps it, a
    notice not sent stays in the outbox."""
    if not held_by and not _held_now(container, document):
        try:
            container.store.delete(Area.quarantine, document.object_key)
        except TransientError as exc:
            log.warning("could not delete the infected upload %s yet: %s", document.id, exc)
    try:
        notify_rejections(container, [document.id])
    except Exception:
        log.exception("the rejection notice for %s could not be queued", document.id)


def _held_now(container: Container, document: Document) -> bool:
    """Whether a legal hold covers the rejected document now; True if that cannot be read
    (the bytes stay, unreadable, for retention to delete: never deleted under a hold)."""
    try:
        return bool(_holds_on_rejected(container, document))
    except TransientError as exc:
        log.warning("kept the infected upload %s: holds could not be read (%s)", document.id, exc)
        return True


def _received_document(
    document_id: str,
    inspection: Inspection,
    principal: Principal,
    form: UploadForm,
    size: int,
    now: datetime,
) -> Document:
    return Document(
        id=document_id,
        inspection_id=inspection.id,
        agency=principal.agency or "",
        item_number=form.item,
        child_id=form.child_id,
        document_date=form.document_date,
        health_information=form.health_information,
        original_filename="",
        status=DocumentStatus.received,
        size_bytes=size,
        received_at=now,
        updated_at=now,
    )


def rerun_failed(container: Container, principal: Principal, document_id: str) -> Document:
    """Queue a failed document to run through the pipeline again now, and wake the
    dispatcher; the document as it was. Refused (not_found) if there is no such document,
    (conflict, `not_failed`) if it has not failed."""
    document = visible_document(container, principal, document_id)
    if not container.repository.request_reprocess(
        document_id, container.clock.now(), principal.actor
    ):
        raise Refused(
            Refusal.conflict,
            "not_failed",
            "Nothing to re-run",
            f"This document is {document.status.value}; only failed documents can be re-run.",
        )
    container.wakeup.wake()
    return document


def _check_size_for_target(container: Container, item: str, size: int) -> None:
    """Lists of children are read whole into memory when checked, so they have a smaller
    limit of their own than other documents."""
    limit = container.settings.max_list_upload_bytes
    if item.startswith(LIST_PREFIX) and size > limit:
        raise refused_for_reason(
            ReasonCode.too_large,
            f"A list of children can be at most {limit // (1024 * 1024)} MB. Send it as "
            "CSV, or split it into parts.",
        )


def _check_scope(container: Container, inspection: Inspection, document: Document) -> None:
    """Refuse at once what the pipeline would reject for scope (it checks again later)."""
    if document.item_number == CASE_RECORD and document.child_id is not None:
        refuse_upload_if_seen_on_site(container, inspection, document.agency, document.child_id)
    theme = container.themes[inspection.theme_key]
    facts = upload_facts(container.repository, container.schedule(inspection), document)
    verdict = decide_upload(theme, facts)
    if verdict.outcome is not Outcome.proceed and verdict.reason is not None:
        raise refused_for_reason(verdict.reason, verdict.detail)
