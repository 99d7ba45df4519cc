"""Case selection: the lead inspector's shortlist, then the children to audit, and the
case-record slots the audit list creates for each agency."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.checklist import ThemePolicy
from portal.domain.child_lists import child_id_key, mix_shortfall
from portal.domain.scope import child_list_of
from portal.domain.seen_on_site import MarkedBy, OnSiteRecord, marked_on_site

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
    child_not_on_accepted_list = "child_not_on_accepted_list"


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
    seen_on_site: MarkedBy | None = None
    on_site: OnSiteRecord | None = None

    @property
    def arranged(self) -> bool:
        """To be seen on site, and the agency has confirmed where and when."""
        return self.seen_on_site is not None and self.on_site is not None and self.on_site.arranged


class ListEntry(BaseModel):
    """One child named by one accepted child-level list of an inspection: the list
    document, its upload target (`list:<key>`), the child's `child_id_key` and the group
    of the theme's mix rule the list gives it (None: none)."""

    model_config = ConfigDict(frozen=True)

    document_id: str
    item_number: str
    child_key: str
    row: int
    group: str | None = None


class MixNote(BaseModel):
    """An accepted list that misses its theme's mix rule, in words a lead inspector reads."""

    model_config = ConfigDict(frozen=True)

    document_id: str
    list_title: str
    shortfall: str


class Selections(BaseModel):
    """An inspection's shortlist, its children to audit, the case-record slots the
    audit list made (all agencies', or one agency's), and the accepted lists the
    shortlist is chosen from that miss their theme's mix rule."""

    model_config = ConfigDict(frozen=True)

    shortlist: tuple[str, ...]
    audit: tuple[str, ...]
    case_record_slots: tuple[CaseRecordSlot, ...]
    mix_notes: tuple[MixNote, ...] = ()


def decide_selection(
    theme: ThemePolicy,
    stage: Stage,
    child_ids: list[str],
    shortlist: tuple[str, ...],
    *,
    listed: Sequence[ListEntry],
) -> SelectionRefused | None:
    """None if the selection may be recorded, else why not.

    A shortlist holds at most the theme's shortlist size, and where the theme asks for
    child-level lists every shortlisted child is on an accepted list of the inspection
    (`listed`, compared as `child_id_key`); an audit list holds between its minimum and
    maximum, all from the shortlist (so from the lists: it is not checked against them
    again, as a list may have been deleted since). IDs are unique IDs, never names.
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
    if stage is Stage.shortlist and theme.child_lists:
        on_lists = {entry.child_key for entry in listed}
        missing = [c for c in child_ids if child_id_key(c) not in on_lists]
        if missing:
            return SelectionRefused(
                problem=SelectionProblem.child_not_on_accepted_list,
                detail=f"not on any accepted list of children of this inspection: "
                f"{', '.join(missing)}. Shortlist children from the lists the agencies "
                "provided: check each ID against those lists, or wait until the list that "
                "names the child has been accepted",
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
    theme: ThemePolicy,
    audited: tuple[str, ...],
    agencies: tuple[str, ...],
    on_site: Mapping[tuple[str, str], OnSiteRecord] | None = None,
) -> list[CaseRecordSlot]:
    """A slot per audited child per agency asked for case records, in selection order,
    each saying whether it is to be seen on site (and who said so) with what the portal
    holds about that (`on_site`, keyed by child and agency)."""
    held = on_site or {}
    return [
        CaseRecordSlot(
            child_id=child,
            agency=request.agency,
            documents=request.documents,
            deadline=request.deadline,
            health_record=theme.case_records_are_health_records(request.agency),
            seen_on_site=marked_on_site(theme, request.agency, held.get((child, request.agency))),
            on_site=held.get((child, request.agency)),
        )
        for child in audited
        for request in theme.case_records
        if request.agency in agencies
    ]


def mix_notes(theme: ThemePolicy, listed: Sequence[ListEntry]) -> tuple[MixNote, ...]:
    """For each accepted list whose definition has a mix rule it misses, what is short, in
    the order the lists were accepted (a list naming no children says nothing)."""
    groups: dict[str, dict[int, str | None]] = {}
    item_of: dict[str, str] = {}
    for entry in listed:  # a row naming its child by two IDs is one child
        groups.setdefault(entry.document_id, {})[entry.row] = entry.group
        item_of[entry.document_id] = entry.item_number
    notes = []
    for document_id, found in groups.items():
        definition = child_list_of(theme, item_of[document_id])
        if definition is None or definition.mix is None:
            continue
        short = mix_shortfall(definition.mix, list(found.values()))
        if short is not None:
            notes.append(
                MixNote(document_id=document_id, list_title=definition.title, shortfall=short)
            )
    return tuple(notes)
