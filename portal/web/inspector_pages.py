"""The inspectors' pages:
the inspection's accepted documents; a health record shows where and when it can be viewed.

The documents page mirrors GET /v1/inspections/{id}/documents (Permission.view_document on
the inspection) and lists what it lists, with the same entries; a document's content is
read by the same use case as GET /v1/documents/{id}/content (Permission.read_document on
the document), so health records are shown only on site, during fieldwork, watermarked,
and every attempt is audited exactly as through the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from portal.domain.access import Role
from portal.domain.authorization import Permission
from portal.domain.errors import Refused
from portal.http.addresses import request_address
from portal.http.content import content_response
from portal.http.problems import STATUS_OF_REFUSAL
from portal.services.documents import accepted_documents
from portal.services.onsite import read_content
from portal.web import inspector_views, views
from portal.web.pages import (
    WebError,
    WebRoute,
    container_of,
    decide,
    document_or_404,
    inspection_or_404,
    inspection_target,
    not_found,
    render,
    see_other,
    signed_in,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/inspections/{inspection_id}/documents")
def documents(inspection_id: str, request: Request, agency: str = "") -> Response:
    """The inspection's accepted documents by agency and item, each linking to read it; a
    health record the viewer cannot open here and now says where and when they can."""
    person = signed_in(request)
    principal = person.principal
    decide(request, principal, Permission.view_document, inspection_target(inspection_id))
    if principal.role is Role.agency_uploader:
        # An uploader follows its own agency's documents on its checklist.
        return see_other(f"/inspections/{inspection_id}/checklist")
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    theme = container.themes[inspection.theme_key]
    entries = accepted_documents(
        container, principal, inspection, request_address(request, container.settings)
    )
    now = container.clock.now()
    groups = inspector_views.agency_groups(
        entries, theme, inspection.agencies, inspection.area_name, now
    )
    choices = [(g.agency, g.name) for g in groups]
    shown = [g for g in groups if g.agency == agency] if agency else groups
    return render(
        request,
        "inspector_documents.html",
        person.page,
        title="Documents",
        inspection=inspection,
        groups=shown,
        choices=choices,
        chosen=agency if any(a == agency for a, _ in choices) else "",
        total=len(entries),
        as_of=views.when_words(now),
    )


@router.get("/documents/{document_id}/content")
def document_content(document_id: str, request: Request) -> Response:
    """A document's content for the signed-in inspector, decided and audited as
    GET /v1/documents/{id}/content decides (health records: on site, during fieldwork)."""
    person = signed_in(request)
    document_or_404(request, person, Permission.read_document, document_id)
    container = container_of(request)
    address = request_address(request, container.settings)
    try:
        content = read_content(container, person.principal, document_id, address)
    except Refused as exc:
        raise _content_refused(exc) from exc
    return content_response(content)


def _content_refused(refused: Refused) -> WebError:
    """The page for what reading the content refused, in its words."""
    if refused.code == "document_not_found":
        return not_found()
    heading = {
        "onsite_only": "You can only view this health record on site",
        "document_deleted": "This document has been deleted",
        "document_withdrawn": "This document has been withdrawn",
        "not_accepted": "This document cannot be read",
        "onsite_view_needs_pdf": "This health record cannot be shown",
    }.get(refused.code, "You cannot read this document")
    return WebError(STATUS_OF_REFUSAL[refused.kind], heading, refused.detail)
