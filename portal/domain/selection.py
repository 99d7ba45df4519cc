"""Case selection: the lead inspector's shortlist, then the children to audit, and the
case-record slots the audit list creates for each agency."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.checklist import ThemePolicy

CHILD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class Stage(StrEnum):
    shortlist = "shortlist"
    audit = "audit"


class SelectionProblem(StrEnum):
    """Why a selection was refused (a stable code for the API)."""

    no_selection_in_theme = "no_selection_in_theme"
    invalid_child_id = "invalid_child_id"
    repeated_child_id = "repeated_child_id"
    wrong_number_of_children = "wrong_number_of_children"
    child_not_shortlisted = "child_not_shortlisted"


class SelectionRefused(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: SelectionProblem
    detail: str


class CaseRecordSlot(BaseModel):
    """One agency's case records for one audited child."""

    model_config = ConfigDict(frozen=True)

    child_id: str
    agency: str
    documents: tuple[str, ...]
    deadline: str
    health_record: bool


class Selections(BaseModel):
    """An inspection's shortlist, its children to audit, and the case-record slots the
    audit list made (all agencies', or one agency's)."""

    model_config = ConfigDict(frozen=True)

    shortlist: tuple[str, ...]
    audit: tuple[str, ...]
    case_record_slots: tuple[CaseRecordSlot, ...]


def decide_selection(
    theme: ThemePolicy, stage: Stage, child_ids: list[str], shortlist: tuple[str, ...]
) -> SelectionRefused | None:
    """None if the selection may be recorded, else why not.

    A shortlist holds at most the theme's shortlist size; an audit list holds between its
    minimum and maximum, all from the shortlist. IDs are unique IDs, never names.
    """
    policy = theme.selection
    if policy is None:
        return SelectionRefused(
            problem=SelectionProblem.no_selection_in_theme,
            detail=f"{theme.key} has no case selection",
        )
    bad = [i for i, child in enumerate(child_ids) if not re.fullmatch(CHILD_ID_PATTERN, child)]
    if bad:
        return SelectionRefused(
            problem=SelectionProblem.invalid_child_id,
            detail=f"entries {[i + 1 for i in bad]} are not unique IDs (letters, digits, - or _; "
            "no spaces, so no names)",
        )
    if len(set(child_ids)) != len(child_ids):
        return SelectionRefused(
            problem=SelectionProblem.repeated_child_id, detail="a child is listed twice"
        )
    if stage is Stage.shortlist:
        low, high = 1, policy.shortlist_size
    else:
        low, high = policy.audit_min, policy.audit_max
    if not low <= len(child_ids) <= high:
        wanted = str(high) if low == high else f"between {low} and {high}"
        return SelectionRefused(
            problem=SelectionProblem.wrong_number_of_children,
            detail=f"the {stage.value} needs {wanted} children, not {len(child_ids)}"
            if stage is Stage.audit
            else f"the shortlist holds at most {high} children",
        )
    if stage is Stage.audit:
        outside = [c for c in child_ids if c not in shortlist]
        if outside:
            return SelectionRefused(
                problem=SelectionProblem.child_not_shortlisted,
                detail=f"not on the shortlist: {', '.join(outside)}",
            )
    return None


def case_record_slots(
    theme: ThemePolicy, audited: tuple[str, ...], agencies: tuple[str, ...]
) -> list[CaseRecordSlot]:
    """A slot per audited child per agency asked for case records, in selection order."""
    return [
        CaseRecordSlot(
            child_id=child,
            agency=request.agency,
            documents=request.documents,
            deadline=request.deadline,
            health_record=theme.case_records_are_health_records(request.agency),
        )
        for child in audited
        for request in theme.case_records
        if request.agency in agencies
    ]
