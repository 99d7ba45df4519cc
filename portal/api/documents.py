"""Uploading documents, following their status, and reading accepted ones."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal.adapters.pdf_watermark import watermark_pdf
from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import CodeAndMessage, Day, DocumentAccepted, DocumentOut
from portal.bootstrap import Container
from portal.domain.access import (
    Inspection,
    InspectionState,
    Principal,
    Role,
)
from portal.domain.authorization import Permission, Target, TargetKind, authorize
from portal.domain.documents import Area, Document, DocumentStatus, Outcome, StoredObject
from portal.domain.errors import UploadTooLarge
from portal.domain.filenames import neutralise_filename
from portal.domain.onsite import OnSitePolicy, client_address, decide_onsite_view, parse_networks
from portal.domain.reasons import ReasonCode, reason_sentence
from portal.domain.scope import LIST_PREFIX, TARGET_PATTERN, decide_upload, target_title
from portal.domain.selection import CHILD_ID_PATTERN
from portal.http.problems import Problem, problem_responses
from portal.http.uploads import (
    MalformedUpload,
    MultipartUpload,
    UploadSlots,
    UploadStalled,
    boundary_of,
    next_chunk,
    open_spool,
    receive_form,
)
from portal.ingest import upload_facts
from portal.services.inspections import load_inspection

router = APIRouter(tags=["documents"])

_FORM_OVERHEAD_BYTES = 1024 * 1024


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


@router.post(
    "/v1/inspections/{inspection_id}/documents",
    status_code=202,
    response_model=DocumentAccepted,
    responses=problem_responses(400, 408, 409, 413, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "item"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "item": {
                                "type": "string",
                                "pattern": TARGET_PATTERN,
                                "example": "1.4",
                            },
                            "child_id": {"type": "string", "pattern": CHILD_ID_PATTERN},
                            "document_date": {"type": "string", "format": "date"},
                            "health_information": {"type": "boolean", "default": False},
                        },
                    }
                }
            },
        }
    },
)
async def upload_document(
    inspection_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> DocumentAccepted:
    """Stream a file into quarantine and queue it for checking; 202 with its status URL."""
    document = await receive_upload(request, inspection_id, principal, container)
    return DocumentAccepted(
        id=document.id,
        status=document.status.value,
        status_url=status_url(container, document.id),
    )


def status_url(container: Container, document_id: str) -> str:
    """The absolute address of a document's status, as agencies reach the portal."""
    return f"{container.settings.resolved_public_url}/v1/documents/{document_id}"


FormReader = Callable[[MultipartUpload, StoredObject], UploadForm]
"""Reads an upload's form once its file is stored: the API's reads the `item`,
`child_id`, `document_date` and `health_information` fields; the web pages' checks their
CSRF token too."""


def read_api_form(upload: MultipartUpload, stored: StoredObject) -> UploadForm:
    """The form of an API upload: its text fields, validated."""
    return _validated_form(upload.fields)


async def receive_upload(
    request: Request,
    inspection_id: str,
    principal: Principal,
    container: Container,
    read_form: FormReader = read_api_form,
) -> Document:
    """Stream the request's file into quarantine, record it as received and wake the
    dispatcher; the recorded document. Raises Problem for what the API refuses, and
    whatever `read_form` raises; nothing stays stored after a refusal."""
    inspection = await anyio.to_thread.run_sync(load_inspection, container, inspection_id)
    refuse_unless_open(inspection)
    limit = container.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD_BYTES:
        raise _too_large(limit)
    try:
        boundary = boundary_of(request.headers.get("content-type"))
    except MalformedUpload as exc:
        raise Problem(415, "not_multipart", "Send a form upload", str(exc)) from exc

    document_id = uuid.uuid4().hex
    key = f"{inspection_id}/{document_id}"
    body = request.stream()
    upload = MultipartUpload(boundary, limit)
    idle = container.settings.upload_idle_seconds
    slots: UploadSlots = request.app.state.upload_slots
    with slots.hold(principal.token_id):
        try:
            stored = await _receive_into_quarantine(body, upload, container, key)
        except UploadTooLarge as exc:
            await _discard_rest(body, cap=limit, idle_seconds=idle)
            raise _too_large(limit) from exc
        except MalformedUpload as exc:
            raise Problem(
                400, "malformed_upload", "The upload could not be read", str(exc)
            ) from exc
        except UploadStalled as exc:
            raise upload_stalled(idle, "Nothing was kept; please upload the file again.") from exc

    received = ReceivedFile(
        document_id=document_id,
        stored=stored,
        filename=upload.filename,
        content_type=upload.file_content_type,
    )
    return await record_upload(
        request, container, inspection, principal, received, lambda: read_form(upload, stored)
    )


