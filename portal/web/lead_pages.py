"""The lead inspector's pages:
alerts, the timeline with its deadline overrides, and the shortlist and audit selection forms.

Each page decides access as the API route it mirrors does (the same Permission, through
`decide`) and calls the same use cases its handler calls: `alerts_of` and
`completeness_as_of` for alerts, `move_deadline` for a moved deadline, `record_selection`
and `selections_of` for the case selection.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from portal.bootstrap import Container
from portal.domain.access import Inspection, InspectionState
from portal.domain.authorization import Permission, authorize
from portal.domain.errors import Refusal, Refused
from portal.domain.inspection_days import EnteredDay
from portal.domain.schedule import Schedule, ScheduledDeadline
from portal.domain.selection import SelectionProblem, Stage
from portal.services.after_fieldwork import after_fieldwork, record_letter_days
from portal.services.extra_items import add_extra_item, extra_items_of
from portal.services.inspections import alerts_of, completeness_as_of, set_inspection_days
from portal.services.selections import StageSelection, record_selection, selections_of
from portal.services.timeline import move_deadline as move_the_deadline
from portal.services.timeline import moved_deadlines
from portal.web import lead_views, views
from portal.web.pages import (
    MAX_FORM_BYTES,
    SignedIn,
    WebRoute,
    bad_request,
    container_of,
    decide,
    inspection_or_404,
    inspection_target,
    not_found,
    render,
    render_form,
    see_other,
    signed_in,
)
from portal.web.sessions import CSRF_FIELD, csrf_matches, same_origin

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MAX_CHILDREN_FIELDS = 120
"""The audit form's checkboxes (a shortlist holds at most 100) and its CSRF token."""


