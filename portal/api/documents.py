"""Uploading documents, following their status, and reading accepted ones: the routes,
translating HTTP to the use cases in portal.services (uploads, documents, onsite)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import (
    DocumentAccepted,
    DocumentOut,
    DocumentsStatusOut,
    DocumentsStatusQuery,
)
from portal.bootstrap import Container
from portal.domain.documents import DocumentStatus, StoredObject
from portal.domain.scope import TARGET_PATTERN
from portal.domain.selection import CHILD_ID_PATTERN
from portal.http.addresses import request_address
from portal.http.content import content_response
from portal.http.problems import problem_responses
from portal.http.uploads import MultipartUpload, receive_upload
from portal.services.documents import (
    MAX_PAGE,
    DocumentPage,
    visible_document,
    wait_for_statuses,
)
from portal.services.documents import list_documents as documents_page
from portal.services.onsite import read_content
from portal.services.uploads import UploadForm, rerun_failed, validated_form

router = APIRouter(tags=["documents"])


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
    """Stream a file into quarantine (scanning it as it arrives when a connection to
    clamd is free) and queue it for checking; 202 with its status URL, `received`, or
    `rejected` with its reasons if clamd found a signature in it on arrival."""
    document = await receive_upload(request, inspection_id, principal, container, read_api_form)
    return DocumentAccepted.of(document, status_url(container, document.id))


def status_url(container: Container, document_id: str) -> str:
    """The absolute address of a document's status, as agencies reach the portal."""
    return f"{container.settings.resolved_public_url}/v1/documents/{document_id}"


def read_api_form(upload: MultipartUpload, stored: StoredObject) -> UploadForm:
    """The form of an API upload: its text fields, validated."""
    return validated_form(upload.fields)


@router.get("/v1/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: str, principal: PrincipalDep, container: ContainerDep) -> DocumentOut:
    """A document's status, with reason codes and a sentence for the uploader."""
    return DocumentOut.of(visible_document(container, principal, document_id))


@router.post(
    "/v1/documents/status",
    response_model=DocumentsStatusOut,
    responses=problem_responses(400),
)
async def documents_status(
    query: DocumentsStatusQuery,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> DocumentsStatusOut:
    """The status of many documents in one call, each as GET /v1/documents/{id} shows it:
    a query carried in a body (POST), because 500 ids do not fit a URL comfortably;
    nothing is changed. Ids of no document you may see (unknown, or another agency's or
    inspection's) are listed under `unknown`, not told apart. With `wait_seconds` > 0 the
    answer waits until every asked document is final or the wait ends, whichever is
    first: follow uploads by calling again with the `pending` ids. One call counts as one
    request against your token's rate limit, however many ids it asks about and however
    long it waits. 400: `no_ids`, `too_many_ids` (more than 500: split them),
    `malformed_ids`."""
    statuses = await wait_for_statuses(
        container,
        principal,
        query.ids,
        query.wait_seconds,
        client_gone=request.is_disconnected,
    )
    return DocumentsStatusOut(
        documents=[DocumentOut.of(document) for document in statuses.documents],
        pending=statuses.pending,
        unknown=statuses.unknown,
    )


CURSOR_PATTERN = r"^[0-9a-f]{32}$"


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
    return documents_page(
        container,
        principal,
        inspection_id,
        request_address(request, container.settings),
        status=status,
        limit=limit,
        cursor=cursor,
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
) -> Response:
    """The accepted (sanitised) bytes, to the inspection's inspectors; every attempt is
    audited. Health records: only on site, during fieldwork, watermarked, view only."""
    content = read_content(
        container, principal, document_id, request_address(request, container.settings)
    )
    return content_response(content)


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
    rerun_failed(container, principal, document_id)
    return DocumentAccepted(
        id=document_id,
        status=DocumentStatus.received.value,
        status_url=status_url(container, document_id),
    )
