"""The name register's page: the lead inspector records the names that connect a child's
records across agencies, and every inspector of the inspection reads them, initials only
once retention has reduced them.

The page decides access as the API's routes do (Permission.read_names to read,
Permission.record_names to record, through `decide`) and calls the same use cases:
`name_register` and `record_name`. A name travels only in the form's body and the page:
never in a URL, a log line or an audit event.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from portal.domain.access import Inspection
from portal.domain.authorization import Permission, authorize
from portal.domain.errors import Refused
from portal.domain.inspection_days import say_day
from portal.services.retention import name_register, record_name, retention_schedule
from portal.web import names_views, views
from portal.web.lead_pages import permitted_form
from portal.web.pages import (
    SignedIn,
    WebRoute,
    container_of,
    decide,
    inspection_or_404,
    inspection_target,
    render_form,
    see_other,
    signed_in,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _render(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
    recorded: bool = False,
) -> HTMLResponse:
    container = container_of(request)
    schedule = retention_schedule(container, inspection.id)
    rule = container.retention_policy.names
    may_record = authorize(
        person.principal, Permission.record_names, inspection_target(inspection.id)
    ).allowed
    return render_form(
        request,
        "names.html",
        person.page,
        errors,
        title="Name register",
        inspection=inspection,
        rows=names_views.name_rows(name_register(container, inspection.id)),
        why=rule.why,
        quote=rule.quote,
        reduced=(views.when_words(schedule.names_reduced_at) if schedule.names_reduced_at else ""),
        due=say_day(schedule.names_due) if schedule.names_due else "",
        may_record=may_record,
        values=values,
        recorded=recorded,
    )


@router.get("/inspections/{inspection_id}/names")
def names_page(inspection_id: str, request: Request, recorded: str | None = None) -> Response:
    """The inspection's name register (the page of GET
    /v1/inspections/{id}/name-register), with the lead inspector's form to record a name
    (the form of POST /v1/inspections/{id}/name-register) while names are still kept."""
    person = signed_in(request)
    decide(request, person.principal, Permission.read_names, inspection_target(inspection_id))
    inspection = inspection_or_404(container_of(request), inspection_id)
    return _render(
        request, person, inspection, names_views.name_values({}), recorded=recorded == "1"
    )


def _text(fields: FormData, name: str) -> str:
    value = fields.get(name, "")
    return value if isinstance(value, str) else ""


def _record(request: Request, person: SignedIn, inspection_id: str, fields: FormData) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    form = names_views.read_name_form({k: _text(fields, k) for k in names_views.FIELDS})
    if form.errors:
        return _render(request, person, inspection, form.values, form.errors)
    try:
        record_name(
            container,
            person.principal,
            inspection.id,
            name=form.values["name"],
            reference=form.values["reference"],
            note=form.values["note"],
        )
    except Refused as exc:
        if exc.code != "names_already_reduced":
            raise
        # The form is gone by now: the page says why, and nothing typed is kept.
        error = {"href": "#reduced", "text": exc.detail, "field": "name"}
        return _render(request, person, inspection, names_views.name_values({}), [error])
    return see_other(f"/inspections/{inspection_id}/names?recorded=1")


@router.post("/inspections/{inspection_id}/names")
async def record_name_form(inspection_id: str, request: Request) -> Response:
    """Record a name as the API does, then show the register with it."""
    person, fields = await permitted_form(request, inspection_id, Permission.record_names)
    return await anyio.to_thread.run_sync(_record, request, person, inspection_id, fields)
