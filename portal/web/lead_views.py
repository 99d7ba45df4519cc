"""What the lead inspector's pages show, worked out from the domain: what is missing before
each deadline, the timeline with its moves, the case selection, and the words that say how
to put a form right. No I/O and no HTML here."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from pydantic import ValidationError

from portal.domain.after_fieldwork import AfterFieldwork, AfterFieldworkDeadline, LetterStep
from portal.domain.checklist import CaseSelection, ThemePolicy
from portal.domain.completeness import DeadlineState, ItemState
from portal.domain.extra_items import TITLE_MAX, ExtraItemRequest
from portal.domain.inspection_days import say_day
from portal.domain.schedule import DeadlineMove, Schedule, ScheduledDeadline, say_moment
from portal.domain.seen_on_site import arrangement_words
from portal.domain.selection import CHILD_ID_PATTERN, CaseRecordSlot, SelectionProblem, Stage
from portal.domain.timeline import LONDON
from portal.web import views

_CHILD_ID = re.compile(CHILD_ID_PATTERN)
_DIGITS = re.compile(r"^[0-9]{1,4}$")


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _and(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _agency_order(theme: ThemePolicy) -> dict[str, int]:
    """Agencies in the order the theme's guidance lists them."""
    return {agency.code: position for position, agency in enumerate(theme.agencies)}


def _deadline_heading(due: datetime | None, now: datetime) -> str:
    return f"Due by {views.deadline_words(due, now)}" if due else "No deadline set"


def drill_down_url(inspection_id: str, agency: str, deadline: str | None) -> str:
    """The completeness matrix's page of one agency's items for one deadline."""
    return f"/inspections/{inspection_id}/completeness/{agency}/{deadline or views.UNDATED}"


# -- alerts: what is missing before each deadline ----------------------------------------


@dataclass(frozen=True)
class MissingItem:
    label: str
    tag: views.Tag


@dataclass(frozen=True)
class AgencyShortfall:
    """What one agency has still to send for one deadline, in words."""

    agency: str
    name: str
    sentence: str
    notes: tuple[str, ...]
    missing: tuple[MissingItem, ...]
    overdue: bool
    href: str


@dataclass(frozen=True)
class DeadlineAlert:
    """One deadline: who still owes what by it."""

    deadline: str
    heading: str
    quote: str
    passed: bool
    shortfalls: tuple[AgencyShortfall, ...]
    complete: tuple[str, ...]

    @property
    def missing(self) -> int:
        return sum(len(s.missing) for s in self.shortfalls)


@dataclass(frozen=True)
class AlertSummary:
    deadlines: tuple[DeadlineAlert, ...]
    missing: int
    overdue: int

    @property
    def sentence(self) -> str:
        if not self.missing:
            return "Every agency has sent everything asked of it so far."
        words = f"{_plural(self.missing, 'required item')} {'is' if self.missing == 1 else 'are'}"
        words += " still missing"
        if self.overdue:
            words += f", {self.overdue} of them overdue"
        return words + "."


def _shortfall(
    inspection_id: str, state: DeadlineState, theme: ThemePolicy, now: datetime
) -> AgencyShortfall:
    name = views.agency_name(theme, state.agency)
    by_number: dict[str, ItemState] = {i.number: i for i in state.items}
    missing = tuple(
        MissingItem(views.item_label(by_number[n]), views.item_tag(by_number[n]))
        for n in state.missing
        if n in by_number
    )
    count = len(state.missing)
    if state.overdue and state.due is not None:
        sentence = (
            f"{_plural(count, 'item')} {'was' if count == 1 else 'were'} due by "
            f"{views.deadline_words(state.due, now)} and {'has' if count == 1 else 'have'} "
            "not been sent."
        )
    else:
        sentence = f"{count} of {_plural(state.required, 'required item')} still to send."
    rejected = sum(1 for m in missing if m.tag is views.REJECTED)
    checking = sum(1 for m in missing if m.tag is views.PROCESSING)
    notes = []
    if rejected:
        notes.append(
            f"{_plural(rejected, 'item was', 'items were')} sent but not accepted: the agency "
            "has been told why."
        )
    if checking:
        notes.append(f"{_plural(checking, 'item is', 'items are')} being checked now.")
    return AgencyShortfall(
        agency=state.agency,
        name=name,
        sentence=sentence,
        notes=tuple(notes),
        missing=missing,
        overdue=bool(state.overdue),
        href=drill_down_url(inspection_id, state.agency, state.deadline),
    )


