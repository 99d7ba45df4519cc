"""Completeness: per agency and deadline, what was asked, accepted, rejected, missing, overdue.

A pure function of the theme, the inspection's deadlines and its documents, at any "as of"
time: a document counts only once its verdict was reached by then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from portal.domain.checklist import ThemePolicy
from portal.domain.documents import DocumentStatus
from portal.domain.reasons import ReasonCode


class DocumentFact(BaseModel):
    """The little completeness needs to know about one document."""

    model_config = ConfigDict(frozen=True)

    agency: str
    item_number: str
    status: DocumentStatus
    reasons: tuple[ReasonCode, ...] = ()
    received_at: datetime
    decided_at: datetime | None = None


class ItemState(BaseModel):
    """One requested item of one agency, as of a time."""

    model_config = ConfigDict(frozen=True)

    number: str
    title: str
    optional: bool
    accepted: int
    rejected: int
    rejection_reasons: tuple[ReasonCode, ...]
    pending: int

    @property
    def is_accepted(self) -> bool:
        """At least one document for the item has been accepted."""
        return self.accepted > 0


class DeadlineState(BaseModel):
    """Everything one agency owes by one deadline."""

    model_config = ConfigDict(frozen=True)

    agency: str
    deadline: str | None
    due: datetime | None
    items: tuple[ItemState, ...]
    required: int
    accepted: int
    missing: tuple[str, ...]
    overdue: tuple[str, ...]
    rejected: tuple[str, ...]


def completeness(
    theme: ThemePolicy,
    agencies: Iterable[str],
    deadlines: dict[str, datetime],
    documents: Iterable[DocumentFact],
    as_of: datetime,
) -> list[DeadlineState]:
    """The completeness matrix of one inspection as of `as_of`, agencies and deadlines in order.

    Required means not optional; missing means required and not yet accepted; overdue means
    missing after its deadline has passed; rejected lists items whose every decided document
    was rejected. Items without a deadline are grouped under deadline None.
    """
    decided: dict[tuple[str, str], list[DocumentFact]] = defaultdict(list)
    for fact in documents:
        decided[(fact.agency, fact.item_number)].append(fact)
    states: list[DeadlineState] = []
    in_scope = set(agencies)
    for agency in theme.agencies:
        if agency.code not in in_scope:
            continue
        by_deadline: dict[str | None, list[ItemState]] = defaultdict(list)
        for item in agency.items:
            facts = decided[(agency.code, item.number)]
            by_deadline[item.deadline].append(
                _item_state(item.number, item.title, item.optional, facts, as_of)
            )
        for key, items in by_deadline.items():
            due = deadlines.get(key) if key else None
            required = [i for i in items if not i.optional]
            missing = tuple(i.number for i in required if not i.is_accepted)
            states.append(
                DeadlineState(
                    agency=agency.code,
                    deadline=key,
                    due=due,
                    items=tuple(items),
                    required=len(required),
                    accepted=sum(1 for i in required if i.is_accepted),
                    missing=missing,
                    overdue=missing if due is not None and as_of > due else (),
                    rejected=tuple(i.number for i in items if i.rejected and not i.is_accepted),
                )
            )
    return states


def _item_state(
    number: str, title: str, optional: bool, facts: list[DocumentFact], as_of: datetime
) -> ItemState:
    known = [f for f in facts if f.decided_at is not None and f.decided_at <= as_of]
    accepted = [f for f in known if f.status is DocumentStatus.accepted]
    rejected = [f for f in known if f.status is DocumentStatus.rejected]
    reasons = tuple(dict.fromkeys(r for f in rejected for r in f.reasons))
    return ItemState(
        number=number,
        title=title,
        optional=optional,
        accepted=len(accepted),
        rejected=len(rejected),
        rejection_reasons=reasons,
        pending=sum(1 for f in facts if f.received_at <= as_of) - len(known),
    )
