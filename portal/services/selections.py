"""Use cases on the lead inspector's case selection: the shortlist, then the children to
audit, and the case records each agency owes for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from portal.domain.access import Inspection, Principal, Role
from portal.domain.errors import Refusal, Refused
from portal.domain.selection import (
    CaseRecordSlot,
    Selections,
    Stage,
    case_record_slots,
    decide_selection,
    mix_notes,
)
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container

MOST_CHILDREN = 100
"""The most children one stage's list may name (a shortlist is never longer)."""


class StageSelection(BaseModel):
    """One stage's list of children, by unique ID, in the order chosen."""

    model_config = ConfigDict(extra="forbid")

    stage: Stage
    child_ids: list[str] = Field(
        min_length=1,
        max_length=MOST_CHILDREN,
        description="Unique IDs (never names), in the order chosen.",
    )


def record_selection(
    container: Container, principal: Principal, inspection_id: str, selection: StageSelection
) -> Selections:
    """Every selection of the inspection once this stage's list has replaced the stage's
    earlier one (an audit list makes a case-record slot per audited child per agency asked
    for records). Refused invalid if the theme's rules refuse it, e.g. a shortlisted child
    on no accepted list of the inspection: its code is the `SelectionProblem` saying why.
    A list that misses its theme's mix rule does not refuse it: the result's mix notes say
    which rule and which groups."""
    inspection = load_inspection(container, inspection_id)
    shortlist = container.repository.selection(inspection.id, Stage.shortlist.value)
    refused = decide_selection(
        container.themes[inspection.theme_key],
        selection.stage,
        selection.child_ids,
        shortlist,
        listed=(
            container.repository.listed_children(inspection.id)
            if selection.stage is Stage.shortlist
            else ()
        ),
    )
    if refused is not None:
        raise Refused(
            Refusal.invalid,
            refused.problem.value,
            "The selection cannot be recorded",
            refused.detail + ".",
        )
    container.repository.replace_selection(
        inspection.id,
        selection.stage.value,
        selection.child_ids,
        principal.actor,
        container.clock.now(),
    )
    return _selections(container, inspection_id, None)


def selections_of(container: Container, principal: Principal, inspection_id: str) -> Selections:
    """The shortlist, the audit list, the case-record slots and the accepted lists that
    miss their theme's mix rule: an uploader sees only its own agency's slots, inspection
    staff every agency's."""
    agency = principal.agency if principal.role is Role.agency_uploader else None
    return _selections(container, inspection_id, agency)


def slots_of(container: Container, inspection: Inspection) -> list[CaseRecordSlot]:
    """Every case-record slot of the inspection's audit list, each saying whether it is to
    be seen on site and what is held about that."""
    audit = container.repository.selection(inspection.id, Stage.audit.value)
    held = {(r.child_id, r.agency): r for r in container.repository.on_site_records(inspection.id)}
    return case_record_slots(
        container.themes[inspection.theme_key], audit, inspection.agencies, held
    )


def _selections(container: Container, inspection_id: str, agency: str | None) -> Selections:
    inspection = load_inspection(container, inspection_id)
    theme = container.themes[inspection.theme_key]
    audit = container.repository.selection(inspection_id, Stage.audit.value)
    slots = slots_of(container, inspection)
    return Selections(
        shortlist=container.repository.selection(inspection_id, Stage.shortlist.value),
        audit=audit,
        case_record_slots=tuple(s for s in slots if agency in (None, s.agency)),
        mix_notes=mix_notes(theme, container.repository.listed_children(inspection_id)),
    )