def deadline_alerts(
    inspection_id: str,
    states: list[DeadlineState],
    schedule: Schedule | None,
    theme: ThemePolicy,
    now: datetime,
) -> AlertSummary:
    """Deadline by deadline in due order: each agency still owing required items (overdue
    ones first), and the agencies that have sent everything."""
    quotes = {d.key: d.quote for d in schedule.deadlines} if schedule else {}
    order = _agency_order(theme)
    grouped: dict[str | None, list[DeadlineState]] = {}
    for state in sorted(
        states, key=lambda s: (s.due is None, s.due or datetime.max.replace(tzinfo=LONDON))
    ):
        grouped.setdefault(state.deadline, []).append(state)
    alerts = []
    for deadline, group in grouped.items():
        group.sort(key=lambda s: (order.get(s.agency, len(order)), s.agency))
        due = group[0].due
        alerts.append(
            DeadlineAlert(
                deadline=deadline or views.UNDATED,
                heading=_deadline_heading(due, now),
                quote=quotes.get(deadline or "", ""),
                passed=due is not None and now > due,
                shortfalls=tuple(
                    _shortfall(inspection_id, s, theme, now) for s in group if s.missing
                ),
                complete=tuple(views.agency_name(theme, s.agency) for s in group if not s.missing),
            )
        )
    return AlertSummary(
        deadlines=tuple(alerts),
        missing=sum(len(s.missing) for s in states),
        overdue=sum(len(s.overdue) for s in states),
    )


@dataclass(frozen=True)
class MessageView:
    """One message the chase recorded: a reminder, an overdue notice or an alert."""

    kind: str
    to: str
    recipients: tuple[str, ...]
    subject: str
    status: views.Tag
    when: str


_KINDS = {
    "reminder": "Reminder",
    "overdue_notice": "Overdue notice",
    "lead_alert": "Alert to the lead inspector",
    "rejection_notice": "File not accepted",
    "records_alert": "Alert to the records officers",
}
_STATUSES = {
    "pending": views.Tag("Waiting to send", "grey"),
    "sending": views.Tag("Sending", "yellow"),
    "sent": views.Tag("Sent", "green"),
}


def message_view(
    theme: ThemePolicy,
    *,
    kind: str,
    agency: str | None,
    recipients: Sequence[str],
    subject: str,
    status: str,
    created_at: datetime,
    sent_at: datetime | None,
) -> MessageView:
    """A row of the outbox (GET /v1/inspections/{id}/alerts) in words."""
    return MessageView(
        kind=_KINDS.get(kind, kind.replace("_", " ").capitalize()),
        to=views.agency_name(theme, agency) if agency else "The lead inspector",
        recipients=tuple(recipients),
        subject=subject,
        status=_STATUSES.get(status, views.Tag(status.capitalize(), "grey")),
        when=views.when_words(sent_at or created_at),
    )


# -- the timeline -------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """Who moved a deadline, when, why, and from when."""

    was: str
    by: str
    at: str
    reason: str


@dataclass(frozen=True)
class TimelineEntry:
    key: str
    heading: str
    quote: str
    passed: bool
    due: tuple[str, ...]
    move: Move | None
    shifted: str = ""