@dataclass(frozen=True)
class ReceivedFile:
    """A file stored in quarantine under `<inspection id>/<document_id>`, not yet recorded."""

    document_id: str
    stored: StoredObject
    filename: str | None
    content_type: str | None


async def record_upload(
    request: Request,
    container: Container,
    inspection: Inspection,
    principal: Principal,
    received: ReceivedFile,
    read_form: Callable[[], UploadForm],
) -> Document:
    """Record a file already stored in quarantine as a received document (audited), and
    wake the dispatcher: what every upload path ends with (the API's and the pages' form
    uploads, and the pages' resumable uploads once their last byte has arrived).

    Raises Problem for what is refused, and whatever `read_form` raises; the stored file
    is deleted then."""
    key = f"{inspection.id}/{received.document_id}"
    try:
        form = read_form()
        _check_size_for_target(container, form.item, received.stored.size)
        now = container.clock.now()
        document = Document(
            id=received.document_id,
            inspection_id=inspection.id,
            agency=principal.agency or "",
            item_number=form.item,
            child_id=form.child_id,
            document_date=form.document_date,
            health_information=form.health_information,
            original_filename=neutralise_filename(received.filename),
            declared_content_type=received.content_type,
            status=DocumentStatus.received,
            size_bytes=received.stored.size,
            sha256_received=received.stored.sha256,
            received_at=now,
            updated_at=now,
        )
        await anyio.to_thread.run_sync(_check_scope, container, inspection, document)
        await anyio.to_thread.run_sync(container.repository.add_document, document, principal.actor)
    except BaseException:
        await anyio.to_thread.run_sync(container.store.delete, Area.quarantine, key)
        raise
    container.wakeup.wake()
    return document


def refuse_unless_open(inspection: Inspection) -> None:
    """Uploads go only to an open inspection (409 `inspection_not_open` otherwise)."""
    if inspection.state is not InspectionState.open:
        raise Problem(
            409,
            "inspection_not_open",
            "This inspection is not taking uploads",
            f"The inspection is {inspection.state.value}; nothing more can be "
            "uploaded to it. Contact the lead inspector if you think this is wrong.",
        )


