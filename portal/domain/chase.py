"""Chasing: which reminders, overdue notices and lead-inspector alerts are owed at a moment.

Pure: given the inspection's schedule, its completeness as of the moment and its contacts,
it plans messages. Each message has an idempotency key (inspection, agency, deadline and
kind), so however many chase runs plan it, it is sent once: one reminder per agency and
deadline, one overdue notice, one alert to the lead inspector.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from portal.domain.completeness import DeadlineState
from portal.domain.documents import Document, DocumentStatus
from portal.domain.moments import UtcDatetime
from portal.domain.reasons import reason_sentence
from portal.domain.schedule import Schedule, ScheduledDeadline, say_moment
from portal.domain.timeline import LONDON, WorkingCalendar


class MessageKind(StrEnum):
    reminder = "reminder"
    overdue_notice = "overdue_notice"
    lead_alert = "lead_alert"
    rejection_notice = "rejection_notice"
    records_alert = "records_alert"
    withdrawal_notice = "withdrawal_notice"


class ChasePolicy(BaseModel):
    """When agencies are reminded ahead of their deadlines (policies/chasing.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reminder_working_days_before: int = Field(
        ge=0,
        le=10,
        description="An agency is reminded of a deadline from this many working days before "
        "the deadline's day (0: on the day itself).",
    )
    why: str = Field(min_length=1, description="Why this number: the guidance gives none.")


def reminder_window_opens(
    due: datetime, notification: date, policy: ChasePolicy, calendar: WorkingCalendar
) -> date:
    """The first working day on which an agency is reminded of a deadline due at `due`.

    That is `policy.reminder_working_days_before` working days before the deadline's day
    (weekends and bank holidays not counted), or the next working day if that is not one,
    and never before the inspection's notification day: nobody is reminded of an
    inspection they have not been told of. The window closes when the deadline passes.
    """
    due_day = due.astimezone(LONDON).date()
    opens = calendar.add_working_days(due_day, -policy.reminder_working_days_before)
    return calendar.on_or_after(max(opens, notification))


EMAIL_PATTERN = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"
"""An e-mail address as contacts and tokens take it: one address, no lists or display names."""
EMAIL_MAX_LENGTH = 320


class Contacts(BaseModel):
    """Who hears about an inspection: each agency's contacts and the lead inspector."""

    model_config = ConfigDict(frozen=True)

    lead_inspector: tuple[str, ...] = ()
    agencies: dict[str, tuple[str, ...]] = {}


class PlannedMessage(BaseModel):
    """A message a chase run owes, ready for the outbox."""

    model_config = ConfigDict(frozen=True)

    key: str
    inspection_id: str
    agency: str | None
    deadline: str
    kind: MessageKind
    recipients: tuple[str, ...]
    subject: str
    body: str


class OutboxMessage(PlannedMessage):
    """A message as the outbox holds it: what was planned, and how sending it went."""

    status: str  # pending, sending (claimed by a delivery run) or sent
    claim_token: str | None
    claimed_at: UtcDatetime | None
    attempts: int
    last_error: str
    created_at: UtcDatetime
    sent_at: UtcDatetime | None


def say_due(due: datetime) -> str:
    """A deadline as people say it: '5pm Tuesday 4 May', '11am Friday 7 May'."""
    local = due.astimezone(LONDON)
    hour = local.hour % 12 or 12
    minutes = f".{local.minute:02d}" if local.minute else ""
    clock = f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"
    if (local.hour, local.minute) == (23, 59):
        clock = "end of"
    return f"{clock} {local:%A} {local.day} {local:%B}"


def plan_chase(
    inspection_id: str,
    area_name: str,
    schedule: Schedule,
    states: list[DeadlineState],
    contacts: Contacts,
    as_of: datetime,
    calendar: WorkingCalendar,
    upload_help: str,
    policy: ChasePolicy,
) -> list[PlannedMessage]:
    """Everything owed as of `as_of` on a working day; nothing on weekends or bank holidays.

    - for every deadline not yet passed whose reminder window is open (see
      `reminder_window_opens`), a reminder to each agency with items still missing for it,
      keyed per inspection, agency and deadline: however many runs plan it, it goes once,
      at the first run inside the window (see `_waits_for_prerequisites` for when it waits
      for the deadlines it depends on). A deadline that
      asks nothing of agencies (the lead inspector's own step) reminds nobody and holds
      back no one else's reminder;
    - after each deadline, an overdue notice to each agency with overdue items, and one
      alert to the lead inspector listing, by agency, what is overdue (once per deadline).
    Agencies with nothing missing get nothing.
    """
    today = as_of.astimezone(LONDON).date()
    if not calendar.is_working_day(today):
        return []
    by_deadline: dict[str, list[DeadlineState]] = defaultdict(list)
    for state in states:
        if state.deadline is not None:
            by_deadline[state.deadline].append(state)
    planned: list[PlannedMessage] = []
    due = schedule.due_times()
    for ahead in (d for d in schedule.deadlines if d.due > as_of):
        waiting = _waits_for_prerequisites(ahead, due, as_of, calendar)
        opens = reminder_window_opens(ahead.due, schedule.notification, policy, calendar)
        if today >= opens and not waiting:
            planned += _reminders(
                inspection_id, area_name, ahead, by_deadline[ahead.key], contacts, upload_help
            )
    for passed in (d for d in schedule.deadlines if d.due <= as_of):
        planned += _after_deadline(
            inspection_id, area_name, passed, by_deadline[passed.key], contacts
        )
    return planned


def _waits_for_prerequisites(
    deadline: ScheduledDeadline,
    due: dict[str, datetime],
    as_of: datetime,
    calendar: WorkingCalendar,
) -> bool:
    """Whether the one reminder of `deadline` waits, as of `as_of`, for a deadline it
    depends on: it does while one is still ahead and a whole working day lies between the
    last of them and its own day, so that it can name what they create (the case records
    of the children chosen by 11am on Friday). With no such day between, it does not wait:
    no agency hears of a deadline first on the day itself (Thursday's items reminded on
    Tuesday, though the lead shortlists on Wednesday)."""
    ahead = [due[p] for p in deadline.depends_on if due[p] > as_of]
    if not ahead:
        return False
    last = max(ahead).astimezone(LONDON).date()
    return calendar.add_working_days(last, 1) < deadline.due.astimezone(LONDON).date()


def _reminders(
    inspection_id: str,
    area_name: str,
    deadline: ScheduledDeadline,
    states: list[DeadlineState],
    contacts: Contacts,
    upload_help: str,
) -> list[PlannedMessage]:
    messages = []
    for state in states:
        recipients = contacts.agencies.get(state.agency, ())
        if not state.missing or not recipients:
            continue
        titles = {i.number: i for i in state.items}
        lines = [f"- {n} {titles[n].title}" for n in state.missing]
        refused = [i for i in state.items if i.number in state.rejected]
        rejected = [
            f"- {i.number}: " + " ".join(reason_sentence(r) for r in i.rejection_reasons)
            for i in refused
        ]
        not_accepted = (
            "These uploads were not accepted, or were withdrawn:"
            if any(i.withdrawn for i in refused)
            else "These uploads were not accepted:"
        )
        body = "\n".join(
            [
                f"JTAI of {area_name}: by {say_due(deadline.due)} ({deadline.quote}) the "
                f"inspectors still need these from you:",
                "",
                *lines,
                *(["", not_accepted, "", *rejected] if rejected else []),
                "",
                upload_help,
            ]
        )
        messages.append(
            PlannedMessage(
                key=f"{inspection_id}:{state.agency}:{deadline.key}:reminder",
                inspection_id=inspection_id,
                agency=state.agency,
                deadline=deadline.key,
                kind=MessageKind.reminder,
                recipients=recipients,
                subject=f"JTAI {area_name}: {len(state.missing)} items due {say_due(deadline.due)}",
                body=body + "\n",
            )
        )
    return messages


def _after_deadline(
    inspection_id: str,
    area_name: str,
    deadline: ScheduledDeadline,
    states: list[DeadlineState],
    contacts: Contacts,
) -> list[PlannedMessage]:
    overdue = [s for s in states if s.overdue]
    if not overdue:
        return []
    messages = []
    for state in overdue:
        recipients = contacts.agencies.get(state.agency, ())
        if recipients:
            titles = {i.number: i.title for i in state.items}
            messages.append(
                PlannedMessage(
                    key=f"{inspection_id}:{state.agency}:{deadline.key}:overdue_notice",
                    inspection_id=inspection_id,
                    agency=state.agency,
                    deadline=deadline.key,
                    kind=MessageKind.overdue_notice,
                    recipients=recipients,
                    subject=f"JTAI {area_name}: {len(state.overdue)} items overdue",
                    body="\n".join(
                        [
                            f"JTAI of {area_name}: these were due by {say_due(deadline.due)} "
                            f"({deadline.quote}) and have not been received:",
                            "",
                            *(f"- {n} {titles[n]}" for n in state.overdue),
                            "",
                            "Please upload them as soon as you can; the lead inspector has been "
                            "told.",
                        ]
                    )
                    + "\n",
                )
            )
    if contacts.lead_inspector:
        sections = []
        for state in overdue:
            sections += [
                f"{state.agency}: {len(state.overdue)} overdue",
                *(f"  - {n}" for n in state.overdue),
            ]
        messages.append(
            PlannedMessage(
                key=f"{inspection_id}:*:{deadline.key}:lead_alert",
                inspection_id=inspection_id,
                agency=None,
                deadline=deadline.key,
                kind=MessageKind.lead_alert,
                recipients=contacts.lead_inspector,
                subject=f"JTAI {area_name}: overdue after {say_due(deadline.due)}",
                body="\n".join(
                    [f"Overdue after {deadline.quote} ({say_due(deadline.due)}):", "", *sections]
                )
                + "\n",
            )
        )
    return messages


def _received(document: Document) -> str:
    """When the portal received a document, for a notice that names no file: a filename
    may carry a child's name, and mail leaves the places retention reaches. Signed in,
    the recipient sees the name beside the document reference."""
    return f"received at {say_moment(document.received_at)}"


def plan_rejection_notice(
    document: Document, area_name: str, contacts: Contacts
) -> PlannedMessage | None:
    """Tell the uploading agency at once that a document was not accepted, and why."""
    recipients = contacts.agencies.get(document.agency, ())
    if document.status is not DocumentStatus.rejected or not recipients:
        return None
    reasons = [reason_sentence(r) for r in document.reasons]
    return PlannedMessage(
        key=f"{document.inspection_id}:{document.agency}:{document.id}:rejection_notice",
        inspection_id=document.inspection_id,
        agency=document.agency,
        deadline="",
        kind=MessageKind.rejection_notice,
        recipients=recipients,
        subject=f"JTAI {area_name}: an upload for {document.item_number} was not accepted",
        body="\n".join(
            [
                f"Your upload for {document.item_number}, {_received(document)}, was not accepted:",
                "",
                *reasons,
                "",
                f"Document reference: {document.id}",
            ]
        )
        + "\n",
    )


def plan_withdrawal_notices(
    document: Document,
    area_name: str,
    what: str,
    contacts: Contacts,
    upload_help: str,
) -> list[PlannedMessage]:
    """Tell the uploading agency and the lead inspector at once that an accepted document
    was withdrawn (`what` names what it was sent for, e.g. "1.1 Local authority
    organisational structures"), why, and what happens next: the agency sends a clean
    copy (`upload_help` says where), anyone who downloaded it deletes their copy. One
    message each, keyed by the document, so planning them again sends nothing more;
    nothing for a document that is not withdrawn, or to no one when there are no
    contacts."""
    if document.status is not DocumentStatus.withdrawn:
        return []
    reasons = [reason_sentence(r) for r in document.reasons]
    found = f"What the scanner found: {document.detail}" if document.detail else ""
    messages = []
    agency_contacts = contacts.agencies.get(document.agency, ())
    if agency_contacts:
        messages.append(
            PlannedMessage(
                key=f"{document.inspection_id}:{document.agency}:{document.id}:withdrawal_notice",
                inspection_id=document.inspection_id,
                agency=document.agency,
                deadline="",
                kind=MessageKind.withdrawal_notice,
                recipients=agency_contacts,
                subject=f"JTAI {area_name}: an upload for {document.item_number} was withdrawn",
                body="\n".join(
                    [
                        f"Your upload for {what}, {_received(document)}, had been "
                        "accepted, and has now been withdrawn:",
                        "",
                        *reasons,
                        *([found] if found else []),
                        "",
                        "Until you send a clean copy, this item counts as missing. Upload it "
                        "from your checklist:",
                        upload_help,
                        "",
                        f"Document reference: {document.id}",
                    ]
                )
                + "\n",
            )
        )
    if contacts.lead_inspector:
        messages.append(
            PlannedMessage(
                key=f"{document.inspection_id}:*:{document.id}:withdrawal_notice",
                inspection_id=document.inspection_id,
                agency=None,
                deadline="",
                kind=MessageKind.withdrawal_notice,
                recipients=contacts.lead_inspector,
                subject=f"JTAI {area_name}: a document from {document.agency} was withdrawn",
                body="\n".join(
                    [
                        f"A document {document.agency} sent for {what}, {_received(document)}, "
                        "had been accepted, and has now been "
                        "withdrawn: when it was checked again with newer virus definitions, "
                        "the virus scanner found something harmful in it.",
                        *([found] if found else []),
                        "",
                        "Nobody can open it through the portal any more. If anyone downloaded "
                        "it earlier, they should delete their copy without opening it again.",
                        "",
                        f"The item counts as missing again until {document.agency} sends a "
                        "clean copy; they have been asked to.",
                        "",
                        f"Document reference: {document.id}",
                    ]
                )
                + "\n",
            )
        )
    return messages