def actor_words(actor: str, me: str) -> str:
    """Who did something, from the audit trail's actor: 'you', 'the lead inspector'."""
    if actor == me:
        return "you"
    role = actor.partition(":")[0]
    return {
        "lead_inspector": "the lead inspector",
        "admin": "an administrator",
    }.get(role, "someone else")


@dataclass(frozen=True)
class MoveRecord:
    """A moved deadline as the repository records it."""

    deadline: str
    set_by: str
    set_at: datetime
    reason: str


def timeline_entries(
    schedule: Schedule,
    original: Schedule | None,
    states: list[DeadlineState],
    moves: Sequence[MoveRecord],
    theme: ThemePolicy,
    me: str,
    now: datetime,
) -> list[TimelineEntry]:
    """Each deadline in due order: what each agency owes by it (and what the lead
    inspector does by it), and its move, if it was moved."""
    before = original.due_times() if original else {}
    moved = {m.deadline: m for m in moves}
    order = _agency_order(theme)
    owed: dict[str, list[DeadlineState]] = {}
    for state in states:
        if state.deadline is not None:
            owed.setdefault(state.deadline, []).append(state)
    entries = []
    for deadline in schedule.deadlines:
        due: list[str] = []
        for state in sorted(
            owed.get(deadline.key, []), key=lambda s: (order.get(s.agency, len(order)), s.agency)
        ):
            name = views.agency_name(theme, state.agency)
            optional = len(state.items) - state.required
            words = f"{name}: {_plural(state.required, 'required item')}"
            if optional:
                words += f" and {optional} optional"
            due.append(words + f" ({state.accepted} accepted)")
        if theme.selection and theme.selection.audit_selected_by == deadline.key:
            due.append(f"You choose {_audit_wanted(theme.selection)} to audit")
        record = moved.get(deadline.key) if deadline.moved else None
        move = None
        if record is not None:
            was = before.get(deadline.key)
            move = Move(
                was=views.deadline_words(was, now) if was else "",
                by=actor_words(record.set_by, me),
                at=views.when_words(record.set_at),
                reason=record.reason,
            )
        entries.append(
            TimelineEntry(
                key=deadline.key,
                heading=views.deadline_words(deadline.due, now),
                quote=deadline.quote,
                passed=now > deadline.due,
                due=tuple(due) or ("Nothing is due from the agencies",),
                move=move,
                shifted=shift_words(deadline, schedule) if move is None else "",
            )
        )
    return entries


def shift_words(deadline: ScheduledDeadline, schedule: Schedule) -> str:
    """Why a deadline is not on the day the guidance's words give, in a sentence; ''
    if it is on that day."""
    shift = deadline.shift
    if shift is None:
        return ""
    words = f"The guidance’s day is {day_words(shift.rule_day)}"
    if shift.bank_holidays:
        holidays = " and ".join(day_words(d) for d in shift.bank_holidays)
        plural = "are bank holidays" if len(shift.bank_holidays) > 1 else "is a bank holiday"
        words += f"; {holidays} {plural}"
    if shift.after is not None:
        prerequisite = next(d for d in schedule.deadlines if d.key == shift.after)
        words += (
            f". It depends on “{prerequisite.quote}”, now "
            f"{say_moment(prerequisite.due)}, so it falls on the next working day after that"
        )
    else:
        words += ", so it falls on the next working day"
    return words + "."


day_words = say_day
"""'Monday 7 December 2026'."""


@dataclass(frozen=True)
class MoveForm:
    """The deadline form as sent: its values to show again, its errors, and the move."""

    values: dict[str, str]
    errors: list[dict[str, str]]
    move: DeadlineMove | None


TIME_PARTS = ("hour", "minute")
DAY_FIELDS = {"notification": "The notification day", "fieldwork": "The fieldwork start"}


@dataclass(frozen=True)
class DaysForm:
    """The days form as sent: its values to show again, its errors, and the two days
    (either may be blank: the portal derives it)."""

    values: dict[str, str]
    errors: list[dict[str, str]]
    notification: date | None
    fieldwork_start: date | None


