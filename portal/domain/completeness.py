"""Completeness: per agency and deadline, what was asked, accepted, rejected, missing, overdue.

A pure function of the theme, the inspection's deadlines, its audit selection and its
documents, at any "as of" time: a document counts only once its verdict was reached by then.
What is asked: every Annex A item, every child-level list, each agency's case records for
each audited child, and the partnership's audit of each audited child. Case records to be
seen on site count as provided once the agency has confirmed where and when.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from portal.domain.checklist import ThemePolicy
from portal.domain.documents import DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.domain.scope import AUDIT, CASE_RECORD, LIST_PREFIX

PARTNERSHIP = "local_partnership"


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
    pending: int
    arranged: bool = False

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
    theme: ThemePolicy, agencies: Iterable[str], audited: Iterable[str]
) -> list[Requirement]:
    """Everything the inspection asks, agency by agency, in the guidance's order."""
    in_scope = set(agencies)
    children = list(audited)
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
    if theme.audits is not None:
        asked += [
            Requirement(
                agency=PARTNERSHIP,
                key=f"{AUDIT}:{child}",
                title=f"Audit of child {child}",
                deadline=theme.audits.deadline,
                item=AUDIT,
                child_id=child,
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
    arranged: Iterable[tuple[str, str]] = (),
) -> list[DeadlineState]:
    """The completeness matrix of one inspection as of `as_of`, by agency then deadline.

    Required means not optional; missing means required and not yet accepted; overdue means
    missing after its deadline has passed; rejected lists what has only rejected documents.
    Audits may come from any agency and are owed by the local partnership. A child's case
    records whose (agency, child) is in `arranged` (to be seen on site, where and when
    confirmed by then) count as provided.
    """
    on_site = set(arranged)
    by_target: dict[tuple[str, str, str | None], list[DocumentFact]] = defaultdict(list)
    for fact in documents:
        owner = PARTNERSHIP if fact.item_number == AUDIT else fact.agency
        child = fact.child_id if fact.item_number in (AUDIT, CASE_RECORD) else None
        by_target[(owner, fact.item_number, child)].append(fact)
    grouped: dict[tuple[str, str | None], list[ItemState]] = defaultdict(list)
    for need in requirements_of(theme, agencies, audited):
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
        rejected=tuple(i.number for i in items if i.rejected and not i.is_accepted),
    )


def _state(
    need: Requirement, facts: list[DocumentFact], as_of: datetime, arranged: bool = False
) -> ItemState:
    accepted = rejected = pending = 0
    reasons: dict[ReasonCode, None] = {}
    for fact in facts:
        if fact.decided_at is not None and fact.decided_at <= as_of:
            if fact.status is DocumentStatus.accepted:
                accepted += 1
            elif fact.status is DocumentStatus.rejected:
                rejected += 1
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
