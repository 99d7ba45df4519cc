"""What an upload is for, and whether the inspection asked for it.

An upload names its target in the `item` field: an Annex A number ("1.4"), a child-level
list ("list:<key>"), or a selected child's case record or audit ("case_record", "audit",
with the child's unique ID).
"""

from __future__ import annotations

import calendar
from datetime import date

from pydantic import BaseModel, ConfigDict

from portal.domain.checklist import (
    ChildList,
    ChildSet,
    LookBack,
    ThemePolicy,
    area_for_item,
    decide_scope,
)
from portal.domain.documents import Area, Outcome, Verdict
from portal.domain.reasons import ReasonCode, WarningCode

CASE_RECORD = "case_record"
AGENCY_AUDIT = "agency_audit"
"""A single-agency audit of one audited child (`audit` is the partnership's multi-agency one)."""
CHILD_ITEMS = frozenset({"case_record", "audit", "agency_audit"})
"""The upload targets that are about one audited child, and carry its id."""
REQUEST_PREFIX = "request:"
"""An upload for one of the theme's other requests ("request:<key>"); a per-child request
carries the child's id."""


def carries_child(item: str) -> bool:
    """Whether uploads for `item` may be about one child (and count per child)."""
    return item in CHILD_ITEMS or item.startswith(REQUEST_PREFIX)


AUDIT = "audit"
LIST_PREFIX = "list:"
EXTRA_PREFIX = "extra:"
"""An upload for one of the inspection's own items, which the lead added ("extra:<id>",
portal/domain/extra_items.py)."""
TARGET_PATTERN = (
    r"^([0-9]+(\.[0-9]+)*|case_record|audit|agency_audit|(list|request):[a-z][a-z0-9_]*"
    r"|extra:[a-f0-9]{12})$"
)


class UploadFacts(BaseModel):
    """Everything the scope checks need to know about one upload, gathered beforehand."""

    model_config = ConfigDict(frozen=True)

    agency: str
    item: str
    child_id: str | None = None
    document_date: date | None = None
    audited_children: frozenset[str] = frozenset()
    shortlisted_children: frozenset[str] = frozenset()
    notification: date | None = None
    sent_earlier_for_slot: int = 0
    """Uploads for the same slot received before this one and not rejected."""
    duplicate: bool = False
    """An upload received before this one for the same item, not rejected, had its bytes."""
    extra_agency: str | None = None
    """For an "extra:<id>" upload: the agency the inspection's item of that id is asked of
    (None if the inspection has no such item)."""


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day if it is shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def lookback_of(theme: ThemePolicy, item: str) -> LookBack | None:
    """The look-back of an Annex A item, if it has one."""
    found = theme.find_item(item)
    return found[1].lookback if found else None


def needs_document_date(theme: ThemePolicy, item: str) -> bool:
    """Whether an upload for `item` must say when its document is dated."""
    lookback = lookback_of(theme, item)
    return lookback is not None and lookback.months is not None


def decide_upload(theme: ThemePolicy, facts: UploadFacts) -> Verdict:
    """Accept, warn or reject an upload against the theme and the inspection's selections.

    An inspection's own item ("extra:<id>") is for the one agency it is asked of.
    Rejects: unknown_item, not_for_agency, child_id_required, child_not_selected,
    document_date_required, outside_lookback. Warns: more_than_requested, duplicate.
    """
    if facts.item in CHILD_ITEMS:
        verdict = _decide_child_upload(theme, facts)
    elif facts.item.startswith(LIST_PREFIX):
        verdict = _decide_list_upload(theme, facts)
    elif facts.item.startswith(REQUEST_PREFIX):
        verdict = _decide_request_upload(theme, facts)
    elif facts.item.startswith(EXTRA_PREFIX):
        verdict = _decide_extra_upload(facts)
    else:
        verdict = _decide_annex_upload(theme, facts)
    if verdict.outcome is Outcome.proceed and facts.duplicate:
        return Verdict.proceed(*verdict.warnings, WarningCode.duplicate, detail=verdict.detail)
    return verdict


def _decide_child_upload(theme: ThemePolicy, facts: UploadFacts) -> Verdict:
    if facts.item == CASE_RECORD and not any(r.agency == facts.agency for r in theme.case_records):
        return Verdict.reject(
            ReasonCode.not_for_agency, detail=f"{theme.key} asks {facts.agency} for no case records"
        )
    if facts.item == AUDIT and theme.audits is None:
        return Verdict.reject(ReasonCode.unknown_item, detail=f"{theme.key} asks for no audits")
    if facts.item == AGENCY_AUDIT and theme.single_agency_audits(facts.agency) is None:
        return Verdict.reject(
            ReasonCode.not_for_agency,
            detail=f"{theme.key} asks {facts.agency} for no single-agency audits",
        )
    if not facts.child_id:
        return Verdict.reject(ReasonCode.child_id_required)
    if facts.child_id not in facts.audited_children:
        return Verdict.reject(
            ReasonCode.child_not_selected,
            detail=f"child {facts.child_id} is not selected for audit",
        )
    return Verdict.proceed()