def days_form_values(notification: date | None, fieldwork_start: date | None) -> dict[str, str]:
    """The form's fields filled with the days as they are."""
    values: dict[str, str] = {}
    for field, day in (("notification", notification), ("fieldwork", fieldwork_start)):
        parts = (day.day, day.month, day.year) if day else ("", "", "")
        values.update(
            {f"{field}-{p}": str(v) for p, v in zip(views.DATE_PARTS, parts, strict=True)}
        )
    return values


def read_days_form(fields: Mapping[str, str]) -> DaysForm:
    """The notification day and fieldwork start from the form; a blank one is left for the
    portal to derive, a half-filled or impossible one is an error saying what to fix."""
    values = {
        f"{field}-{p}": fields.get(f"{field}-{p}", "").strip()
        for field in DAY_FIELDS
        for p in views.DATE_PARTS
    }
    errors: list[dict[str, str]] = []
    days: dict[str, date | None] = {}
    for field, subject in DAY_FIELDS.items():
        days[field], error = views.date_from_parts(
            {p: values[f"{field}-{p}"] for p in views.DATE_PARTS}, subject
        )
        if error:
            errors.append({"href": f"#{field}-day", "text": error, "field": field})
    if not errors and days["notification"] is None and days["fieldwork"] is None:
        errors.append(
            {
                "href": "#notification-day",
                "text": "Enter the notification day, the fieldwork start, or both",
                "field": "notification",
            }
        )
    return DaysForm(values, errors, days["notification"], days["fieldwork"])


def move_form_values(due: datetime) -> dict[str, str]:
    """The form filled in with a deadline's current time (London)."""
    local = due.astimezone(LONDON)
    return {
        "due-day": str(local.day),
        "due-month": str(local.month),
        "due-year": str(local.year),
        "time-hour": str(local.hour),
        "time-minute": f"{local.minute:02d}",
        "reason": "",
    }


def _read_date(parts: Mapping[str, str]) -> tuple[date | None, str]:
    return views.date_from_parts(parts, "The new date", when_empty="Enter the new date")


def _read_time(parts: Mapping[str, str]) -> tuple[tuple[int, int] | None, str]:
    if not any(parts.values()):
        return None, "Enter the new time"
    if not parts["hour"]:
        return None, "The new time must include an hour"
    minute_text = parts["minute"] or "0"
    if not (_DIGITS.fullmatch(parts["hour"]) and _DIGITS.fullmatch(minute_text)):
        return None, "Enter the new time in numbers, for example 17 00 for 5pm"
    hour, minute = int(parts["hour"]), int(minute_text)
    if hour > 23:
        return None, "The hour must be between 0 and 23 (use the 24-hour clock)"
    if minute > 59:
        return None, "The minutes must be between 0 and 59"
    return (hour, minute), ""


def read_move_form(fields: Mapping[str, str]) -> MoveForm:
    """The new due time and reason from the form, checked as the API checks a move
    (DeadlineMove), with messages that say how to put each field right."""
    values = {
        **{f"due-{p}": fields.get(f"due-{p}", "").strip() for p in views.DATE_PARTS},
        **{f"time-{p}": fields.get(f"time-{p}", "").strip() for p in TIME_PARTS},
        "reason": fields.get("reason", "").strip(),
    }
    errors: list[dict[str, str]] = []
    day, date_error = _read_date({p: values[f"due-{p}"] for p in views.DATE_PARTS})
    if date_error:
        errors.append({"href": "#due-day", "text": date_error, "field": "date"})
    clock, time_error = _read_time({p: values[f"time-{p}"] for p in TIME_PARTS})
    if time_error:
        errors.append({"href": "#time-hour", "text": time_error, "field": "time"})
    if not values["reason"]:
        errors.append(
            {"href": "#reason", "text": "Enter why you are moving this deadline", "field": "reason"}
        )
    if errors or day is None or clock is None:
        return MoveForm(values, errors, None)
    due = datetime(day.year, day.month, day.day, clock[0], clock[1], tzinfo=LONDON)
    try:
        move = DeadlineMove(due=due, reason=values["reason"])
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"][:1] == ("reason",):
                limit = (error.get("ctx") or {}).get("max_length", 500)
                text = f"The reason must be {limit} characters or fewer"
                errors.append({"href": "#reason", "text": text, "field": "reason"})
            else:
                text = "The new date must be between 1 January 2000 and 31 December 2099"
                errors.append({"href": "#due-day", "text": text, "field": "date"})
        return MoveForm(values, errors, None)
    return MoveForm(values, [], move)


