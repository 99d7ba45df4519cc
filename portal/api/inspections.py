"""Inspections and their tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from portal.api.auth import (
    ContainerDep,
    PrincipalDep,
)
from portal.api.schemas import (
    CompletenessOut,
    DayShiftOut,
    DeadlineMoveIn,
    DeadlineOut,
    DeadlineStateOut,
    InspectionDaysIn,
    InspectionIn,
    InspectionOut,
    InspectionStateIn,
    ItemStateOut,
    MessageOut,
    OnSiteIn,
    TimelineWarningOut,
    TokenIn,
    TokenOut,
)
from portal.bootstrap import Container
from portal.domain.access import Inspection
from portal.domain.chase import Contacts
from portal.http.problems import problem_responses
from portal.services import inspections, timeline
from portal.services.identities import issue_inspection_token
from portal.services.inspections import NewInspection, load_inspection

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])


def _out(container: Container, inspection: Inspection) -> InspectionOut:
    schedule = container.schedule(inspection)
    return InspectionOut(
        id=inspection.id,
        theme=inspection.theme_key,
        area_name=inspection.area_name,
        fieldwork_start=inspection.fieldwork_start,
        notification_date=schedule.notification if schedule else inspection.notification_date,
        entered_days=sorted(inspection.entered_days),
        agencies=list(inspection.agencies),
        created_at=inspection.created_at,
        state=inspection.state,
        deadlines=[
            DeadlineOut(
                key=d.key,
                quote=d.quote,
                due=d.due,
                moved=d.moved,
                depends_on=list(d.depends_on),
                shift=DayShiftOut.model_validate(d.shift.model_dump()) if d.shift else None,
            )
            for d in (schedule.deadlines if schedule else ())
        ],
        timeline_warnings=[
            TimelineWarningOut(code=w.code, text=w.text)
            for w in (schedule.warnings if schedule else ())
        ],
    )


@router.post("", status_code=201, response_model=InspectionOut)
def create_inspection(
    body: InspectionIn, principal: PrincipalDep, container: ContainerDep
) -> InspectionOut:
    """Create an inspection of one area under one theme variant (admin only)."""
    contacts = body.contacts
    new = NewInspection(
        theme=body.theme,
        area_name=body.area_name,
        fieldwork_start=body.fieldwork_start,
        notification_date=body.notification_date,
        agencies=tuple(body.agencies) if body.agencies is not None else None,
        contacts=Contacts(
            lead_inspector=tuple(contacts.lead_inspector),
            agencies={a: tuple(e) for a, e in contacts.agencies.items()},
        )
        if contacts is not None
        else None,
    )
    return _out(container, inspections.create_inspection(container, principal, new))


@router.get("", response_model=list[InspectionOut])
def list_inspections(principal: PrincipalDep, container: ContainerDep) -> list[InspectionOut]:
    """Every inspection the caller may see, newest first, each as GET
    /v1/inspections/{id} shows it: all of them to an administrator (and to a records
    officer of every inspection), the caller's own to everyone else."""
    return [
        _out(container, inspection)
        for inspection in inspections.inspections_seen_by(container, principal)
    ]


@router.get("/{inspection_id}/alerts", response_model=list[MessageOut])
def get_alerts(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[MessageOut]:
    """Every reminder, overdue notice and alert of this inspection: when and to whom."""
    return [
        MessageOut.model_validate(m.model_dump())
        for m in inspections.alerts_of(container, inspection_id)
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
    inspections.register_onsite_window(
        container, principal, inspection_id, body.networks, body.window_start, body.window_end
    )


@router.put("/{inspection_id}/days", response_model=InspectionOut)
def set_days(
    inspection_id: str, body: InspectionDaysIn, principal: PrincipalDep, container: ContainerDep
) -> InspectionOut:
    """Set the notification day, the fieldwork start, or both (lead inspector or admin):
    what is given is kept as entered, the other derived from the theme's rule, and the
    deadlines follow. A day off the rule is kept, with a warning in `timeline_warnings`."""
    inspection = inspections.set_inspection_days(
        container, principal, inspection_id, body.notification_date, body.fieldwork_start
    )
    return _out(container, inspection)


@router.put("/{inspection_id}/state", response_model=InspectionOut)
def set_state(
    inspection_id: str, body: InspectionStateIn, principal: PrincipalDep, container: ContainerDep
) -> InspectionOut:
    """Close or withdraw the inspection (or reopen it): a closed or withdrawn inspection is
    not chased and takes no uploads."""
    inspection = inspections.set_inspection_state(
        container, principal, inspection_id, body.state, body.reason
    )
    return _out(container, inspection)


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
    inspection = timeline.move_deadline(container, principal, inspection_id, deadline, body)
    return _out(container, inspection)


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
    found = inspections.completeness_as_of(container, principal, inspection_id, as_of, agency)
    return CompletenessOut(
        inspection_id=inspection_id,
        as_of=found.as_of,
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
                        withdrawn=i.withdrawn,
                    )
                    for i in s.items
                ],
            )
            for s in found.states
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
    issued, token = issue_inspection_token(
        container,
        principal,
        inspection_id,
        body.role,
        agency=body.agency,
        label=body.label,
        email=body.email,
        inspectorate=body.inspectorate,
    )
    return TokenOut(
        token_id=issued.token_id,
        role=issued.role,
        inspection_id=issued.inspection_id,
        agency=issued.agency,
        token=token,
    )
