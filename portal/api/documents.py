"""Uploading documents, following their status, and reading accepted ones."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import quote

import anyio
import anyio.from_thread
import anyio.lowlevel
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal.adapters.pdf_watermark import watermark_pdf
from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.inspections import load_inspection
from portal.api.problems import Problem, problem_responses
from portal.api.schemas import Day, DocumentAccepted, DocumentOut
from portal.api.uploads import MalformedUpload, MultipartUpload, boundary_of
from portal.bootstrap import Container, utc_now
from portal.domain.access import (
    Inspection,
    InspectionState,
    Principal,
)
from portal.domain.documents import Area, Document, DocumentStatus, Outcome, StoredObject
from portal.domain.errors import UploadTooLarge
from portal.domain.filenames import neutralise_filename
from portal.domain.onsite import client_address, decide_onsite_view, parse_networks
from portal.domain.reasons import ReasonCode
from portal.domain.scope import LIST_PREFIX, TARGET_PATTERN, decide_upload
from portal.domain.selection import CHILD_ID_PATTERN
from portal.ingest import upload_facts

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


@router.post(
    "/v1/inspections/{inspection_id}/documents",
    status_code=202,
    response_model=DocumentAccepted,
    responses=problem_responses(400, 409, 413, 415),
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
        id=document.id, status=document.status.value, status_url=f"/v1/documents/{document.id}"
    )


FormReader = Callable[[MultipartUpload, StoredObject], UploadForm]
"""Reads an upload's form once its file is stored: the API's reads the `item`,
`child_id` and `document_date` fields; the web pages' checks their CSRF token too."""


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
    agency = principal.agency or ""
    if inspection.state is not InspectionState.open:
        raise Problem(
            409,
            "inspection_not_open",
            "This inspection is not taking uploads",
            f"The inspection is {inspection.state.value}; nothing more can be "
            "uploaded to it. Contact the lead inspector if you think this is wrong.",
        )
    limit = container.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD_BYTES:
        raise Problem.for_reason(
            ReasonCode.too_large, f"The largest file accepted is {limit // (1024 * 1024)} MB."
        )
    try:
        boundary = boundary_of(request.headers.get("content-type"))
    except MalformedUpload as exc:
        raise Problem(415, "not_multipart", "Send a form upload", str(exc)) from exc

    document_id = uuid.uuid4().hex
    key = f"{inspection_id}/{document_id}"
    body = request.stream()
    upload = MultipartUpload(_chunk_puller(body), boundary, limit)
    try:
        stored = await anyio.to_thread.run_sync(
            upload.store_into, container.store, Area.quarantine, key
        )
    except UploadTooLarge as exc:
        await _discard_rest(body, cap=limit)
        raise Problem.for_reason(
            ReasonCode.too_large, f"The largest file accepted is {limit // (1024 * 1024)} MB."
        ) from exc
    except MalformedUpload as exc:
        raise Problem(400, "malformed_upload", "The upload could not be read", str(exc)) from exc

    try:
        form = read_form(upload, stored)
        _check_size_for_target(container, form.item, stored.size)
        now = utc_now()
        document = Document(
            id=document_id,
            inspection_id=inspection_id,
            agency=agency,
            item_number=form.item,
            child_id=form.child_id,
            document_date=form.document_date,
            original_filename=neutralise_filename(upload.filename),
            declared_content_type=upload.file_content_type,
            status=DocumentStatus.received,
            size_bytes=stored.size,
            sha256_received=stored.sha256,
            received_at=now,
            updated_at=now,
        )
        await anyio.to_thread.run_sync(_check_scope, container, inspection, document)
        await anyio.to_thread.run_sync(container.repository.add_document, document, principal.actor)
    except BaseException:
        await anyio.to_thread.run_sync(container.store.delete, Area.quarantine, key)
        raise
    wake = getattr(request.app.state, "wake_dispatcher", None)
    if wake is not None:
        wake()
    return document


async def _discard_rest(body: AsyncIterator[bytes], cap: int) -> None:
    """Read and drop what the client still sends (up to `cap`), so it gets our answer."""
    discarded = 0
    async for chunk in body:
        discarded += len(chunk)
        if discarded > cap:
            return


def _chunk_puller(stream: AsyncIterator[bytes]) -> Callable[[], bytes | None]:
    # The store may read from threads of its own (boto3's transfer manager), so the hop
    # back to the event loop names the loop explicitly.
    token = anyio.lowlevel.current_token()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    def pull() -> bytes | None:
        return anyio.from_thread.run(next_chunk, token=token)

    return pull


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
        document, principal.actor, address, True, "inspector_of_inspection", utc_now()
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
    policy = container.repository.onsite_policy(document.inspection_id)
    now = utc_now()
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
    if not container.repository.request_reprocess(document_id, utc_now(), principal.actor):
        raise Problem(
            409,
            "not_failed",
            "Nothing to re-run",
            f"This document is {document.status.value}; only failed documents can be re-run.",
        )
    wake = getattr(request.app.state, "wake_dispatcher", None)
    if wake is not None:
        wake()
    return DocumentAccepted(
        id=document_id,
        status=DocumentStatus.received.value,
        status_url=f"/v1/documents/{document_id}",
    )