# -- the case selection -------------------------------------------------------------------


def _audit_wanted(policy: CaseSelection) -> str:
    if policy.audit_min == policy.audit_max:
        return _plural(policy.audit_max, "child", "children")
    return f"between {policy.audit_min} and {policy.audit_max} children"


def audit_hint(policy: CaseSelection) -> str:
    return f"Select {_audit_wanted(policy)} from the shortlist."


def child_ids_from(text: str) -> list[str]:
    """The unique IDs typed into the shortlist box: one a line (or comma-separated).
    Spaces do not separate: 'Jane Smith' stays one entry, so it is refused as a name."""
    return [entry.strip() for entry in re.split(r"[\r\n,]+", text) if entry.strip()]


def _entries(positions: Sequence[int]) -> str:
    numbers = [str(p) for p in positions]
    return ("entry " if len(numbers) == 1 else "entries ") + _and(numbers)


def selection_message(
    stage: Stage,
    problem: SelectionProblem,
    child_ids: Sequence[str],
    policy: CaseSelection | None,
    shortlist: Sequence[str] = (),
    detail: str = "",
) -> str:
    """How to put right a selection the domain refused (decide_selection's problem); where
    only the refusal knows what was wrong (which IDs are on no accepted list), its
    `detail` words, as an error message (capitalised, no full stop)."""
    if problem is SelectionProblem.no_selection_in_theme or policy is None:
        return "This inspection’s theme has no case selection, so there is nothing to record"
    if problem is SelectionProblem.invalid_child_id:
        bad = [i + 1 for i, c in enumerate(child_ids) if not _CHILD_ID.fullmatch(c)]
        return (
            "Enter each child’s unique ID, not their name, using only letters, numbers, "
            f"hyphens and underscores with no spaces: check {_entries(bad)}"
        )
    if problem is SelectionProblem.repeated_child_id:
        twice = [c for c, n in Counter(child_ids).items() if n > 1]
        verb = "is" if len(twice) == 1 else "are"
        return f"Enter each child once: {_and(twice)} {verb} entered more than once"
    if problem is SelectionProblem.wrong_number_of_children:
        if stage is Stage.shortlist:
            return (
                f"Enter no more than {policy.shortlist_size} children for the shortlist "
                f"(you entered {len(child_ids)})"
            )
        return f"Select {_audit_wanted(policy)} to audit (you selected {len(child_ids)})"
    if problem is SelectionProblem.child_not_on_accepted_list and detail:
        return detail[:1].upper() + detail[1:].rstrip(".")
    if problem is SelectionProblem.child_not_shortlisted:
        outside = [c for c in child_ids if c not in shortlist]
        return f"Select only children on the shortlist: check {_and(outside)}"
    return "The selection could not be recorded. Check it and try again"


def empty_selection_message(stage: Stage) -> str:
    if stage is Stage.shortlist:
        return "Enter the unique IDs of the children to shortlist, one on each line"
    return "Select the children to audit"


def too_many_message(stage: Stage, limit: int) -> str:
    verb = "Enter" if stage is Stage.shortlist else "Select"
    return f"{verb} no more than {limit} children"


