"""The lead inspector's case selection: the shortlist, then the children to audit."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from portal.api.auth import ContainerDep, PrincipalDep
from portal.bootstrap import Container
from portal.domain.access import Inspection, Role
from portal.domain.selection import (
    SelectionRefused,
    Stage,
    case_record_slots,
    decide_selection,
)
from portal.http.problems import Problem
from portal.services.inspections import load_inspection

router = APIRouter(prefix="/v1/inspections", tags=["selections"])


class SelectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage
    child_ids: list[str] = Field(
        min_length=1, max_length=100, description="Unique IDs (never names), in the order chosen."
    )


class CaseRecordSlotOut(BaseModel):
    child_id: str
    agency: str
    documents: list[str]
    deadline: str
    on_site_only: bool


class SelectionsOut(BaseModel):
    shortlist: list[str]
    audit: list[str]
    case_record_slots: list[CaseRecordSlotOut]


def selections_of(container: Container, inspection_id: str, agency: str | None) -> SelectionsOut:
    """The shortlist, the audit list and the case-record slots (one agency's, if given)."""
    inspection = load_inspection(container, inspection_id)
    audit = container.repository.selection(inspection_id, Stage.audit.value)
    slots = case_record_slots(container.themes[inspection.theme_key], audit, inspection.agencies)
    return SelectionsOut(
        shortlist=list(container.repository.selection(inspection_id, Stage.shortlist.value)),
        audit=list(audit),
        case_record_slots=[
            CaseRecordSlotOut(
                child_id=s.child_id,
                agency=s.agency,
                documents=list(s.documents),
                deadline=s.deadline,
                on_site_only=s.health_record,
            )
            for s in slots
            if agency in (None, s.agency)
        ],
    )


@router.post("/{inspection_id}/selections", response_model=SelectionsOut)
def record_selection(
    inspection_id: str, body: SelectionIn, principal: PrincipalDep, container: ContainerDep
) -> SelectionsOut:
    """Record the shortlist or the audit list (replacing the stage's earlier list).

    The audit list creates a case-record slot per audited child per agency asked for records.
    """
    inspection = load_inspection(container, inspection_id)
    refused = record_selection_of(
        container, inspection, body.stage, body.child_ids, principal.actor
    )
    if refused is not None:
        raise Problem(
            422, refused.problem.value, "The selection cannot be recorded", refused.detail + "."
        )
    return selections_of(container, inspection_id, None)


def record_selection_of(
    container: Container, inspection: Inspection, stage: Stage, child_ids: list[str], actor: str
) -> SelectionRefused | None:
    """Record one stage's selection (replacing the earlier one), or say why it cannot be.
    The API's route and the children page's forms both record selections through here."""
    shortlist = container.repository.selection(inspection.id, Stage.shortlist.value)
    refused = decide_selection(container.themes[inspection.theme_key], stage, child_ids, shortlist)
    if refused is None:
        container.repository.replace_selection(
            inspection.id, stage.value, child_ids, actor, container.clock.now()
        )
    return refused


@router.get("/{inspection_id}/selections", response_model=SelectionsOut)
def get_selections(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> SelectionsOut:
    """The selections; an uploader sees its own agency's case-record slots."""
    agency = principal.agency if principal.role is Role.agency_uploader else None
    return selections_of(container, inspection_id, agency)