async def _read_form(request: Request, person: SignedIn) -> FormData:
    """A small url-encoded form from this site carrying this session's CSRF token."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        raise bad_request()
    async with request.form(max_files=0, max_fields=MAX_CHILDREN_FIELDS) as form:
        fields = FormData(list(form.multi_items()))
    if not csrf_matches(person.session, str(fields.get(CSRF_FIELD, ""))):
        raise bad_request()
    return fields


async def _managing_form(request: Request, inspection_id: str) -> tuple[SignedIn, FormData]:
    """A form of the lead's: from this site, by someone the API's gate lets manage the
    inspection (refusals audited, before the form is read), its CSRF token checked."""
    return await permitted_form(request, inspection_id, Permission.manage_inspection)


async def permitted_form(
    request: Request, inspection_id: str, permission: Permission
) -> tuple[SignedIn, FormData]:
    """A small form from this site, by someone the API's gate lets do `permission` in the
    inspection (refusals audited, before the form is read), its CSRF token checked."""
    if not same_origin(request):
        raise bad_request()
    person = await anyio.to_thread.run_sync(signed_in, request)
    await anyio.to_thread.run_sync(
        decide, request, person.principal, permission, inspection_target(inspection_id)
    )
    return person, await _read_form(request, person)


def _text(fields: FormData, name: str) -> str:
    value = fields.get(name, "")
    return value if isinstance(value, str) else ""


def _may(person: SignedIn, permission: Permission, inspection_id: str) -> bool:
    """Whether to offer an action (the action's own route decides again, and audits)."""
    return authorize(person.principal, permission, inspection_target(inspection_id)).allowed


# -- alerts --------------------------------------------------------------------------------


@router.get("/inspections/{inspection_id}/alerts")
def alerts(inspection_id: str, request: Request) -> Response:
    """What is still missing before each deadline, agency by agency, and the reminders,
    overdue notices and alerts the chase has sent (the page of
    GET /v1/inspections/{id}/alerts)."""
    person = signed_in(request)
    decide(
        request, person.principal, Permission.manage_inspection, inspection_target(inspection_id)
    )
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    theme = container.themes[inspection.theme_key]
    now = container.clock.now()
    summary = lead_views.deadline_alerts(
        inspection.id,
        list(completeness_as_of(container, person.principal, inspection.id, now).states),
        container.schedule(inspection),
        theme,
        now,
    )
    messages = [
        lead_views.message_view(
            theme,
            kind=row.kind,
            agency=row.agency,
            recipients=row.recipients,
            subject=row.subject,
            status=row.status,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
        for row in reversed(alerts_of(container, inspection.id))
    ]
    return render(
        request,
        "lead_alerts.html",
        person.page,
        title="Alerts",
        inspection=inspection,
        summary=summary,
        messages=messages,
        chased=inspection.state is InspectionState.open,
        as_of=views.when_words(now),
        reminder_days=container.chase_policy.reminder_working_days_before,
    )


# -- the timeline --------------------------------------------------------------------------


def _schedule(container: Container, inspection: Inspection) -> Schedule | None:
    return container.schedule(inspection)


@router.get("/inspections/{inspection_id}/timeline")
def timeline(
    inspection_id: str,
    request: Request,
    moved: str | None = None,
    days: str | None = None,
    created: str | None = None,
) -> Response:
    """The inspection's deadlines in due order, what is due at each and any move (the page
    of GET /v1/inspections/{id}, whose deadlines it shows); the lead inspector may move
    each one."""
    person = signed_in(request)
    decide(request, person.principal, Permission.view_inspection, inspection_target(inspection_id))
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    theme = container.themes[inspection.theme_key]
    now = container.clock.now()
    schedule = _schedule(container, inspection)
    manage = _may(person, Permission.manage_inspection, inspection_id)
    entries: list[lead_views.TimelineEntry] = []
    if schedule is not None:
        moves = (
            [
                lead_views.MoveRecord(m.deadline, m.set_by, m.set_at, m.reason)
                for m in moved_deadlines(container, inspection.id)
            ]
            if manage
            else []
        )
        # What each agency owes is completeness: shown only to those who may see it.
        states = (
            list(completeness_as_of(container, person.principal, inspection.id, now).states)
            if _may(person, Permission.view_completeness, inspection_id)
            else []
        )
        entries = lead_views.timeline_entries(
            schedule,
            container.schedule(inspection, with_moves=False),
            states,
            moves,
            theme,
            person.principal.actor,
            now,
        )
    just_moved = next((e for e in entries if e.key == moved), None) if manage else None
    letter = (
        after_fieldwork(container, inspection.id) if theme.after_fieldwork is not None else None
    )
    return render(
        request,
        "lead_timeline.html",
        person.page,
        title="Timeline",
        inspection=inspection,
        schedule=schedule,
        notification=lead_views.day_words(schedule.notification) if schedule else "",
        fieldwork=lead_views.day_words(schedule.fieldwork_start) if schedule else "",
        notification_entered=EnteredDay.notification in inspection.entered_days,
        fieldwork_entered=EnteredDay.fieldwork_start in inspection.entered_days,
        warnings=schedule.warnings if schedule else (),
        days_saved=manage and days == "saved",
        created=manage and created == "1",
        entries=entries,
        manage=manage,
        just_moved=just_moved,
        letter_days=lead_views.letter_days_rows(letter.recorded) if letter else [],
        letter_deadlines=lead_views.after_fieldwork_rows(letter, now) if letter else [],
        letter_saved=manage and letter is not None and days == "letter",
    )


def _deadline_or_404(container: Container, inspection: Inspection, key: str) -> ScheduledDeadline:
    schedule = _schedule(container, inspection)
    found = next((d for d in schedule.deadlines if d.key == key), None) if schedule else None
    if found is None:
        raise not_found()
    return found


def _render_move(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    deadline: ScheduledDeadline,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    now = container_of(request).clock.now()
    return render_form(
        request,
        "lead_move_deadline.html",
        person.page,
        errors,
        title=f"Move the deadline “{deadline.quote}”",
        inspection=inspection,
        deadline=deadline,
        current=views.deadline_words(deadline.due, now),
        values=values,
        back_url=f"/inspections/{inspection.id}/timeline",
    )


@router.get("/inspections/{inspection_id}/timeline/{deadline}")
def move_deadline_page(inspection_id: str, deadline: str, request: Request) -> Response:
    """One deadline's form: its new date and time, and why (the form of
    PUT /v1/inspections/{id}/deadlines/{deadline})."""
    person = signed_in(request)
    decide(
        request, person.principal, Permission.manage_inspection, inspection_target(inspection_id)
    )
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    found = _deadline_or_404(container, inspection, deadline)
    return _render_move(request, person, inspection, found, lead_views.move_form_values(found.due))


def _move(
    request: Request, person: SignedIn, inspection_id: str, deadline: str, fields: FormData
) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    found = _deadline_or_404(container, inspection, deadline)
    form = lead_views.read_move_form({k: _text(fields, k) for k in fields})
    if form.move is None:
        return _render_move(request, person, inspection, found, form.values, form.errors)
    try:
        move_the_deadline(container, person.principal, inspection.id, deadline, form.move)
    except Refused as exc:
        if exc.kind is Refusal.not_found:
            raise not_found() from exc
        error = {"href": "#due-day", "text": exc.detail, "field": "date"}
        return _render_move(request, person, inspection, found, form.values, [error])
    return see_other(f"/inspections/{inspection_id}/timeline?moved={deadline}")


@router.post("/inspections/{inspection_id}/timeline/{deadline}")
async def move_deadline(inspection_id: str, deadline: str, request: Request) -> Response:
    """Move the deadline as the API does, then show the timeline with its new time."""
    person, fields = await _managing_form(request, inspection_id)
    return await anyio.to_thread.run_sync(_move, request, person, inspection_id, deadline, fields)


# -- the inspection's days -----------------------------------------------------------------


def _render_days(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    return render_form(
        request,
        "lead_days.html",
        person.page,
        errors,
        title="The inspection’s days",
        inspection=inspection,
        values=values,
        back_url=f"/inspections/{inspection.id}/timeline",
    )


@router.get("/inspections/{inspection_id}/days")
def days_page(inspection_id: str, request: Request) -> Response:
    """The notification day and fieldwork start, either of which the lead may set or
    change (the form of PUT /v1/inspections/{id}/days)."""
    person = signed_in(request)
    decide(
        request, person.principal, Permission.manage_inspection, inspection_target(inspection_id)
    )
    inspection = inspection_or_404(container_of(request), inspection_id)
    values = lead_views.days_form_values(
        inspection.notification_date
        if EnteredDay.notification in inspection.entered_days
        else None,
        inspection.fieldwork_start
        if EnteredDay.fieldwork_start in inspection.entered_days
        else None,
    )
    return _render_days(request, person, inspection, values)


def _set_days(request: Request, person: SignedIn, inspection_id: str, fields: FormData) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    form = lead_views.read_days_form({k: _text(fields, k) for k in fields})
    if form.errors:
        return _render_days(request, person, inspection, form.values, form.errors)
    try:
        set_inspection_days(
            container, person.principal, inspection.id, form.notification, form.fieldwork_start
        )
    except Refused as exc:
        field = "notification" if form.notification is not None else "fieldwork"
        error = {"href": f"#{field}-day", "text": exc.detail, "field": field}
        return _render_days(request, person, inspection, form.values, [error])
    return see_other(f"/inspections/{inspection_id}/timeline?days=saved")


@router.post("/inspections/{inspection_id}/days")
async def set_days(inspection_id: str, request: Request) -> Response:
    """Set the days as the API does, then show the timeline that follows from them."""
    person, fields = await _managing_form(request, inspection_id)
    return await anyio.to_thread.run_sync(_set_days, request, person, inspection_id, fields)


# -- the case selection --------------------------------------------------------------------


def _render_children(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    saved: str | None = None,
    errors: list[dict[str, str]] | None = None,
    shortlist_text: str | None = None,
    audit_ticked: list[str] | None = None,
) -> HTMLResponse:
    container = container_of(request)
    theme = container.themes[inspection.theme_key]
    chosen = selections_of(container, person.principal, inspection.id)
    now = container.clock.now()
    schedule = _schedule(container, inspection)
    policy = theme.selection
    return render_form(
        request,
        "lead_children.html",
        person.page,
        errors,
        title="Children",
        inspection=inspection,
        policy=policy,
        chosen=chosen,
        manage=_may(person, Permission.manage_inspection, inspection.id),
        saved=saved if saved in (Stage.shortlist.value, Stage.audit.value) else None,
        shortlist_text=(
            shortlist_text if shortlist_text is not None else "\n".join(chosen.shortlist)
        ),
        audit_ticked=audit_ticked if audit_ticked is not None else chosen.audit,
        audit_hint=lead_views.audit_hint(policy) if policy else "",
        slots=lead_views.slot_rows(chosen.case_record_slots, schedule, theme, now),
        mark_on_site=_may(person, Permission.manage_inspection, inspection.id),
        record_seen=_may(person, Permission.read_document, inspection.id),
        documents=lead_views.documents_by_agency(chosen.case_record_slots, theme),
    )


@router.get("/inspections/{inspection_id}/children")
def children(inspection_id: str, request: Request, saved: str | None = None) -> Response:
    """The shortlist, the children to audit and the case records each agency owes for
    them (the page of GET /v1/inspections/{id}/selections), with the lead inspector's
    forms to choose them."""
    person = signed_in(request)
    decide(request, person.principal, Permission.view_inspection, inspection_target(inspection_id))
    inspection = inspection_or_404(container_of(request), inspection_id)
    return _render_children(request, person, inspection, saved)


_FIELD_OF = {Stage.shortlist: "#shortlist", Stage.audit: "#audit"}


def _select(request: Request, person: SignedIn, inspection_id: str, fields: FormData) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    try:
        stage = Stage(_text(fields, "stage"))
    except ValueError as exc:
        raise bad_request() from exc
    if stage is Stage.shortlist:
        text = _text(fields, "shortlist")
        child_ids = lead_views.child_ids_from(text)
        keep: dict[str, Any] = {"shortlist_text": text}
    else:
        child_ids = [c for c in fields.getlist("audit") if isinstance(c, str)]
        keep = {"audit_ticked": child_ids}

    def refuse(message: str) -> HTMLResponse:
        errors = [{"href": _FIELD_OF[stage], "text": message, "field": stage.value}]
        return _render_children(request, person, inspection, errors=errors, **keep)

    try:
        selection = StageSelection(stage=stage, child_ids=child_ids)
    except ValidationError as exc:
        too_long = next((e for e in exc.errors() if e["type"] == "too_long"), None)
        if too_long is not None:
            most = int((too_long.get("ctx") or {}).get("max_length", 100))
            return refuse(lead_views.too_many_message(stage, most))
        return refuse(lead_views.empty_selection_message(stage))
    try:
        record_selection(container, person.principal, inspection.id, selection)
    except Refused as exc:
        if exc.kind is not Refusal.invalid:
            raise
        theme = container.themes[inspection.theme_key]
        shortlist = selections_of(container, person.principal, inspection.id).shortlist
        problem = SelectionProblem(exc.code)
        return refuse(
            lead_views.selection_message(
                stage, problem, child_ids, theme.selection, shortlist, exc.detail
            )
        )
    return see_other(f"/inspections/{inspection_id}/children?saved={stage.value}")


@router.post("/inspections/{inspection_id}/children")
async def select_children(inspection_id: str, request: Request) -> Response:
    """Record the shortlist or the children to audit as the API does (POST
    /v1/inspections/{id}/selections), then show them."""
    person, fields = await _managing_form(request, inspection_id)
    return await anyio.to_thread.run_sync(_select, request, person, inspection_id, fields)


# -- after fieldwork: the letter's days -----------------------------------------------------


def _render_letter(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    return render_form(
        request,
        "lead_letter.html",
        person.page,
        errors,
        title="The letter’s days",
        inspection=inspection,
        values=values,
        fields=list(lead_views.LETTER_FIELDS.values()),
        back_url=f"/inspections/{inspection.id}/timeline",
    )


@router.get("/inspections/{inspection_id}/letter")
def letter_page(inspection_id: str, request: Request) -> Response:
    """The days the draft letter was shared, the final letter sent and the letter
    published, as recorded so far (the form of PUT /v1/inspections/{id}/letter/{step})."""
    person = signed_in(request)
    decide(
        request, person.principal, Permission.manage_inspection, inspection_target(inspection_id)
    )
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    state = after_fieldwork(container, inspection.id)
    return _render_letter(
        request, person, inspection, lead_views.letter_form_values(state.recorded)
    )


def _record_letter(
    request: Request, person: SignedIn, inspection_id: str, fields: FormData
) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    form = lead_views.read_letter_form({k: _text(fields, k) for k in fields})
    if form.errors:
        return _render_letter(request, person, inspection, form.values, form.errors)
    try:
        record_letter_days(container, person.principal, inspection.id, form.days)
    except Refused as exc:
        error = {"href": "#draft-day", "text": exc.detail, "field": "draft"}
        return _render_letter(request, person, inspection, form.values, [error])
    return see_other(f"/inspections/{inspection_id}/timeline?days=letter#after-fieldwork")


@router.post("/inspections/{inspection_id}/letter")
async def record_letter(inspection_id: str, request: Request) -> Response:
    """Record the letter's days as the API does, then show the deadlines that follow."""
    person, fields = await _managing_form(request, inspection_id)
    return await anyio.to_thread.run_sync(_record_letter, request, person, inspection_id, fields)


# -- extra items: what the lead asks of one agency ------------------------------------------


def _render_extra_items(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    container = container_of(request)
    theme = container.themes[inspection.theme_key]
    return render_form(
        request,
        "lead_extra_items.html",
        person.page,
        errors,
        title="Ask an agency for more",
        inspection=inspection,
        values=values,
        agencies=[(a, views.agency_name(theme, a)) for a in inspection.agencies],
        guidance_title=theme.title,
        additional_requests=theme.additional_requests,
        extras=[
            {
                "title": e.title,
                "agency": views.agency_name(theme, e.agency),
                "due": views.when_words(e.due),
            }
            for e in extra_items_of(container, person.principal, inspection.id)
        ],
        back_url=f"/inspections/{inspection.id}",
    )


@router.get("/inspections/{inspection_id}/extra-items")
def extra_items_page(inspection_id: str, request: Request) -> Response:
    """What the lead has asked of each agency beyond the theme, and the form to ask more
    (the form of POST /v1/inspections/{id}/extra-items)."""
    person = signed_in(request)
    decide(
        request, person.principal, Permission.manage_inspection, inspection_target(inspection_id)
    )
    inspection = inspection_or_404(container_of(request), inspection_id)
    return _render_extra_items(request, person, inspection, lead_views.extra_item_values({}))


def _add_extra_item(
    request: Request, person: SignedIn, inspection_id: str, fields: FormData
) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    form = lead_views.read_extra_item_form({k: _text(fields, k) for k in fields})
    if form.errors or form.asked is None:
        return _render_extra_items(request, person, inspection, form.values, form.errors)
    try:
        add_extra_item(container, person.principal, inspection.id, form.asked)
    except Refused as exc:
        error = {"href": "#agency", "text": exc.detail, "field": "agency"}
        return _render_extra_items(request, person, inspection, form.values, [error])
    return see_other(f"/inspections/{inspection_id}/extra-items#extra-items")


@router.post("/inspections/{inspection_id}/extra-items")
async def add_extra_item_form(inspection_id: str, request: Request) -> Response:
    """Ask an agency for a further item as the API does, then list what has been asked."""
    person, fields = await _managing_form(request, inspection_id)
    return await anyio.to_thread.run_sync(_add_extra_item, request, person, inspection_id, fields)
