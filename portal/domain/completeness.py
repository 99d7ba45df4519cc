"""Completeness: per agency and deadline, what was asked, accepted, rejected, missing, overdue.

A pure function of the theme, the inspection's deadlines, its audit selection and its
documents, at any "as of" time: a document counts only once its verdict was reached by then.
What is asked: every Annex A item, every child-level list, each agency's case records for
each audited child, the partnership's multi-agency audit of each audited child (owed by
the agency that shares it) and the single-agency audits the theme asks for. Case records
to be seen on site count as provided once the agency has confirmed where and when.
A withdrawn document's verdict is its withdrawal: as of a time before it was withdrawn it
counts as still being checked (when it had been accepted is kept in the audit log only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from portal.domain.checklist import ChildSet, ThemePolicy
from portal.domain.documents import DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.domain.scope import (
    AGENCY_AUDIT,
    AUDIT,
    CASE_RECORD,
    LIST_PREFIX,
    REQUEST_PREFIX,
    carries_child,
)


class DocumentFact(BaseModel):
    """The little completeness needs to know about one document."""

    model_config = ConfigDict(frozen=True)

    agency: str
    item_number: str
    child_id: str | None = None
    status: DocumentStatus
    reasons: tuple[ReasonCode, ...] = ()
    received_at: datetime
    decided_at: datetime | None = None


# Plain frozen dataclasses below: completeness builds ~10^5 of them for a large estate, and
# pydantic validation would dominate the time (bench/bench_completeness.py).


@dataclass(frozen=True, slots=True)
class Requirement:
    """One thing an agency owes: an item, a list, a child's case records or audit."""

    agency: str
    key: str
    title: str
    deadline: str | None
    item: str
    optional: bool = False
    child_id: str | None = None


@dataclass(frozen=True, slots=True)
class ItemState:
    """One requirement, as of a time."""

    number: str
    title: str
    optional: bool
    accepted: int
    rejected: int
    rejection_reasons: tuple[ReasonCode, ...]
    """Why its documents were rejected or withdrawn, each reason once."""
    pending: int
    arranged: bool = False
    withdrawn: int = 0
    """Documents accepted, then withdrawn (found infected on a rescan): no longer sent."""

    @property
    def is_accepted(self) -> bool:
        """At least one document for it has been accepted, or (records to be seen on site)
        the agency has confirmed where and when inspectors will see them."""
        return self.accepted > 0 or self.arranged


@dataclass(frozen=True, slots=True)
class DeadlineState:
    """Everything one agency owes by one deadline."""

    agency: str
    deadline: str | None
    due: datetime | None
    items: tuple[ItemState, ...]
    required: int
    accepted: int
    missing: tuple[str, ...]
    overdue: tuple[str, ...]
    rejected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Completeness:
    """An inspection's completeness matrix as of one time (every agency's, or one's)."""

    as_of: datetime
    states: tuple[DeadlineState, ...]


def requirements_of(
    theme: ThemePolicy,
    agencies: Iterable[str],
    audited: Iterable[str],
    shortlisted: Iterable[str] = (),
) -> list[Requirement]:
    """Everything the inspection asks, agency by agency, in the guidance's order."""
    in_scope = set(agencies)
    children = list(audited)
    chosen = {ChildSet.audited: children, ChildSet.shortlisted: list(shortlisted)}
    asked: list[Requirement] = []
    for agency in theme.agencies:
        if agency.code not in in_scope:
            continue
        asked += [
            Requirement(
                agency=agency.code,
                key=i.number,
                title=i.title,
                deadline=i.deadline,
                optional=i.optional,
                item=i.number,
            )
            for i in agency.items
        ]
        asked += [
            Requirement(
                agency=agency.code,
                key=LIST_PREFIX + c.key,
                title=c.title,
                deadline=c.deadline,
                item=LIST_PREFIX + c.key,
            )
            for c in theme.child_lists
            if c.agency == agency.code
        ]
        asked += [
            Requirement(
                agency=agency.code,
                key=f"{CASE_RECORD}:{child}",
                title=f"Case records of child {child}",
                deadline=r.deadline,
                item=CASE_RECORD,
                child_id=child,
            )
            for r in theme.case_records
            if r.agency == agency.code
            for child in children
        ]
        asked += _audits_of(theme, agency.code, children)
        asked += _requests_of(theme, agency.code, chosen)
    return asked


def _requests_of(
    theme: ThemePolicy, agency: str, chosen: dict[ChildSet, list[str]]
) -> list[Requirement]:
    """The theme's other requests made of `agency`: once each, or once per child of the
    set a per-child request names."""
    asked = []
    for request in (r for r in theme.requests if agency in r.agencies):
        item = REQUEST_PREFIX + request.key
        children: list[str | None] = (
            [None] if request.per_child is None else list(chosen[request.per_child])
        )
        asked += [
            Requirement(
                agency=agency,
                key=item if child is None else f"{item}:{child}",
                title=request.title if child is None else f"{request.title}: child {child}",
                deadline=request.deadline,
                item=item,
                optional=request.optional,
                child_id=child,
            )
            for child in children
        ]
    return asked


