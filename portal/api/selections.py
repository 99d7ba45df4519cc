"""The lead inspector's case selection: the shortlist, then the children to audit."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from portal.api.auth import ContainerDep, PrincipalDep
from portal.domain.seen_on_site import WHERE_HINT, WHERE_MOST, MarkedBy
from portal.domain.selection import CaseRecordSlot, Selections
from portal.http.problems import problem_responses
from portal.services import seen_on_site, selections
from portal.services.selections import StageSelection

router = APIRouter(prefix="/v1/inspections", tags=["selections"])


class SelectionIn(StageSelection):
    pass


class ArrangementOut(BaseModel):
    where: str = Field(description="Where and how inspectors will see the records.")
    day: date = Field(description="The day of fieldwork they will see them.")
    confirmed_at: datetime | None


class CaseRecordSlotOut(BaseModel):
    child_id: str
    agency: str
    documents: list[str]
    deadline: str
    on_site_only: bool
    seen_on_site: MarkedBy | None = Field(
        default=None,
        description="Set if the records are to be seen on site, not uploaded: who said so "
        "(the theme, quoting the guidance, or the lead inspector for this inspection).",
    )
    arrangement: ArrangementOut | None = Field(
        default=None, description="Where and when the agency confirmed inspectors will see them."
    )
    seen_at: datetime | None = Field(
        default=None, description="When an inspector recorded seeing them on site."
    )


class ArrangementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The use case decides what is missing or too long (`where_missing`, `where_too_long`,
    # on the text as stripped); this bound only keeps a request's body small.
    where: str = Field(max_length=4 * WHERE_MOST, description=WHERE_HINT)
    day: date = Field(description="A day of the inspection's fieldwork.")


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
        case_record_slots=[_slot_out(s) for s in chosen.case_record_slots],
        mix_notes=[
            MixNoteOut(document_id=n.document_id, list_title=n.list_title, shortfall=n.shortfall)
            for n in chosen.mix_notes
        ],
    )


def _slot_out(slot: CaseRecordSlot) -> CaseRecordSlotOut:
    held = slot.on_site if slot.seen_on_site is not None else None
    return CaseRecordSlotOut(
        child_id=slot.child_id,
        agency=slot.agency,
        documents=list(slot.documents),
        deadline=slot.deadline,
        on_site_only=slot.health_record,
        seen_on_site=slot.seen_on_site,
        arrangement=ArrangementOut(where=held.where, day=held.day, confirmed_at=held.arranged_at)
        if held is not None and held.where is not None and held.day is not None
        else None,
        seen_at=held.seen_at if held is not None else None,
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


# Records to be seen on site, not sent (issue 17)

_SLOT = "/{inspection_id}/case-records/{agency}/{child_id}"


@router.put(_SLOT + "/seen-on-site", response_model=CaseRecordSlotOut)
def mark_seen_on_site(
    inspection_id: str, agency: str, child_id: str, principal: PrincipalDep, container: ContainerDep
) -> CaseRecordSlotOut:
    """Mark one audited child's case records from one agency to be seen on site for this
    inspection: the agency then confirms where and when instead of uploading, and an
    upload into the slot is refused (409 `seen_on_site_only`). 404 `no_such_slot`."""
    return _slot_out(
        seen_on_site.mark_seen_on_site(container, principal, inspection_id, agency, child_id)
    )


@router.put(
    _SLOT + "/arrangement", response_model=CaseRecordSlotOut, responses=problem_responses(409)
)
def confirm_arrangement(
    inspection_id: str,
    agency: str,
    child_id: str,
    body: ArrangementIn,
    principal: PrincipalDep,
    container: ContainerDep,
) -> CaseRecordSlotOut:
    """The agency confirms where and how (no names) and on which day of fieldwork the
    inspectors will see records to be seen on site; completeness then counts them as
    provided. 409 `not_seen_on_site` for records to be uploaded; 422
    `day_outside_fieldwork`, `where_missing`, `where_too_long`, `no_fieldwork`."""
    return _slot_out(
        seen_on_site.confirm_arrangement(
            container, principal, inspection_id, agency, child_id, body.where, body.day
        )
    )


@router.post(_SLOT + "/seen", response_model=CaseRecordSlotOut, responses=problem_responses(409))
def record_seen(
    inspection_id: str, agency: str, child_id: str, principal: PrincipalDep, container: ContainerDep
) -> CaseRecordSlotOut:
    """An inspector (or the lead) records that they saw the records on site (audited).
    409 `not_seen_on_site` for records to be uploaded."""
    return _slot_out(
        seen_on_site.record_seen(container, principal, inspection_id, agency, child_id)
    )
