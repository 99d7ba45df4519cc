"""Retention: which records go when, which are held back, and how names are reduced.

The rules are data (policies/retention.yaml, loaded into RetentionPolicy); this module only
decides. Every rule counts working days after an event of the inspection's timeline, so a
bank holiday never shortens the time a local partnership has to raise a complaint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.errors import PortalError
from portal.domain.moments import UtcDatetime
from portal.domain.scope import AGENCY_AUDIT, AUDIT, CASE_RECORD, LIST_PREFIX
from portal.domain.timeline import LONDON, WorkingCalendar

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RetentionEvent(StrEnum):
    """The moments a retention rule counts from."""

    fieldwork_end = "fieldwork_end"
    letter_published = "letter_published"
    decided = "decided"
    """When the portal accepted, rejected or withdrew the document (per document, not per
    inspection)."""
    withdrawn = "withdrawn"
    """When the lead inspector withdrew the inspection (no fieldwork will follow)."""


INSPECTION_EVENTS = (
    RetentionEvent.fieldwork_end,
    RetentionEvent.letter_published,
    RetentionEvent.withdrawn,
)


class RetentionClass(StrEnum):
    """What kind of record something is, for retention."""

    child_list = "child_list"
    case_record = "case_record"
    health_record = "health_record"
    annex_a_information = "annex_a_information"
    audit = "audit"
    rejected_upload = "rejected_upload"
    mail_outbox = "mail_outbox"
    audit_log = "audit_log"


class RetentionRule(BaseModel):
    """N working days after an event, with the guidance it rests on and why."""

    model_config = _FROZEN

    after: RetentionEvent
    working_days: int = Field(ge=0, le=2600)
    why: str = Field(min_length=1, description="In the records team's words.")
    quote: str = Field(default="", description="The guidance's own words, where it has any.")
    source: str = Field(default="", description="Which document and paragraph.")

    def describe(self) -> str:
        """E.g. '10 working days after fieldwork_end'."""
        return f"{self.working_days} working days after {self.after.value}"


class NamesRule(RetentionRule):
    """When names are reduced to initials."""

    after: RetentionEvent = RetentionEvent.fieldwork_end
    working_days: int = Field(default=0, ge=0, le=2600)

    @model_validator(mode="after")
    def _inspection_event(self) -> NamesRule:
        if self.after not in INSPECTION_EVENTS:
            raise ValueError("names are reduced after an event of the inspection, not 'decided'")
        return self


class EventEstimate(BaseModel):
    """How to place an event the inspection has not recorded yet, and whether to act on it."""

    model_config = _FROZEN

    event: RetentionEvent
    working_days_after: int = Field(ge=0, le=260)
    from_event: RetentionEvent
    quote: str = ""
    act_on_estimate: bool = Field(
        default=False,
        description="False: records counted from an estimated event are held back until "
        "the event is recorded; the estimate is only shown.",
    )


class RetentionPolicy(BaseModel):
    """Every retention class's rule, the names rule, and how unrecorded events are placed."""

    model_config = _FROZEN

    classes: dict[RetentionClass, RetentionRule]
    names: NamesRule
    estimates: tuple[EventEstimate, ...] = ()
    withdrawn_inspection: RetentionRule | None = Field(
        default=None,
        description="For a withdrawn inspection, this rule replaces every class's rule.",
    )

    @model_validator(mode="after")
    def _every_class_has_a_rule(self) -> RetentionPolicy:
        missing = sorted(c.value for c in RetentionClass if c not in self.classes)
        if missing:
            raise ValueError(f"retention classes without a rule: {missing}")
        per_document = [
            c.value
            for c, rule in self.classes.items()
            if rule.after is RetentionEvent.decided
            and c in (RetentionClass.mail_outbox, RetentionClass.audit_log)
        ]
        if per_document:
            raise ValueError(f"'decided' applies to documents only, not {per_document}")
        return self

    def rule_for(self, retention_class: RetentionClass, withdrawn: bool) -> RetentionRule:
        """The rule that applies to a class (the withdrawn rule, if the inspection was)."""
        if withdrawn and self.withdrawn_inspection is not None:
            return self.withdrawn_inspection
        return self.classes[retention_class]