def _audits_of(theme: ThemePolicy, agency: str, children: list[str]) -> list[Requirement]:
    """The multi-agency audit of each child, if `agency` shares it for the partnership, and
    the single-agency audit of each child the theme asks of `agency`."""
    if theme.audits is None:
        return []
    asked = []
    if theme.audits.shared_by == agency:
        asked += [
            Requirement(
                agency=agency,
                key=f"{AUDIT}:{child}",
                title=f"Multi-agency audit of child {child}",
                deadline=theme.audits.deadline,
                item=AUDIT,
                child_id=child,
            )
            for child in children
        ]
    single = theme.single_agency_audits(agency)
    if single is not None:
        asked += [
            Requirement(
                agency=agency,
                key=f"{AGENCY_AUDIT}:{child}",
                title=f"Single-agency audit of child {child}",
                deadline=theme.audits.deadline,
                item=AGENCY_AUDIT,
                child_id=child,
                optional=single.optional,
            )
            for child in children
        ]
    return asked


def completeness(
    theme: ThemePolicy,
    agencies: Iterable[str],
    deadlines: dict[str, datetime],
    documents: Iterable[DocumentFact],
    as_of: datetime,
    audited: Iterable[str] = (),
    shortlisted: Iterable[str] = (),
    arranged: Iterable[tuple[str, str]] = (),
    extra: Iterable[Requirement] = (),
) -> list[DeadlineState]:
    """The completeness matrix of one inspection as of `as_of`, by agency then deadline.

    Required means not optional; missing means required and not yet accepted; overdue means
    missing after its deadline has passed; rejected lists what has only rejected (or
    withdrawn) documents. A withdrawn document counts, from when it was withdrawn, as a
    rejected one does: its item is missing again, with the reason.
    A multi-agency audit may come from any agency and counts for the agency that shares it
    for the partnership (the theme's `audits.shared_by`). A child's case records whose
    (agency, child) is in `arranged` (to be seen on site, where and when confirmed by then)
    count as provided. `extra` holds what the inspection asks beyond its theme (the lead's
    own items), counted the same way.
    """
    sharer = theme.audits.shared_by if theme.audits else None
    on_site = set(arranged)
    by_target: dict[tuple[str, str, str | None], list[DocumentFact]] = defaultdict(list)
    for fact in documents:
        owner = sharer if fact.item_number == AUDIT and sharer else fact.agency
        child = fact.child_id if carries_child(fact.item_number) else None
        by_target[(owner, fact.item_number, child)].append(fact)
    grouped: dict[tuple[str, str | None], list[ItemState]] = defaultdict(list)
    for need in [*requirements_of(theme, agencies, audited, shortlisted), *extra]:
        facts = by_target[(need.agency, need.item, need.child_id)]
        provided = need.item == CASE_RECORD and (need.agency, need.child_id) in on_site
        grouped[(need.agency, need.deadline)].append(_state(need, facts, as_of, provided))
    return [
        _deadline_state(agency, key, deadlines.get(key) if key else None, items, as_of)
        for (agency, key), items in grouped.items()
    ]


def _deadline_state(
    agency: str, key: str | None, due: datetime | None, items: list[ItemState], as_of: datetime
) -> DeadlineState:
    required = [i for i in items if not i.optional]
    missing = tuple(i.number for i in required if not i.is_accepted)
    return DeadlineState(
        agency=agency,
        deadline=key,
        due=due,
        items=tuple(items),
        required=len(required),
        accepted=sum(1 for i in required if i.is_accepted),
        missing=missing,
        overdue=missing if due is not None and as_of > due else (),
        rejected=tuple(
            i.number for i in items if (i.rejected or i.withdrawn) and not i.is_accepted
        ),
    )


def _state(
    need: Requirement, facts: list[DocumentFact], as_of: datetime, arranged: bool = False
) -> ItemState:
    accepted = rejected = withdrawn = pending = 0
    reasons: dict[ReasonCode, None] = {}
    for fact in facts:
        if fact.decided_at is not None and fact.decided_at <= as_of:
            if fact.status is DocumentStatus.accepted:
                accepted += 1
            elif fact.status is DocumentStatus.rejected:
                rejected += 1
                reasons.update(dict.fromkeys(fact.reasons))
            elif fact.status is DocumentStatus.withdrawn:
                withdrawn += 1
                reasons.update(dict.fromkeys(fact.reasons))
        elif fact.received_at <= as_of:
            pending += 1
    return ItemState(
        number=need.key,
        title=need.title,
        optional=need.optional,
        accepted=accepted,
        rejected=rejected,
        rejection_reasons=tuple(reasons),
        pending=pending,
        arranged=arranged,
        withdrawn=withdrawn,
    )


def completeness_markdown(title: str, states: list[DeadlineState], as_of: datetime) -> str:
    """The matrix as a markdown table (for the Prefect UI): one row per agency and deadline."""
    lines = [
        f"# Completeness: {title}",
        "",
        f"As of {as_of:%Y-%m-%d %H:%M %Z}",
        "",
        "| agency | deadline | due | required | accepted | missing | overdue | rejected |",
        "|---|---|---|--:|--:|---|---|---|",
    ]
    for s in states:
        due = f"{s.due:%a %d %b %H:%M}" if s.due else "-"
        lines.append(
            f"| {s.agency} | {s.deadline or '-'} | {due} | {s.required} | {s.accepted} | "
            f"{', '.join(s.missing) or '-'} | {', '.join(s.overdue) or '-'} | "
            f"{', '.join(s.rejected) or '-'} |"
        )
    return "\n".join(lines) + "\n"