def check_before_receiving(
    container: Container,
    inspection: Inspection,
    principal: Principal,
    form: UploadForm,
    size: int,
) -> None:
    """Refuse an upload announced with its size before any of its bytes are stored (the
    pages' resumable uploads): the same size and scope rules `record_upload` applies
    once the file is whole, run early. Raises Problem."""
    refuse_unless_open(inspection)
    limit = container.settings.max_upload_bytes
    if size > limit:
        raise _too_large(limit)
    _check_size_for_target(container, form.item, size)
    now = container.clock.now()
    announced = Document(
        id=uuid.uuid4().hex,
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
    _check_scope(container, inspection, announced)


def _too_large(limit: int) -> Problem:
    return Problem.for_reason(
        ReasonCode.too_large, f"The largest file accepted is {limit // (1024 * 1024)} MB."
    )


def upload_stalled(idle_seconds: float, kept: str) -> Problem:
    """408 `upload_idle_timeout`: the client sent nothing for `idle_seconds`; `kept` says
    what became of what it had sent."""
    return Problem(
        408,
        "upload_idle_timeout",
        "The upload stopped arriving",
        f"Nothing arrived for {idle_seconds:g} seconds, so the upload was ended. {kept}",
    )


async def _receive_into_quarantine(
    body: AsyncIterator[bytes], upload: MultipartUpload, container: Container, key: str
) -> StoredObject:
    """Read the whole form (no thread waits for the client), spooling its file, then store
    the file in quarantine under `key`. Nothing is stored unless the whole form arrived."""
    spool = await anyio.to_thread.run_sync(open_spool, container.settings.upload_spool_dir)
    try:
        await receive_form(body, upload, spool, container.settings.upload_idle_seconds)
        await anyio.to_thread.run_sync(spool.seek, 0)
        return await anyio.to_thread.run_sync(container.store.put, Area.quarantine, key, spool)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(spool.close)


async def _discard_rest(body: AsyncIterator[bytes], cap: int, idle_seconds: float) -> None:
    """Read and drop what the client still sends (up to `cap`, while it keeps sending), so
    it gets our answer."""
    discarded = 0
    with contextlib.suppress(UploadStalled):
        while (chunk := await next_chunk(body, idle_seconds)) is not None:
            discarded += len(chunk)
            if discarded > cap:
                return


def _validated_form(fields: dict[str, str]) -> UploadForm:
    try:
        return UploadForm.model_validate({k: v for k, v in fields.items() if v != ""})
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        names = ", ".join(e["field"] for e in errors)
        raise Problem(
            422,
            "invalid_request",
            "The form is not valid",
            f"Please correct {names} and upload again.",
            errors=errors,
        ) from exc


def _check_size_for_target(container: Container, item: str, size: int) -> None:
    """Lists of children are read whole into memory when checked, so they have a smaller
    limit of their own than other documents."""
    limit = container.settings.max_list_upload_bytes
    if item.startswith(LIST_PREFIX) and size > limit:
        raise Problem.for_reason(
            ReasonCode.too_large,
            f"A list of children can be at most {limit // (1024 * 1024)} MB. Send it as "
            "CSV, or split it into parts.",
        )


def _check_scope(container: Container, inspection: Inspection, document: Document) -> None:
    """Refuse at once what the pipeline would reject for scope (it checks again later)."""
    theme = container.themes[inspection.theme_key]
    facts = upload_facts(container.repository, container.schedule(inspection), document)
    verdict = decide_upload(theme, facts)
    if verdict.outcome is not Outcome.proceed and verdict.reason is not None:
        raise Problem.for_reason(verdict.reason, verdict.detail)


def _visible_document(container: Container, principal: Principal, document_id: str) -> Document:
    """The document the gate let this principal reach (404 if it has gone meanwhile)."""
    document = container.repository.get_document(document_id)
    if document is None:
        raise Problem(
            404,
            "document_not_found",
            "No such document",
            f"There is no document {document_id} that your token can see.",
        )
    return document


@router.get("/v1/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: str, principal: PrincipalDep, container: ContainerDep) -> DocumentOut:
    """A document's status, with reason codes and a sentence for the uploader."""
    return DocumentOut.of(_visible_document(container, principal, document_id))


MAX_PAGE = 500
CURSOR_PATTERN = r"^[0-9a-f]{32}$"


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
        "inspection, not_accepted, deleted, or for health records on_site_during_fieldwork, "
        "off_site, outside_fieldwork or unknown_client_address."
    )
    where_and_when: str | None = Field(
        description="For health records: where and when they can be viewed, in words."
    )
    window_start: datetime | None
    window_end: datetime | None


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


class DocumentPage(BaseModel):
    documents: list[DocumentEntry]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def request_address(request: Request, container: Container) -> str:
    """The client's address as the content route sees it (X-Forwarded-For only from a
    trusted proxy)."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        parse_networks(list(container.settings.trusted_proxies)),
    )


def document_viewing(
    principal: Principal,
    document: Document,
    policy: OnSitePolicy,
    address: str,
    now: datetime,
) -> DocumentViewing:
    """Whether the content route would give this principal the document's content now,
    decided as it decides (nothing is recorded: this is not an attempt to read it)."""
    on_site_only = document.area is Area.onsite
    window = policy.open_window() if on_site_only else None
    target = Target(
        kind=TargetKind.document, inspection_id=document.inspection_id, agency=document.agency
    )
    if not authorize(principal, Permission.read_document, target).allowed:
        allowed, rule = False, "not_an_inspector_of_this_inspection"
    elif document.deleted_at is not None:
        allowed, rule = False, "deleted"
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
        )
        for document in documents
    ]


def visible_agency(principal: Principal) -> str | None:
    """The one agency whose documents this principal may see (an uploader's own), or None
    for every agency: as GET /v1/documents/{id} hides other agencies' documents."""
    return (principal.agency or "") if principal.role is Role.agency_uploader else None


@router.get(
    "/v1/inspections/{inspection_id}/documents",
    response_model=DocumentPage,
    responses=problem_responses(400),
)
def list_documents(
    inspection_id: str,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    status: Annotated[
        DocumentStatus | None, Query(description="Only documents in this status.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many.")] = 100,
    cursor: Annotated[
        str | None,
        Query(pattern=CURSOR_PATTERN, description="The previous page's next_cursor."),
    ] = None,
) -> DocumentPage:
    """The inspection's documents, oldest first, with each one's status and whether the
    caller may read it (health records: where and when). An agency uploader sees only
    its own agency's documents."""
    inspection = load_inspection(container, inspection_id)
    agency = visible_agency(principal)
    if cursor is not None:
        mark = container.repository.get_document(cursor)
        if mark is None or mark.inspection_id != inspection_id or agency not in (None, mark.agency):
            raise Problem(
                400,
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
        documents=document_entries(
            container, principal, inspection, page, request_address(request, container)
        ),
        next_cursor=page[-1].id if len(documents) > limit else None,
    )


@router.get(
    "/v1/documents/{document_id}/content",
    response_model=None,
    response_class=Response,
    responses={
        200: {
            "description": "The accepted document's bytes, as its own media type (e.g. "
            "application/pdf); health records as watermarked application/pdf.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(409, 410),
    },
)
def get_document_content(
    document_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> StreamingResponse | Response:
    """The accepted (sanitised) bytes, to the inspection's inspectors; every attempt is
    audited. Health records: only on site, during fieldwork, watermarked, view only."""
    document = _visible_document(container, principal, document_id)
    address = client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        parse_networks(list(container.settings.trusted_proxies)),
    )
    if document.deleted_at is not None:
        raise Problem(
            410,
            "document_deleted",
            "Deleted under the retention policy",
            f"This document's content was deleted on {document.deleted_at:%d %B %Y}; "
            "its record remains. Ask the records team for the deletion record.",
        )
    if document.status is not DocumentStatus.accepted:
        raise Problem(
            409,
            "not_accepted",
            "Not available",
            f"This document is {document.status.value}; only accepted documents can be read.",
        )
    if document.area is Area.onsite:
        return _onsite_view(container, principal, document, address)
    container.repository.record_view(
        document, principal.actor, address, True, "inspector_of_inspection", container.clock.now()
    )

    def body() -> Iterator[bytes]:
        with container.store.open(document.area, document.object_key) as source:
            while chunk := source.read(256 * 1024):
                yield chunk

    return StreamingResponse(
        body(),
        media_type=document.mime_type or "application/octet-stream",
        headers={
            "Content-Disposition": content_disposition("attachment", document),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _onsite_view(
    container: Container, principal: Principal, document: Document, address: str
) -> Response:
    policy = container.onsite_policy(document.inspection_id)
    now = container.clock.now()
    decision = decide_onsite_view(principal, document, policy, address, now)
    container.repository.record_view(
        document, principal.actor, address, decision.allowed, decision.rule, now
    )
    if not decision.allowed:
        raise Problem(
            403,
            "onsite_only",
            "Only viewable on site, during fieldwork",
            "Health records can only be viewed by the inspection's inspectors on "
            "site during fieldwork. " + policy.where_and_when(),
            rule=decision.rule,
        )
    if document.file_type != "pdf":
        raise Problem(
            409,
            "onsite_view_needs_pdf",
            "Cannot be shown on site",
            "Health records are shown as watermarked PDFs only; ask the agency to "
            "upload this record as a PDF.",
        )
    with container.store.local_copy(document.area, document.object_key) as path:
        marked = watermark_pdf(
            path,
            f"Viewed by {principal.actor} - inspection "
            f"{document.inspection_id} - {now:%Y-%m-%d %H:%M} UTC - "
            "on site, do not copy",
        )
    return Response(
        marked,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition("inline", document),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(kind: str, document: Document) -> str:
    """The header with the document's name: an ASCII `filename` for every client and the
    exact name as RFC 6266 / 5987 `filename*` (UTF-8, percent-encoded)."""
    ascii_name = (
        "".join(
            c for c in document.original_filename if c.isascii() and (c.isalnum() or c in "._- ")
        ).strip()
        or "document"
    )
    exact = quote(document.original_filename or "document", safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{exact}"


@router.post(
    "/v1/documents/{document_id}/reprocess",
    status_code=202,
    response_model=DocumentAccepted,
    responses=problem_responses(409),
)
def reprocess_document(
    document_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> DocumentAccepted:
    """Run a failed document through the pipeline again now (admin or lead inspector)."""
    document = _visible_document(container, principal, document_id)
    if not container.repository.request_reprocess(
        document_id, container.clock.now(), principal.actor
    ):
        raise Problem(
            409,
            "not_failed",
            "Nothing to re-run",
            f"This document is {document.status.value}; only failed documents can be re-run.",
        )
    container.wakeup.wake()
    return DocumentAccepted(
        id=document_id,
        status=DocumentStatus.received.value,
        status_url=status_url(container, document_id),
    )