class LegalHold(BaseModel):
    """A hold on a whole inspection (document_id None) or on one document."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    inspection_id: str
    document_id: str | None = None
    reason: str
    placed_by: str
    placed_at: UtcDatetime
    lifted_by: str | None = None
    lifted_at: UtcDatetime | None = None
    lift_reason: str = ""

    @property
    def active(self) -> bool:
        """Until lifted."""
        return self.lifted_at is None

    def covers(self, inspection_id: str, document_id: str | None) -> bool:
        """Whether this hold (if active) keeps the given record."""
        return (
            self.active
            and self.inspection_id == inspection_id
            and (self.document_id is None or self.document_id == document_id)
        )


NAME_MAX = 200
"""The longest name the register takes; both doors hold a request to these limits."""
NAME_REFERENCE_MAX = 64
"""The longest reference (the child's unique ID, or a case reference)."""
NAME_NOTE_MAX = 2000


class NameEntry(BaseModel):
    """One entry of an inspection's name register (initials only, once reduced)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    inspection_id: str
    name: str
    reference: str
    note: str
    recorded_by: str
    recorded_at: UtcDatetime
    reduced_at: UtcDatetime | None = None


class RetentionEntry(BaseModel):
    """One line of a deletion record: what happened to one record, and the proof."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    inspection_id: str | None
    record_kind: str
    record_id: str | None
    action: str
    retention_class: str | None = None
    rule: str = ""
    due: date | None = None
    reason: str = ""
    sha256: str | None = None
    size_bytes: int | None = None
    count: int | None = None
    hold_ids: tuple[str, ...] = ()
    proof: dict[str, Any] = {}
    resumed_from: str | None = None


class RetentionRun(BaseModel):
    """A retention run and its record."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    dry_run: bool
    as_of: UtcDatetime
    started_at: UtcDatetime
    finished_at: UtcDatetime | None
    status: str
    started_by: str
    policy_sha256: str
    completed_by: str | None
    completes: tuple[str, ...]
    summary: dict[str, Any]
    entries: tuple[RetentionEntry, ...] = ()

    def seen_from(self, inspection_id: str | None) -> RetentionRun:
        """The run as someone keeping the records of `inspection_id` sees it: only that
        inspection's entries (every entry when `inspection_id` is None, for all)."""
        if inspection_id is None:
            return self
        entries = tuple(e for e in self.entries if e.inspection_id == inspection_id)
        return self.model_copy(update={"entries": entries})


class RunInProgress(PortalError):
    """Another deleting retention run is still alive."""


class ClassSchedule(BaseModel):
    """When one class of an inspection's records is due to go, and by which rule."""

    model_config = ConfigDict(frozen=True)

    retention_class: RetentionClass
    rule: str
    why: str
    due: date | None
    waiting_for: str = ""
    """Why it cannot be acted on yet, if so."""


class RetentionSchedule(BaseModel):
    """An inspection's retention at a glance: its events, when each class of its records
    goes, when names are reduced, and how many holds keep records back."""

    model_config = ConfigDict(frozen=True)

    inspection_id: str
    recorded: dict[RetentionEvent, date]
    estimated: dict[RetentionEvent, date]
    classes: tuple[ClassSchedule, ...]
    names_rule: str
    names_due: date | None
    names_reduced_at: datetime | None
    active_holds: int


class InspectionEvents(BaseModel):
    """When an inspection's retention events happened (or are estimated to happen)."""

    model_config = ConfigDict(frozen=True)

    inspection_id: str
    recorded: dict[RetentionEvent, date] = Field(default_factory=dict)
    estimated: dict[RetentionEvent, date] = Field(default_factory=dict)
    withdrawn: bool = False


def fieldwork_week_end(fieldwork_start: date, calendar: WorkingCalendar) -> date:
    """The last working day of the fieldwork week (its Friday, or earlier for a bank holiday).

    The guidance asks that evidence records are complete "by the end of the fieldwork week".
    """
    day = fieldwork_start + timedelta(days=4 - fieldwork_start.weekday())
    while not calendar.is_working_day(day) and day > fieldwork_start:
        day -= timedelta(days=1)
    return day


def inspection_events(
    inspection_id: str,
    recorded: dict[RetentionEvent, date],
    fieldwork_start: date | None,
    estimates: Sequence[EventEstimate],
    calendar: WorkingCalendar,
    withdrawn: bool = False,
) -> InspectionEvents:
    """The recorded events, plus estimates for those not recorded.

    Fieldwork ends, unless recorded, on the last working day of the fieldwork week; the
    other events are estimated from the policy's `estimates`, in order.
    """
    known = dict(recorded)
    estimated: dict[RetentionEvent, date] = {}
    if RetentionEvent.fieldwork_end not in known and fieldwork_start is not None:
        known[RetentionEvent.fieldwork_end] = fieldwork_week_end(fieldwork_start, calendar)
    for estimate in estimates:
        if estimate.event in known or estimate.event in estimated:
            continue
        base = known.get(estimate.from_event, estimated.get(estimate.from_event))
        if base is not None:
            estimated[estimate.event] = calendar.add_working_days(base, estimate.working_days_after)
    return InspectionEvents(
        inspection_id=inspection_id, recorded=known, estimated=estimated, withdrawn=withdrawn
    )


class Action(StrEnum):
    """What a retention run does with one record."""

    delete = "delete"
    hold = "hold"
    keep = "keep"


class RetentionDecision(BaseModel):
    """One record's fate in a run, with the class and rule that decided it."""

    model_config = ConfigDict(frozen=True)

    action: Action
    retention_class: RetentionClass | None
    rule: str = ""
    due: date | None = None
    reason: str = ""
    hold_ids: tuple[str, ...] = ()


def class_of_document(document: Document) -> RetentionClass | None:
    """The retention class of a document; None while it is still being processed.

    Rejected documents (including infected ones, which never leave quarantine), failed
    ones and withdrawn ones (accepted, then found infected: no longer evidence, and what is
    kept of them is under a legal hold) are `rejected_upload`; accepted ones are classed by
    what they were uploaded for, and anything in the on-site area is a health record.
    """
    if document.status in (
        DocumentStatus.rejected,
        DocumentStatus.failed,
        DocumentStatus.withdrawn,
    ):
        return RetentionClass.rejected_upload
    if document.status is not DocumentStatus.accepted:
        return None
    if document.area is Area.onsite:
        return RetentionClass.health_record
    if document.item_number.startswith(LIST_PREFIX):
        return RetentionClass.child_list
    if document.item_number == CASE_RECORD:
        return RetentionClass.case_record
    if document.item_number in (AUDIT, AGENCY_AUDIT):
        return RetentionClass.audit
    return RetentionClass.annex_a_information


def due_date(
    rule: RetentionRule,
    events: InspectionEvents,
    calendar: WorkingCalendar,
    estimates: Sequence[EventEstimate],
    decided_at: datetime | None = None,
) -> tuple[date | None, str]:
    """The day a rule makes a record due, and '' or why it cannot be acted on yet.

    An event that is only estimated yields its estimated due day and, unless the policy
    acts on that estimate, the reason to wait for it to be recorded.
    """
    if rule.after is RetentionEvent.decided:
        if decided_at is None:
            return None, "the document has no decision time"
        return calendar.add_working_days(
            decided_at.astimezone(LONDON).date(), rule.working_days
        ), ""
    if rule.after in events.recorded:
        return calendar.add_working_days(events.recorded[rule.after], rule.working_days), ""
    if rule.after in events.estimated:
        due = calendar.add_working_days(events.estimated[rule.after], rule.working_days)
        acts = any(e.event is rule.after and e.act_on_estimate for e in estimates)
        if acts:
            return due, ""
        return due, f"{rule.after.value} is not recorded yet (estimated {due_day_text(due)})"
    return None, f"{rule.after.value} is not recorded and cannot be estimated"


def due_day_text(day: date) -> str:
    """E.g. 'Friday 14 May 2027'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def active_holds(
    holds: Iterable[LegalHold], inspection_id: str, document_id: str | None
) -> tuple[str, ...]:
    """Ids of the active holds that keep this record."""
    return tuple(h.id for h in holds if h.covers(inspection_id, document_id))


def decide_record(
    retention_class: RetentionClass | None,
    policy: RetentionPolicy,
    events: InspectionEvents,
    holds: Sequence[LegalHold],
    calendar: WorkingCalendar,
    today: date,
    *,
    document_id: str | None = None,
    decided_at: datetime | None = None,
) -> RetentionDecision:
    """Delete, hold or keep one record (a document, or an inspection's outbox or audit log).

    Guarantees: a record under an active hold is never `delete`; a record still being
    processed (class None) is kept; a record is `delete` only on or after its due day.
    """
    if retention_class is None:
        return RetentionDecision(
            action=Action.keep, retention_class=None, reason="still being processed"
        )
    rule = policy.rule_for(retention_class, events.withdrawn)
    due, waiting = due_date(rule, events, calendar, policy.estimates, decided_at)
    hold_ids = active_holds(holds, events.inspection_id, document_id)
    return _decision(retention_class, rule, due, waiting, hold_ids, today)


def _decision(
    retention_class: RetentionClass | None,
    rule: RetentionRule,
    due: date | None,
    waiting: str,
    hold_ids: tuple[str, ...],
    today: date,
) -> RetentionDecision:
    """Keep until due (and not waiting for an event), then hold if held, else delete."""
    base = {"retention_class": retention_class, "rule": rule.describe(), "due": due}
    if due is None or due > today or waiting:
        reason = waiting or (f"due {due_day_text(due)}" if due else "no due day")
        return RetentionDecision(action=Action.keep, reason=reason, **base)
    if hold_ids:
        return RetentionDecision(
            action=Action.hold, reason="under legal hold", hold_ids=hold_ids, **base
        )
    return RetentionDecision(action=Action.delete, reason=f"due {due_day_text(due)}", **base)


def names_due(
    policy: RetentionPolicy,
    events: InspectionEvents,
    holds: Sequence[LegalHold],
    calendar: WorkingCalendar,
    today: date,
) -> RetentionDecision:
    """Whether an inspection's names are reduced to initials now.

    A hold on the whole inspection holds its names too; a hold on one document does not.
    """
    due, waiting = due_date(policy.names, events, calendar, policy.estimates)
    hold_ids = active_holds(holds, events.inspection_id, None)
    return _decision(None, policy.names, due, waiting, hold_ids, today)


_NAME_PART = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def initials_of(name: str) -> str:
    """'Jane Mary Smith' -> 'J.M.S.'; a name with no letters gives '?'."""
    parts = _NAME_PART.findall(name)
    return "".join(f"{p[0].upper()}." for p in parts) or "?"


def name_parts(name: str) -> tuple[str, ...]:
    """The words of a name long enough to identify someone (two letters or more)."""
    return tuple(p for p in _NAME_PART.findall(name) if len(p) >= 2)


def reduce_names(text: str, names: Sequence[str]) -> str:
    """`text` with every listed name, and every word of one, replaced by its initial(s).

    Whole names go first ('Jane Smith' -> 'J.S.'), then the remaining words ('Smith' ->
    'S.'); matching ignores case and respects word boundaries, so 'Anne' stays in 'Annex'.
    """
    for name in sorted(names, key=len, reverse=True):
        words = name_parts(name)
        if not words:
            continue
        whole = r"\s+".join(re.escape(w) for w in words)
        text = re.sub(rf"(?<!\w){whole}(?!\w)", initials_of(name), text, flags=re.IGNORECASE)
    for word in sorted({w for n in names for w in name_parts(n)}, key=len, reverse=True):
        text = re.sub(
            rf"(?<!\w){re.escape(word)}(?!\w)", f"{word[0].upper()}.", text, flags=re.IGNORECASE
        )
    return text


def neutral_filename(document_id: str, original: str) -> str:
    """A filename that says nothing about anyone: the document id and the original's
    extension (if it is a plain one)."""
    stem, dot, extension = original.rpartition(".")
    if dot and stem and re.fullmatch(r"[A-Za-z0-9]{1,8}", extension):
        return f"{document_id}.{extension.lower()}"
    return document_id