@dataclass(frozen=True)
class SlotRow:
    child_id: str
    agency: str
    due: str
    on_site_only: bool
    agency_code: str = ""
    seen_on_site: str = ""  # e.g. "to be seen on site: arranged (Room 4, Tuesday 20 April 2027)"
    arranged: bool = False
    seen: bool = False


@dataclass(frozen=True)
class AgencyDocuments:
    agency: str
    documents: tuple[str, ...]
    on_site_only: bool

    @property
    def heading(self) -> str:
        """'What the local authority sends for each child', 'What Health partners send…'."""
        if self.agency.startswith("The "):
            return f"What the {self.agency[4:]} sends for each child"
        return f"What {self.agency} send for each child"


def slot_rows(
    slots: Sequence[CaseRecordSlot], schedule: Schedule | None, theme: ThemePolicy, now: datetime
) -> list[SlotRow]:
    """The case-record slots the audit list made: child, agency and when each is due."""
    due = schedule.due_times() if schedule else {}
    return [
        SlotRow(
            child_id=s.child_id,
            agency=views.agency_name(theme, s.agency),
            due=views.deadline_words(due[s.deadline], now) if s.deadline in due else "Not set",
            on_site_only=s.health_record,
            agency_code=s.agency,
            seen_on_site=arrangement_words(s.on_site) if s.seen_on_site else "",
            arranged=s.arranged,
            seen=s.on_site is not None and s.on_site.seen_at is not None,
        )
        for s in slots
    ]


def documents_by_agency(
    slots: Sequence[CaseRecordSlot], theme: ThemePolicy
) -> list[AgencyDocuments]:
    """What each agency sends for every audited child (the same for each child)."""
    seen: dict[str, AgencyDocuments] = {}
    for s in slots:
        seen.setdefault(
            s.agency,
            AgencyDocuments(views.agency_name(theme, s.agency), s.documents, s.health_record),
        )
    return list(seen.values())


# -- after fieldwork ---------------------------------------------------------------------------

LETTER_FIELDS = {
    LetterStep.draft_letter_shared: ("draft", "Draft letter shared for factual accuracy"),
    LetterStep.final_letter_sent: ("final", "Final letter sent"),
    LetterStep.letter_published: ("published", "Letter published"),
}
LETTER_SUBJECTS = {
    LetterStep.draft_letter_shared: "The day the draft letter was shared",
    LetterStep.final_letter_sent: "The day the final letter was sent",
    LetterStep.letter_published: "The day the letter was published",
}


@dataclass(frozen=True)
class LetterDeadlineRow:
    """One after-fieldwork deadline as the timeline shows it."""

    key: str
    title: str
    quote: str
    source: str
    due: str
    """'By end of Thursday 18 May 2028', or what it waits for."""
    waiting: bool


def after_fieldwork_rows(state: AfterFieldwork, now: datetime) -> list[LetterDeadlineRow]:
    """The after-fieldwork deadlines in order, each due or waiting for its step."""
    titles = {
        AfterFieldworkDeadline.factual_accuracy: "Comments on the draft letter’s factual accuracy",
        AfterFieldworkDeadline.statement_of_action: "Statement of action",
    }
    return [
        LetterDeadlineRow(
            key=d.key.value,
            title=titles[d.key],
            quote=d.quote,
            source=d.source,
            due=f"By {views.deadline_words(d.due, now)}" if d.due else (d.waiting_for or ""),
            waiting=d.due is None,
        )
        for d in state.deadlines
    ]


def letter_days_rows(recorded: Mapping[LetterStep, date]) -> list[tuple[str, str]]:
    """Each step of the letter with its recorded day, or 'Not recorded yet'."""
    return [
        (title, day_words(recorded[step]) if step in recorded else "Not recorded yet")
        for step, (_field, title) in LETTER_FIELDS.items()
    ]


