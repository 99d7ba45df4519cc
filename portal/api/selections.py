"""The lead inspector's case selection: the shortlist, then the children to audit."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from portal.api.auth import ContainerDep, PrincipalDep
from portal.domain.selection import Selections
from portal.services import selections
from portal.services.selections import StageSelection

router = APIRouter(prefix="/v1/inspections", tags=["selections"])


class SelectionIn(StageSelection):
    pass


class CaseRecordSlotOut(BaseModel):
    child_id: str
    agency: str
    documents: list[str]
    deadline: str
    on_site_only: bool


class MixNoteOut(BaseModel):
    document_id: str = Field(description="The accepted list.")
    list_title: str = Field(description="The list, in the guidance's words.")
    shortfall: str = Field(
        description="Which mix rule (and paragraph) the list misses, and the groups short."
    )


class SelectionsOut(BaseModel):
    shortlist: list[str]
    audit: list[str]
    case_record_slots: list[CaseRecordSlotOut]
    mix_notes: list[MixNoteOut] = Field(
        description="Accepted lists that miss the mix their theme asks for if possible "
        "(e.g. at least 2 children from each age group): a warning, never a refusal."
    )


def _out(chosen: Selections) -> SelectionsOut:
    return SelectionsOut(
        shortlist=list(chosen.shortlist),
        audit=list(chosen.audit),
        case_record_slots=[
            CaseRecordSlotOut(
                child_id=s.child_id,
                agency=s.agency,
                documents=list(s.documents),
                deadline=s.deadline,
                on_site_only=s.health_record,
            )
            for s in chosen.case_record_slots
        ],
        mix_notes=[
            MixNoteOut(document_id=n.document_id, list_title=n.list_title, shortfall=n.shortfall)
            for n in chosen.mix_notes
        ],
    )


@router.post("/{inspection_id}/selections", response_model=SelectionsOut)
def record_selection(
    inspection_id: str, body: SelectionIn, principal: PrincipalDep, container: ContainerDep
) -> SelectionsOut:
    """Record the shortlist or the audit list (replacing the stage's earlier list).

    Every shortlisted child must be on an accepted list of children of this inspection
    (else 422 `child_not_on_accepted_list`, naming the IDs); the audit list is chosen from
    the shortlist. The audit list creates a case-record slot per audited child per agency
    asked for records.
    """
    return _out(selections.record_selection(container, principal, inspection_id, body))


@router.get("/{inspection_id}/selections", response_model=SelectionsOut)
def get_selections(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> SelectionsOut:
    """The selections; an uploader sees its own agency's case-record slots."""
    return _out(selections.selections_of(container, principal, inspection_id))
