"""The pages that set an inspection up, so nobody needs the API to: creating it (an
administrator), its people and their tokens (an administrator or its lead inspector), and
where and when its health records may be viewed on site (the lead inspector).

Each page decides access as the API route it mirrors does (the same Permission, through
`decide`) and calls the same use case its handler calls: `create_inspection`,
`users_of`/`tokens_of`/`issue_inspection_token`, and `register_onsite_window`.
"""

from __future__ import annotations

from collections import defaultdict

import anyio
from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from portal.domain.access import Inspection
from portal.domain.authorization import Permission, Target
from portal.domain.errors import Refusal, Refused
from portal.services.identities import (
    issue_inspection_token,
    roles_they_may_add,
    tokens_of,
    users_of,
)
from portal.services.inspections import create_inspection, register_onsite_window
from portal.web import setup_views
from portal.web.pages import (
    SignedIn,
    WebRoute,
    bad_request,
    container_of,
    decide,
    inspection_or_404,
    inspection_target,
    not_found,
    render,
    see_other,
    signed_in,
)
from portal.web.sessions import CSRF_FIELD, csrf_matches, same_origin

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MAX_SETUP_FORM_BYTES = 64 * 1024
"""Room for every theme's contacts boxes full of addresses."""
MAX_SETUP_FIELDS = 400
"""Every theme's agencies twice (a checkbox and a contacts box) and the other fields."""


async def _setup_form(
    request: Request, permission: Permission, target: Target
) -> tuple[SignedIn, FormData]:
    """A set-up form from this site, by someone the API's gate lets do it (refusals audited,
    before the form is read), carrying this session's CSRF token."""
    if not same_origin(request):
        raise bad_request()
    person = await anyio.to_thread.run_sync(signed_in, request)
    await anyio.to_thread.run_sync(decide, request, person.principal, permission, target)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_SETUP_FORM_BYTES:
        raise bad_request()
    async with request.form(max_files=0, max_fields=MAX_SETUP_FIELDS) as form:
        fields = FormData(list(form.multi_items()))
    if not csrf_matches(person.session, _text(fields, CSRF_FIELD)):
        raise bad_request()
    return person, fields


def _text(fields: FormData, name: str) -> str:
    value = fields.get(name, "")
    return value if isinstance(value, str) else ""


def _texts(fields: FormData) -> dict[str, str]:
    return {k: _text(fields, k) for k in fields}


def _by_field(errors: list[setup_views.Error]) -> defaultdict[str, str]:
    """Each field's error; a field without one reads as empty in the templates."""
    return defaultdict(str, {e["field"]: e["text"] for e in errors})


def _summary(errors: list[setup_views.Error]) -> list[dict[str, str]]:
    return [{"href": e["href"], "text": e["text"]} for e in errors]


# -- creating an inspection --------------------------------------------------------------------


def _render_new(
    request: Request, person: SignedIn, form: setup_views.InspectionForm
) -> HTMLResponse:
    choices = setup_views.theme_choices(container_of(request).themes)
    return render(
        request,
        "setup_new_inspection.html",
        person.page,
        status=400 if form.errors else 200,
        title="Create an inspection",
        choices=choices,
        choice=next((c for c in choices if c.key == form.values["theme"]), None),
        values=form.values,
        ticked=form.ticked,
        by_field=_by_field(form.errors),
        agencies_field=setup_views.agencies_field,
        contact_field=setup_views.contact_field,
        action=request.url.path,
        errors=_summary(form.errors),
    )


@router.get("/inspections/new")
def new_inspection_page(
    request: Request, theme: str | None = None, step: str | None = None
) -> Response:
    """The form of POST /v1/inspections in two steps: the theme variant first, then the
    area, days, the theme's agencies in scope and their contacts."""
    person = signed_in(request)
    decide(request, person.principal, Permission.create_inspection, Target())
    choices = setup_views.theme_choices(container_of(request).themes)
    return _render_new(request, person, setup_views.theme_step(choices, theme, step == "theme"))


def _create(request: Request, person: SignedIn, fields: FormData) -> Response:
    container = container_of(request)
    choices = setup_views.theme_choices(container.themes)
    ticks = {
        name: [v for v in fields.getlist(name) if isinstance(v, str)]
        for name in (setup_views.agencies_field(c) for c in choices)
    }
    form = setup_views.read_inspection_form(_texts(fields), ticks, choices)
    if form.new is None:
        return _render_new(request, person, form)
    try:
        inspection = create_inspection(container, person.principal, form.new)
    except Refused as exc:
        if exc.kind is not Refusal.invalid:
            raise
        error = setup_views.refusal_error(exc.code, exc.detail, form, choices)
        refused = setup_views.InspectionForm(form.values, form.ticked, [error], None)
        return _render_new(request, person, refused)
    return see_other(f"/inspections/{inspection.id}/timeline?created=1")


@router.post("/inspections/new")
async def new_inspection(request: Request) -> Response:
    """Create the inspection as the API does, then show its timeline."""
    person, fields = await _setup_form(request, Permission.create_inspection, Target())
    return await anyio.to_thread.run_sync(_create, request, person, fields)


# -- people and tokens ---------------------------------------------------------------------------