def letter_form_values(recorded: Mapping[LetterStep, date]) -> dict[str, str]:
    """The letter's days form filled with the days recorded so far."""
    values: dict[str, str] = {}
    for step, (field, _title) in LETTER_FIELDS.items():
        day = recorded.get(step)
        parts = (day.day, day.month, day.year) if day else ("", "", "")
        values.update(
            {f"{field}-{p}": str(v) for p, v in zip(views.DATE_PARTS, parts, strict=True)}
        )
    return values


@dataclass(frozen=True)
class LetterForm:
    """The letter's days as sent: values to show again, errors, and the days filled in."""

    values: dict[str, str]
    errors: list[dict[str, str]]
    days: dict[LetterStep, date]


def read_letter_form(fields: Mapping[str, str]) -> LetterForm:
    """The letter's days from the form; blank ones are left as they are, a half-filled or
    impossible one is an error saying what to fix; at least one must be given."""
    values = {
        f"{field}-{p}": fields.get(f"{field}-{p}", "").strip()
        for field, _title in LETTER_FIELDS.values()
        for p in views.DATE_PARTS
    }
    errors: list[dict[str, str]] = []
    days: dict[LetterStep, date] = {}
    for step, (field, _title) in LETTER_FIELDS.items():
        day, error = views.date_from_parts(
            {p: values[f"{field}-{p}"] for p in views.DATE_PARTS}, LETTER_SUBJECTS[step]
        )
        if error:
            errors.append({"href": f"#{field}-day", "text": error, "field": field})
        elif day is not None:
            days[step] = day
    if not errors and not days:
        errors.append(
            {
                "href": "#draft-day",
                "text": "Enter at least one of the letter’s days",
                "field": "draft",
            }
        )
    return LetterForm(values, errors, days)


# -- extra items ----------------------------------------------------------------------------

EXTRA_DUE_HOUR = 17
"""An item the lead asks for is due at 5pm on its day, like the guidance's own deadlines."""


@dataclass(frozen=True)
class ExtraItemForm:
    """The extra-item form as typed, what is wrong with it, and the request it makes."""

    values: dict[str, str]
    errors: list[dict[str, str]]
    asked: ExtraItemRequest | None


def extra_item_values(fields: Mapping[str, str]) -> dict[str, str]:
    """The form's fields as typed (blank when new)."""
    names = ["agency", "title", *(f"due-{p}" for p in views.DATE_PARTS)]
    return {n: fields.get(n, "").strip() for n in names}


def read_extra_item_form(fields: Mapping[str, str]) -> ExtraItemForm:
    """The request the form makes, due at 5pm (Europe/London) on the day given, or the
    errors saying what to fix."""
    values = extra_item_values(fields)
    errors: list[dict[str, str]] = []
    if not values["title"]:
        errors.append({"href": "#title", "text": "Enter what you are asking for", "field": "title"})
    elif len(values["title"]) > TITLE_MAX:
        errors.append(
            {
                "href": "#title",
                "text": f"What you are asking for must be {TITLE_MAX} characters or fewer",
                "field": "title",
            }
        )
    day, error = views.date_from_parts(
        {p: values[f"due-{p}"] for p in views.DATE_PARTS},
        "the day it is due",
        when_empty="Enter the day it is due",
    )
    if error or day is None:
        errors.append(
            {"href": "#due-day", "text": error or "Enter the day it is due", "field": "due"}
        )
    if errors or day is None:
        return ExtraItemForm(values, errors, None)
    try:
        asked = ExtraItemRequest(
            agency=values["agency"] or "-",
            title=values["title"],
            due=datetime.combine(day, time(EXTRA_DUE_HOUR), tzinfo=LONDON),
        )
    except ValidationError:
        one_line = {
            "href": "#title",
            "text": "Write what you are asking for on one line",
            "field": "title",
        }
        return ExtraItemForm(values, [one_line], None)
    return ExtraItemForm(values, [], asked)
