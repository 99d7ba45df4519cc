"""Inspections and their tokens."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from portal.api.auth import (
    ContainerDep,
    PrincipalDep,
    forbidden,
)
from portal.api.schemas import (
    CompletenessOut,
    DeadlineMoveIn,
    DeadlineOut,
    DeadlineStateOut,
    InspectionIn,
    InspectionOut,
    InspectionStateIn,
    ItemStateOut,
    MessageOut,
    OnSiteIn,
    TokenIn,
    TokenOut,
)
from portal.bootstrap import Container
from portal.domain.access import Inspection, Role
from portal.domain.chase import Contacts
from portal.domain.identities import DuplicateUser
from portal.domain.onsite import parse_networks
from portal.http.problems import Problem, problem_responses
from portal.services.identities import issue_token
from portal.services.inspections import load_inspection

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])


def _out(container: Container, inspection: Inspection) -> InspectionOut:
    schedule = container.schedule(inspection)
    return InspectionOut(
        id=inspection.id,
        theme=inspection.theme_key,
        area_name=inspection.area_name,
        fieldwork_start=inspection.fieldwork_start,
        notification_date=schedule.notification if schedule else inspection.notification_date,
        agencies=list(inspection.agencies),
        created_at=inspection.created_at,
        state=inspection.state,
        deadlines=[
            DeadlineOut(key=d.key, quote=d.quote, due=d.due, moved=d.moved)
            for d in (schedule.deadlines if schedule else ())
        ],
    )


@router.post("", status_code=201, response_model=InspectionOut)
def create_inspection(
    body: InspectionIn, principal: PrincipalDep, container: ContainerDep
) -> InspectionOut:
    """Create an inspection of one area under one theme variant (admin only)."""
    theme = container.themes.get(body.theme)
    if theme is None:
        raise Problem(
            422,
            "unknown_theme",
            "Unknown theme",
            f"There is no theme variant {body.theme!r}. Choose one of: "
            f"{', '.join(sorted(container.themes))}.",
        )
    known = [a.code for a in theme.agencies]
    agencies = body.agencies if body.agencies is not None else known
    unknown = sorted(set(agencies) - set(known))
    if unknown or not agencies:
        raise Problem(
            422,
            "unknown_agency",
            "Unknown agency",
            f"{theme.key} asks nothing of {unknown or 'no agencies'}; "
            f"its agencies are {', '.join(known)}.",
        )
    inspection = Inspection(
        id=uuid.uuid4().hex,
        theme_key=theme.key,
        area_name=body.area_name,
        fieldwork_start=body.fieldwork_start,
        notification_date=body.notification_date,
        agencies=tuple(sorted(set(agencies))),
        created_at=container.clock.now(),
    )
    container.repository.add_inspection(inspection, principal.actor)
    if body.contacts is not None:
        strangers = sorted(set(body.contacts.agencies) - set(inspection.agencies))
        if strangers:
            raise Problem(
                422,
                "unknown_agency",
                "Unknown agency",
                f"Contacts name agencies not in this inspection: {strangers}.",
            )
        container.repository.set_contacts(
            inspection.id,
            Contacts(
                lead_inspector=tuple(body.contacts.lead_inspector),
                agencies={a: tuple(e) for a, e in body.contacts.agencies.items()},
            ),
        )
    return _out(container, inspection)


@router.get("/{inspection_id}/alerts", response_model=list[MessageOut])
def get_alerts(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[MessageOut]:
    """Every reminder, overdue notice and alert of this inspection: when and to whom."""
    load_inspection(container, inspection_id)
    return [
        MessageOut(
            key=r.key,
            kind=r.kind,
            agency=r.agency,
            deadline=r.deadline,
            recipients=list(r.recipients),
            subject=r.subject,
            status=r.status,
            attempts=r.attempts,
            created_at=r.created_at,
            sent_at=r.sent_at,
            last_error=r.last_error,
        )
        for r in container.repository.outbox(inspection_id)
    ]


@router.get("/{inspection_id}", response_model=InspectionOut)
def get_inspection(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> InspectionOut:
    """An inspection, to anyone scoped to it."""
    inspection = load_inspection(container, inspection_id)
    return _out(container, inspection)


@router.put("/{inspection_id}/onsite", status_code=204)
def register_onsite(
    inspection_id: str, body: OnSiteIn, principal: PrincipalDep, container: ContainerDep
) -> None:
    """Register the venues' networks (CIDRs) and the window in which health records may be
    viewed (lead inspector or admin): the window must lie inside the inspection's fieldwork
    (422 `window_outside_fieldwork`, naming its days)."""
    inspection = load_inspection(container, inspection_id)
    try:
        parse_networks(body.networks)
    except ValueError as exc:
        raise Problem(
            422, "invalid_network", "Not a network", f"{exc}; give CIDRs such as '192.0.2.0/24'."
        ) from exc
    if body.window_end <= body.window_start:
        raise Problem(
            422,
            "invalid_window",
            "The window ends before it starts",
            "window_end must be after window_start.",
        )
    fieldwork = container.fieldwork(inspection)
    if fieldwork is None:
        raise Problem(
            422,
            "fieldwork_not_dated",
            "The inspection has no fieldwork dates",
            "Health records are viewed only during fieldwork, and this inspection has no "
            "fieldwork start; give the inspection its fieldwork start first.",
        )
    if not fieldwork.holds(body.window_start, body.window_end):
        raise Problem(
            422,
            "window_outside_fieldwork",
            "The window is not inside fieldwork",
            f"Health records are viewed only during fieldwork, which runs from "
            f"{fieldwork.words()} (Europe/London). Give a window_start and window_end "
            "inside those days.",
        )
    container.repository.set_onsite(
        inspection_id,
        body.networks,
        body.window_start,
        body.window_end,
        principal.actor,
        container.clock.now(),
    )


@router.put("/{inspection_id}/state", response_model=InspectionOut)
def set_state(
    inspection_id: str, body: InspectionStateIn, principal: PrincipalDep, container: ContainerDep
) -> InspectionOut:
    """Close or withdraw the inspection (or reopen it): a closed or withdrawn inspection is
    not chased and takes no uploads."""
    load_inspection(container, inspection_id)
    container.repository.set_inspection_state(
        inspection_id, body.state, body.reason, principal.actor, container.clock.now()
    )
    return _out(container, load_inspection(container, inspection_id))


@router.put(
    "/{inspection_id}/deadlines/{deadline}",
    response_model=InspectionOut,
    responses=problem_responses(409),
)
def move_deadline(
    inspection_id: str,
    deadline: str,
    body: DeadlineMoveIn,
    principal: PrincipalDep,
    container: ContainerDep,
) -> InspectionOut:
    """Move one deadline of this inspection (lead inspector or admin); returns the timeline."""
    inspection = load_inspection(container, inspection_id)
    apply_deadline_move(container, inspection, deadline, body, principal.actor)
    return _out(container, inspection)


def apply_deadline_move(
    container: Container, inspection: Inspection, deadline: str, body: DeadlineMoveIn, actor: str
) -> None:
    """Move one deadline of an inspection, or raise the problem saying why it cannot be
    (no timeline: 409; no such deadline: 404). The API's route and the timeline page's
    form both move deadlines through here."""
    schedule = container.schedule(inspection)
    if schedule is None:
        raise Problem(
            409,
            "no_timeline",
            "No timeline yet",
            "This inspection has no fieldwork start (or its theme no timeline), so it "
            "has no deadlines to move.",
        )
    if deadline not in schedule.due_times():
        raise Problem(
            404,
            "unknown_deadline",
            "No such deadline",
            f"This inspection has no deadline {deadline!r}; its deadlines are "
            f"{', '.join(schedule.due_times())}.",
        )
    container.repository.set_deadline_override(
        inspection.id, deadline, body.due, body.reason, actor, container.clock.now()
    )


@router.get("/{inspection_id}/completeness", response_model=CompletenessOut)
def get_completeness(
    inspection_id: str,
    principal: PrincipalDep,
    container: ContainerDep,
    as_of: Annotated[AwareDatetime | None, Query(description="Default: now.")] = None,
    agency: str | None = None,
) -> CompletenessOut:
    """Per agency and deadline: required, accepted, rejected, missing and overdue items.

    Inspection staff see every agency; an uploader sees only its own.
    """
    inspection = load_inspection(container, inspection_id)
    if principal.role is Role.agency_uploader:
        if agency not in (None, principal.agency):
            raise forbidden("An uploader sees only its own agency's completeness.")
        agency = principal.agency
    moment = as_of or container.clock.now()
    states = container.completeness(inspection, moment, agency)
    return CompletenessOut(
        inspection_id=inspection_id,
        as_of=moment,
        deadlines=[
            DeadlineStateOut(
                agency=s.agency,
                deadline=s.deadline,
                due=s.due,
                required=s.required,
                accepted=s.accepted,
                missing=list(s.missing),
                overdue=list(s.overdue),
                rejected=list(s.rejected),
                items=[
                    ItemStateOut(
                        number=i.number,
                        title=i.title,
                        optional=i.optional,
                        accepted=i.accepted,
                        rejected=i.rejected,
                        rejection_reasons=[r.value for r in i.rejection_reasons],
                        pending=i.pending,
                    )
                    for i in s.items
                ],
            )
            for s in states
        ],
    )


@router.post(
    "/{inspection_id}/tokens",
    status_code=201,
    response_model=TokenOut,
    responses=problem_responses(409),
)
def create_token(
    inspection_id: str, body: TokenIn, principal: PrincipalDep, container: ContainerDep
) -> TokenOut:
    """Issue a token scoped to this inspection (and, for uploaders, to one agency)."""
    inspection = load_inspection(container, inspection_id)
    if body.role is Role.admin:
        raise forbidden("Admin tokens are not scoped to an inspection.")
    if body.role is Role.agency_uploader and body.agency not in inspection.agencies:
        raise Problem(
            422,
            "unknown_agency",
            "Unknown agency",
            f"An uploader token needs one of this inspection's agencies: "
            f"{', '.join(inspection.agencies)}.",
        )
    agency = body.agency if body.role is Role.agency_uploader else None
    try:
        issued, token = issue_token(
            container,
            body.role,
            inspection_id=inspection_id,
            agency=agency,
            label=body.label,
            actor=principal.actor,
            email=body.email,
            inspectorate=body.inspectorate,
        )
    except DuplicateUser as exc:
        raise Problem(
            409,
            "user_exists",
            "Already registered",
            "Someone with this e-mail address is already registered; issue them a token "
            "through POST /v1/users/{user_id}/tokens instead.",
        ) from exc
    return TokenOut(
        token_id=issued.token_id,
        role=issued.role,
        inspection_id=issued.inspection_id,
        agency=issued.agency,
        token=token,
    )
