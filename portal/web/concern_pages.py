"""Pages for issues of concern (002 para 74 and Annex C): the inspectors' list of the
inspection's concerns and the form to raise one, and one concern's page: for the inspectors
its evaluation and the lead's sign-off, for the agency concerned its written response and
its chief officer's sign-off.

Each page decides access as the API route it mirrors does (the same Permission, through
`decide`) and calls the same use cases its handler calls (portal/services/concerns.py).
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from portal.domain.access import Inspection, Role
from portal.domain.authorization import Permission, authorize
from portal.domain.concerns import ConcernStage, ConcernState, may_evaluate
from portal.domain.errors import Refusal, Refused
from portal.services import concerns
from portal.web import concern_views, views
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
    render_form,
    see_other,
    signed_in,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

Errors = list[dict[str, str]]


def _base(inspection_id: str) -> str:
    return f"/inspections/{inspection_id}/concerns"


def _may(person: SignedIn, permission: Permission, inspection_id: str) -> bool:
    """Whether to offer an action (the action's own route decides again, and audits)."""
    return authorize(person.principal, permission, inspection_target(inspection_id)).allowed


def _text(fields: FormData) -> dict[str, str]:
    return {k: v for k, v in fields.items() if isinstance(v, str)}


# -- the list ---------------------------------------------------------------------------


@router.get("/inspections/{inspection_id}/concerns")
def concerns_page(inspection_id: str, request: Request) -> Response:
    """The inspection's issues of concern, each with where it stands and whether its
    response is overdue (the page of GET /v1/inspections/{id}/concerns; an uploader sees
    its own agency's)."""
    person = signed_in(request)
    decide(request, person.principal, Permission.view_concerns, inspection_target(inspection_id))
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    theme = container.themes[inspection.theme_key]
    now = container.clock.now()
    states = concerns.concerns_of(container, person.principal, inspection.id)
    uploader = person.principal.role is Role.agency_uploader
    return render(
        request,
        "concerns.html",
        person.page,
        title="Issues of concern",
        inspection=inspection,
        guidance=theme.issues_of_concern,
        rows=concern_views.concern_rows(states, theme, inspection.id, now),
        may_raise=_may(person, Permission.raise_concern, inspection.id),
        checklist_url=f"/inspections/{inspection.id}/checklist" if uploader else "",
        as_of=views.when_words(now),
    )


# -- raising one ------------------------------------------------------------------------


def _render_new(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    values: dict[str, str],
    errors: Errors | None = None,
) -> HTMLResponse:
    theme = container_of(request).themes[inspection.theme_key]
    return render_form(
        request,
        "concern_new.html",
        person.page,
        errors,
        title="Raise an issue of concern",
        inspection=inspection,
        values=values,
        agencies=[(a, views.agency_name(theme, a)) for a in inspection.agencies],
        categories=concern_views.CATEGORIES,
        back_url=_base(inspection.id),
    )


@router.get("/inspections/{inspection_id}/concerns/new")
def new_concern_page(inspection_id: str, request: Request) -> Response:
    """The Annex C form, to refer a case back to an agency's senior officer (the form of
    POST /v1/inspections/{id}/concerns)."""
    person = signed_in(request)
    decide(request, person.principal, Permission.raise_concern, inspection_target(inspection_id))
    inspection = inspection_or_404(container_of(request), inspection_id)
    return _render_new(request, person, inspection, concern_views.raise_values({}))


def _raise(request: Request, person: SignedIn, inspection_id: str, fields: FormData) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    form = concern_views.read_raise_form(_text(fields))
    if form.errors or form.asked is None:
        return _render_new(request, person, inspection, form.values, form.errors)
    try:
        state = concerns.raise_concern(container, person.principal, inspection.id, form.asked)
    except Refused as exc:
        if exc.code == "required_by_in_past":
            error = {"href": "#required-day", "text": exc.detail, "field": "required"}
        else:
            error = {"href": "#agency", "text": exc.detail, "field": "agency"}
        return _render_new(request, person, inspection, form.values, [error])
    return see_other(f"{_base(inspection.id)}/{state.concern.id}?raised=1")


@router.post("/inspections/{inspection_id}/concerns/new")
async def raise_concern(inspection_id: str, request: Request) -> Response:
    """Raise the concern as the API does, then show it."""
    person, fields = await permitted_form(request, inspection_id, Permission.raise_concern)
    return await anyio.to_thread.run_sync(_raise, request, person, inspection_id, fields)


# -- one concern ------------------------------------------------------------------------


def _state_or_404(
    request: Request, person: SignedIn, inspection_id: str, concern_id: str
) -> ConcernState:
    try:
        return concerns.concern_of(
            container_of(request), person.principal, inspection_id, concern_id
        )
    except Refused as exc:
        if exc.kind is Refusal.not_found:
            raise not_found() from exc
        raise


def _render_concern(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    state: ConcernState,
    *,
    values: dict[str, str] | None = None,
    errors: Errors | None = None,
    raised: bool = False,
) -> HTMLResponse:
    container = container_of(request)
    theme = container.themes[inspection.theme_key]
    now = container.clock.now()

    def names(actor: str | None) -> str:
        user_id = concern_views.user_id_of(actor)
        user = container.identities.get_user(user_id) if user_id else None
        return user.name if user is not None else (actor or "")

    concern = state.concern
    principal = person.principal
    uploader = principal.role is Role.agency_uploader
    answered = state.stage is not ConcernStage.awaiting_response
    return render_form(
        request,
        "concern_agency.html" if uploader else "concern.html",
        person.page,
        errors,
        title=f"Issue of concern {concern.ref}",
        inspection=inspection,
        state=state,
        concern=concern,
        tag=concern_views.STAGE_TAGS[state.stage],
        overdue=concern_views.OVERDUE if state.overdue else None,
        rows=concern_views.form_rows(state, theme, names, now),
        sign_off_rows=concern_views.sign_off_rows(state, names),
        evaluated_by=names(concern.evaluated_by),
        evaluated_at=views.when_words(concern.evaluated_at) if concern.evaluated_at else "",
        due=views.deadline_words(state.due, now),
        may_evaluate=answered and not concern.signed and may_evaluate(concern, principal),
        may_lead_sign=principal.role is Role.lead_inspector
        and concern.evaluation is not None
        and concern.lead_signed_at is None,
        may_agency_sign=uploader
        and concern.evaluation is not None
        and concern.agency_signed_at is None,
        values=values or {"evaluation": concern.evaluation or "", "chief-officer": ""},
        raised=raised,
        upload_url=f"/inspections/{inspection.id}/items/{concern.item}/upload",
        back_url=f"/inspections/{inspection.id}/checklist" if uploader else _base(inspection.id),
        base=f"{_base(inspection.id)}/{concern.id}",
    )


@router.get("/inspections/{inspection_id}/concerns/{concern_id}")
def concern_page(
    inspection_id: str, concern_id: str, request: Request, raised: str | None = None
) -> Response:
    """One concern's form as it stands: for the inspectors its response, evaluation and the
    lead's sign-off, for the agency concerned its written response and its chief officer's
    sign-off (the page of GET /v1/inspections/{id}/concerns/{concern_id})."""
    person = signed_in(request)
    decide(request, person.principal, Permission.view_concerns, inspection_target(inspection_id))
    inspection = inspection_or_404(container_of(request), inspection_id)
    state = _state_or_404(request, person, inspection.id, concern_id)
    return _render_concern(request, person, inspection, state, raised=raised == "1")


def _evaluate(
    request: Request, person: SignedIn, inspection_id: str, concern_id: str, fields: FormData
) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    state = _state_or_404(request, person, inspection.id, concern_id)
    form = concern_views.read_evaluation_form(_text(fields))
    if form.asked is None:
        return _render_concern(
            request, person, inspection, state, values=form.values, errors=form.errors
        )
    try:
        concerns.record_evaluation(
            container, person.principal, inspection.id, concern_id, form.asked
        )
    except Refused as exc:
        if exc.kind is Refusal.not_found:
            raise not_found() from exc
        error = {"href": "#evaluation", "text": exc.detail, "field": "evaluation"}
        return _render_concern(
            request, person, inspection, state, values=form.values, errors=[error]
        )
    return see_other(f"{_base(inspection.id)}/{concern_id}#evaluation-section")


@router.post("/inspections/{inspection_id}/concerns/{concern_id}/evaluation")
async def evaluate(inspection_id: str, concern_id: str, request: Request) -> Response:
    """Share the evaluation as the API does (PUT …/concerns/{concern_id}/evaluation), then
    show the concern."""
    person, fields = await permitted_form(request, inspection_id, Permission.evaluate_concern)
    return await anyio.to_thread.run_sync(
        _evaluate, request, person, inspection_id, concern_id, fields
    )


def _sign(
    request: Request, person: SignedIn, inspection_id: str, concern_id: str, fields: FormData
) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    state = _state_or_404(request, person, inspection.id, concern_id)
    for_agency = person.principal.role is Role.agency_uploader
    form = concern_views.read_sign_off_form(_text(fields), for_agency)
    if form.asked is None:
        return _render_concern(
            request, person, inspection, state, values=form.values, errors=form.errors
        )
    try:
        concerns.sign_off(container, person.principal, inspection.id, concern_id, form.asked)
    except Refused as exc:
        if exc.kind is Refusal.not_found:
            raise not_found() from exc
        anchor = "chief-officer" if for_agency else "sign-off"
        error = {"href": f"#{anchor}", "text": exc.detail, "field": anchor}
        return _render_concern(
            request, person, inspection, state, values=form.values, errors=[error]
        )
    return see_other(f"{_base(inspection.id)}/{concern_id}#sign-off-section")


@router.post("/inspections/{inspection_id}/concerns/{concern_id}/sign-off")
async def sign_off(inspection_id: str, concern_id: str, request: Request) -> Response:
    """Sign the form as the API does (POST …/concerns/{concern_id}/sign-off), then show it."""
    person, fields = await permitted_form(request, inspection_id, Permission.sign_off_concern)
    return await anyio.to_thread.run_sync(_sign, request, person, inspection_id, concern_id, fields)