def _render_people(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    form: setup_views.TokenForm | None = None,
) -> HTMLResponse:
    container = container_of(request)
    theme = container.themes[inspection.theme_key]
    people = [(u, tokens_of(container, u.id)) for u in users_of(container, inspection.id)]
    errors = form.errors if form else []
    return render(
        request,
        "setup_people.html",
        person.page,
        status=400 if errors else 200,
        title="People and tokens",
        inspection=inspection,
        rows=setup_views.token_rows(people, theme, container.clock.now()),
        roles=[
            (r.value, setup_views.ROLE_WORDS[r])
            for r in setup_views.ISSUABLE_ROLES
            if r in roles_they_may_add(person.principal)
        ],
        agencies=[(a.code, a.name) for a in theme.agencies if a.code in inspection.agencies],
        values=form.values if form else {"role": "", "agency": "", "label": "", "email": ""},
        by_field=_by_field(errors),
        action=request.url.path,
        errors=_summary(errors),
    )


@router.get("/inspections/{inspection_id}/people")
def people_page(inspection_id: str, request: Request) -> Response:
    """Everyone registered in the inspection with their tokens' labels and states (never a
    token's secret; the page of GET /v1/inspections/{id}/users), and the form of
    POST /v1/inspections/{id}/tokens."""
    person = signed_in(request)
    decide(request, person.principal, Permission.manage_users, inspection_target(inspection_id))
    inspection = inspection_or_404(container_of(request), inspection_id)
    return _render_people(request, person, inspection)


def _issue(request: Request, person: SignedIn, inspection_id: str, fields: FormData) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    form = setup_views.read_token_form(_texts(fields))
    if form.errors or form.role is None:
        return _render_people(request, person, inspection, form)
    try:
        issued, token = issue_inspection_token(
            container,
            person.principal,
            inspection.id,
            form.role,
            agency=form.agency,
            label=form.label,
            email=form.email,
        )
    except Refused as exc:
        if exc.kind is Refusal.not_found:
            raise not_found() from exc
        if exc.kind not in (Refusal.invalid, Refusal.conflict):
            raise
        field = setup_views.token_refusal_field(exc.code)
        error = {"href": f"#{field}", "text": exc.detail, "field": field}
        refused = setup_views.TokenForm(
            form.values, [error], form.role, form.agency, form.label, form.email
        )
        return _render_people(request, person, inspection, refused)
    theme = container.themes[inspection.theme_key]
    agency = theme.agency(issued.agency) if issued.agency else None
    # The secret is on this page alone: never stored, never redirected through a URL.
    return render(
        request,
        "setup_token_issued.html",
        person.page,
        title="Copy the new token now",
        inspection=inspection,
        role=setup_views.ROLE_WORDS[issued.role],
        agency=agency.name if agency else "",
        label=form.label,
        token=token,
        back_url=f"/inspections/{inspection.id}/people",
    )


@router.post("/inspections/{inspection_id}/people")
async def issue_token(inspection_id: str, request: Request) -> Response:
    """Issue a token as the API does, and show its secret once."""
    person, fields = await _setup_form(
        request, Permission.manage_users, inspection_target(inspection_id)
    )
    return await anyio.to_thread.run_sync(_issue, request, person, inspection_id, fields)


# -- on-site viewing ------------------------------------------------------------------------------


def _render_onsite(
    request: Request,
    person: SignedIn,
    inspection: Inspection,
    values: dict[str, str],
    errors: list[setup_views.Error] | None = None,
    saved: bool = False,
) -> HTMLResponse:
    fieldwork = container_of(request).fieldwork(inspection)
    return render(
        request,
        "setup_onsite.html",
        person.page,
        status=400 if errors else 200,
        title="On-site viewing",
        inspection=inspection,
        fieldwork=fieldwork.words() if fieldwork else "",
        values=values,
        by_field=_by_field(errors or []),
        saved=saved,
        action=request.url.path,
        errors=_summary(errors or []),
    )


@router.get("/inspections/{inspection_id}/onsite")
def onsite_page(inspection_id: str, request: Request, saved: str | None = None) -> Response:
    """The venues' networks and the window in which health records may be viewed on site,
    as registered (the form of PUT /v1/inspections/{id}/onsite)."""
    person = signed_in(request)
    decide(
        request, person.principal, Permission.manage_inspection, inspection_target(inspection_id)
    )
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    policy = container.repository.onsite_policy(inspection.id)
    values = setup_views.onsite_form_values(
        [str(n) for n in policy.networks], policy.window_start, policy.window_end
    )
    return _render_onsite(request, person, inspection, values, saved=saved == "1")


def _register(request: Request, person: SignedIn, inspection_id: str, fields: FormData) -> Response:
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    form = setup_views.read_onsite_form(_texts(fields))
    if form.errors or form.window is None:
        return _render_onsite(request, person, inspection, form.values, form.errors)
    try:
        register_onsite_window(
            container, person.principal, inspection.id, form.networks, *form.window
        )
    except Refused as exc:
        if exc.kind is not Refusal.invalid:
            raise
        field = "networks" if exc.code == "invalid_network" else "start-day"
        error = {"href": f"#{field}", "text": exc.detail, "field": field}
        return _render_onsite(request, person, inspection, form.values, [error])
    return see_other(f"/inspections/{inspection_id}/onsite?saved=1")


@router.post("/inspections/{inspection_id}/onsite")
async def register_onsite(inspection_id: str, request: Request) -> Response:
    """Register the networks and window as the API does, then show them."""
    person, fields = await _setup_form(
        request, Permission.manage_inspection, inspection_target(inspection_id)
    )
    return await anyio.to_thread.run_sync(_register, request, person, inspection_id, fields)
