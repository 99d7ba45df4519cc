"""Pages for case records to be seen on site, not sent: the agency confirms where and when
inspectors will see them (the form of PUT .../case-records/{agency}/{child_id}/arrangement),
the lead marks a slot to be seen on site and an inspector records that it was seen (forms
on the lead's children page)."""

from __future__ import annotations

from datetime import date, timedelta

import anyio
from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from portal.domain.access import Inspection
from portal.domain.authorization import Permission
from portal.domain.errors import Refusal, Refused
from portal.domain.scope import CASE_RECORD
from portal.domain.seen_on_site import WHERE_HINT, WHERE_MOST, ArrangementProblem, arrangement_words
from portal.domain.selection import CaseRecordSlot
from portal.services import seen_on_site
from portal.services.selections import slots_of
from portal.web import views
from portal.web.lead_pages import permitted_form
from portal.web.pages import (
    SignedIn,
    WebRoute,
    container_of,
    decide,
    inspection_or_404,
    inspection_target,
    not_found,
    render,
    see_other,
    signed_in,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _slot_of_key(
    request: Request, person: SignedIn, inspection: Inspection, key: str
) -> CaseRecordSlot:
    """The uploader's own slot to be seen on site that a checklist key names; 404 page if
    there is none."""
    target = views.target_of(key)
    if target is None or target.item != CASE_RECORD:
        raise not_found()
    agency = person.principal.agency or ""
    for slot in slots_of(container_of(request), inspection):
        if slot.agency == agency and slot.child_id == target.child_id and slot.seen_on_site:
            return slot
    raise not_found()


def _fieldwork_days(request: Request, inspection: Inspection) -> list[tuple[str, str]]:
    fieldwork = container_of(request).fieldwork(inspection)
    if fieldwork is None:
        return []
    days = (fieldwork.last_day - fieldwork.first_day).days + 1
    chosen = (fieldwork.first_day + timedelta(days=n) for n in range(days))
    return [(d.isoformat(), f"{d:%A} {d.day} {d:%B %Y}") for d in chosen]


def _render_arrangement(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    slot: CaseRecordSlot,
    errors: dict[str, str] | None = None,
    where: str | None = None,
    day: str | None = None,
) -> HTMLResponse:
    theme = container_of(request).themes[inspection.theme_key]
    request_of = next((r for r in theme.case_records if r.agency == slot.agency), None)
    quote = request_of.seen_on_site if request_of is not None else None
    held = slot.on_site
    errors = errors or {}
    return render(
        request,
        "arrangement.html",
        person.page,
        status=400 if errors else 200,
        title=f"Case records of child {slot.child_id}: where and when",
        inspection=inspection,
        label=f"Case records of child {slot.child_id}",
        quote=quote.quote if quote else "",
        source=quote.source if quote else "",
        current=arrangement_words(held) if held is not None and held.arranged else "",
        fieldwork_days=_fieldwork_days(request, inspection),
        where=where if where is not None else (held.where if held and held.where else ""),
        day=day if day is not None else (held.day.isoformat() if held and held.day else ""),
        where_hint=WHERE_HINT,
        where_most=WHERE_MOST,
        where_error=errors.get("where", ""),
        day_error=errors.get("day", ""),
        errors=[{"href": f"#{k}", "text": v} for k, v in errors.items()],
        action=request.url.path,
        checklist_url=f"/inspections/{inspection.id}/checklist",
    )


@router.get("/inspections/{inspection_id}/items/{key}/arrangement")
def arrangement_page(inspection_id: str, key: str, request: Request) -> Response:
    """One thing per page: where and when inspectors can see one child's case records that
    are to be seen on site, not uploaded."""
    person = signed_in(request)
    decide(request, person.principal, Permission.upload, inspection_target(inspection_id))
    inspection = inspection_or_404(container_of(request), inspection_id)
    slot = _slot_of_key(request, person, inspection, key)
    return _render_arrangement(request, person, inspection, slot)


_FIELD_OF_PROBLEM = {
    ArrangementProblem.where_missing: "where",
    ArrangementProblem.where_too_long: "where",
    ArrangementProblem.no_fieldwork: "day",
    ArrangementProblem.day_outside_fieldwork: "day",
}


def _confirm(
    request: Request, person: SignedIn, inspection_id: str, key: str, fields: FormData
) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    slot = _slot_of_key(request, person, inspection, key)
    where = str(fields.get("where", ""))
    day_text = str(fields.get("day", ""))
    errors: dict[str, str] = {}
    if not where.strip():
        errors["where"] = "Enter where and how inspectors can see the records"
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        errors["day"] = "Select the day of fieldwork inspectors can see the records"
    if errors:
        return _render_arrangement(request, person, inspection, slot, errors, where, day_text)
    try:
        seen_on_site.confirm_arrangement(
            container, person.principal, inspection.id, slot.agency, slot.child_id, where, day
        )
    except Refused as exc:
        if exc.kind is not Refusal.invalid:
            raise
        field = _FIELD_OF_PROBLEM.get(ArrangementProblem(exc.code), "where")
        return _render_arrangement(
            request, person, inspection, slot, {field: exc.detail}, where, day_text
        )
    return see_other(f"/inspections/{inspection_id}/checklist")


@router.post("/inspections/{inspection_id}/items/{key}/arrangement")
async def confirm_arrangement(inspection_id: str, key: str, request: Request) -> Response:
    """Confirm the arrangement as the API does, then show the checklist."""
    person, fields = await permitted_form(request, inspection_id, Permission.upload)
    return await anyio.to_thread.run_sync(_confirm, request, person, inspection_id, key, fields)


def _children_page(inspection_id: str) -> Response:
    return see_other(f"/inspections/{inspection_id}/children#case-records-heading")


@router.post("/inspections/{inspection_id}/case-records/{agency}/{child_id}/seen-on-site")
async def mark_seen_on_site(
    inspection_id: str, agency: str, child_id: str, request: Request
) -> Response:
    """The lead marks one slot to be seen on site, as the API does."""
    person, _fields = await permitted_form(request, inspection_id, Permission.manage_inspection)
    await anyio.to_thread.run_sync(
        seen_on_site.mark_seen_on_site,
        container_of(request),
        person.principal,
        inspection_id,
        agency,
        child_id,
    )
    return _children_page(inspection_id)


@router.post("/inspections/{inspection_id}/case-records/{agency}/{child_id}/seen")
async def record_seen(inspection_id: str, agency: str, child_id: str, request: Request) -> Response:
    """An inspector (or the lead) records that they saw the records on site."""
    person, _fields = await permitted_form(request, inspection_id, Permission.read_document)
    await anyio.to_thread.run_sync(
        seen_on_site.record_seen,
        container_of(request),
        person.principal,
        inspection_id,
        agency,
        child_id,
    )
    return _children_page(inspection_id)