def _decide_request_upload(theme: ThemePolicy, facts: UploadFacts) -> Verdict:
    request = theme.request(facts.item.removeprefix(REQUEST_PREFIX))
    if request is None:
        return Verdict.reject(ReasonCode.unknown_item, detail=f"{theme.key} has no {facts.item}")
    if facts.agency not in request.agencies:
        return Verdict.reject(
            ReasonCode.not_for_agency,
            detail=f"{facts.item} is asked of {', '.join(request.agencies)}",
        )
    if request.per_child is None:
        return Verdict.proceed()
    if not facts.child_id:
        return Verdict.reject(ReasonCode.child_id_required)
    chosen = (
        facts.shortlisted_children
        if request.per_child is ChildSet.shortlisted
        else facts.audited_children
    )
    if facts.child_id not in chosen:
        return Verdict.reject(
            ReasonCode.child_not_selected,
            detail=f"child {facts.child_id} is not {request.per_child.value}",
        )
    return Verdict.proceed()


def _decide_extra_upload(facts: UploadFacts) -> Verdict:
    if facts.extra_agency is None:
        return Verdict.reject(
            ReasonCode.unknown_item, detail=f"this inspection has no item {facts.item}"
        )
    if facts.extra_agency != facts.agency:
        return Verdict.reject(
            ReasonCode.not_for_agency, detail=f"{facts.item} is asked of {facts.extra_agency}"
        )
    return Verdict.proceed()


def _decide_list_upload(theme: ThemePolicy, facts: UploadFacts) -> Verdict:
    key = facts.item.removeprefix(LIST_PREFIX)
    definition = next((c for c in theme.child_lists if c.key == key), None)
    if definition is None:
        return Verdict.reject(ReasonCode.unknown_item, detail=f"{theme.key} has no list {key}")
    if definition.agency != facts.agency:
        return Verdict.reject(
            ReasonCode.not_for_agency, detail=f"list {key} is asked of {definition.agency}"
        )
    return Verdict.proceed()


def _decide_annex_upload(theme: ThemePolicy, facts: UploadFacts) -> Verdict:
    scope = decide_scope(theme, facts.agency, facts.item)
    lookback = lookback_of(theme, facts.item)
    if scope.outcome is not Outcome.proceed or lookback is None:
        return scope
    if lookback.months is not None:
        if facts.document_date is None:
            return Verdict.reject(
                ReasonCode.document_date_required, detail=f"item {facts.item}: {lookback.quote}"
            )
        if facts.notification is not None:
            earliest = months_before(facts.notification, lookback.months)
            if facts.document_date < earliest:
                return Verdict.reject(
                    ReasonCode.outside_lookback,
                    detail=f"dated {facts.document_date}; item {facts.item} asks for "
                    f"documents {lookback.quote} (from {earliest})",
                )
    if lookback.most_recent is not None and facts.sent_earlier_for_slot >= lookback.most_recent:
        return Verdict.proceed(
            WarningCode.more_than_requested, detail=f"item {facts.item}: {lookback.quote}"
        )
    return Verdict.proceed()


def child_list_of(theme: ThemePolicy, item: str) -> ChildList | None:
    """The child-level list an upload target names, if it names one."""
    if not item.startswith(LIST_PREFIX):
        return None
    key = item.removeprefix(LIST_PREFIX)
    return next((c for c in theme.child_lists if c.key == key), None)


def decide_list_file(file_type: str | None, table_types: frozenset[str]) -> Verdict:
    """Child-level lists must be spreadsheets the portal can check row by row."""
    if file_type in table_types:
        return Verdict.proceed()
    return Verdict.reject(
        ReasonCode.file_type_not_allowed,
        detail="child-level lists must be CSV or Excel (.xlsx) files",
    )


def area_for_upload(
    theme: ThemePolicy, agency: str, item: str, health_information: bool = False
) -> Area:
    """Health records go to the on-site area: whatever its uploader marked as holding health
    information, Annex A items so marked, and the case records and audits the theme counts
    as health records (a health agency's, unless the theme quotes guidance saying
    otherwise). Everything else goes to the clean area."""
    if health_information:
        return Area.onsite
    if item == CASE_RECORD:
        return Area.onsite if theme.case_records_are_health_records(agency) else Area.clean
    if item in (AUDIT, AGENCY_AUDIT):
        return Area.onsite if theme.audits_are_health_records(agency) else Area.clean
    return area_for_item(theme, item)


def target_title(theme: ThemePolicy, item: str, child_id: str | None) -> str:
    """What a document was sent for: its Annex A item's title, its list's title, or the
    child's case record or audit (the item itself if the theme does not know it)."""
    found = theme.find_item(item)
    if found is not None:
        return found[1].title
    if item.startswith(LIST_PREFIX):
        key = item.removeprefix(LIST_PREFIX)
        listed = next((c for c in theme.child_lists if c.key == key), None)
        return listed.title if listed else "A list of children"
    if item == CASE_RECORD:
        return f"Case records of child {child_id}"
    if item == AUDIT:
        return f"Multi-agency audit of child {child_id}"
    if item == AGENCY_AUDIT:
        return f"Single-agency audit of child {child_id}"
    request = theme.request(item.removeprefix(REQUEST_PREFIX))
    if item.startswith(REQUEST_PREFIX) and request is not None:
        return f"{request.title}: child {child_id}" if child_id else request.title
    return item
