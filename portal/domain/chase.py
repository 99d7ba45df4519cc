"""Chasing: which reminders, overdue notices and lead-inspector alerts are owed at a moment.

Pure: given the inspection's schedule, its completeness as of the moment and its contacts,
it plans messages. Each message has an idempotency key (inspection, agency, deadline, kind
and, for daily reminders, the day), so however many chase runs plan it, it is sent once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.completeness import DeadlineState
from portal.domain.documents import Document, DocumentStatus
from portal.domain.moments import UtcDatetime
from portal.domain.reasons import reason_sentence
from portal.domain.schedule import Schedule, ScheduledDeadline
from portal.domain.timeline import LONDON, WorkingCalendar


class MessageKind(StrEnum):
    reminder = "reminder"
    overdue_notice = "overdue_notice"
    lead_alert = "lead_alert"
    rejection_notice = "rejection_notice"
    records_alert = "records_alert"


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
) -> list[PlannedMessage]:
    """Everything owed as of `as_of` on a working day; nothing on weekends or bank holidays.

    - a reminder to each agency with items still missing for the next deadline: at a
      morning run, and again at a midday run on the deadline's own day (once per run slot);
    - after each deadline, an overdue notice to each agency with overdue items, and one
      alert to the lead inspector listing, by agency, what is overdue (once per deadline).
    Agencies with nothing missing get nothing.
    """
    if not calendar.is_working_day(as_of.astimezone(LONDON).date()):
        return []
    by_deadline: dict[str, list[DeadlineState]] = defaultdict(list)
    for state in states:
        if state.deadline is not None:
            by_deadline[state.deadline].append(state)
    planned: list[PlannedMessage] = []
    upcoming = next((d for d in schedule.deadlines if d.due > as_of), None)
    local = as_of.astimezone(LONDON)
    if upcoming is not None and (
        local.hour < 12 or upcoming.due.astimezone(LONDON).date() == local.date()
    ):
        planned += _reminders(
            inspection_id,
            area_name,
            upcoming,
            by_deadline[upcoming.key],
            contacts,
            as_of,
            upload_help,
        )
    for passed in (d for d in schedule.deadlines if d.due <= as_of):
        planned += _after_deadline(
            inspection_id, area_name, passed, by_deadline[passed.key], contacts
        )
    return planned


def _reminders(
    inspection_id: str,
    area_name: str,
    deadline: ScheduledDeadline,
    states: list[DeadlineState],
    contacts: Contacts,
    as_of: datetime,
    upload_help: str,
) -> list[PlannedMessage]:
    slot = f"{as_of.astimezone(LONDON):%Y-%m-%dT%H}"
    messages = []
    for state in states:
        recipients = contacts.agencies.get(state.agency, ())
        if not state.missing or not recipients:
            continue
        titles = {i.number: i for i in state.items}
        lines = [f"- {n} {titles[n].title}" for n in state.missing]
        rejected = [
            f"- {i.number}: " + " ".join(reason_sentence(r) for r in i.rejection_reasons)
            for i in state.items
            if i.number in state.rejected
        ]
        body = "\n".join(
            [
                f"JTAI of {area_name}: by {say_due(deadline.due)} ({deadline.quote}) the "
                f"inspectors still need these from you:",
                "",
                *lines,
                *(["", "These uploads were not accepted:", "", *rejected] if rejected else []),
                "",
                upload_help,
            ]
        )
        messages.append(
            PlannedMessage(
                key=f"{inspection_id}:{state.agency}:{deadline.key}:reminder:{slot}",
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
        subject=f"JTAI {area_name}: {document.original_filename} was not accepted",
        body="\n".join(
            [
                f"Your upload {document.original_filename!r} for {document.item_number} was not "
                "accepted:",
                "",
                *reasons,
                "",
                f"Document reference: {document.id}",
            ]
        )
        + "\n",
    )
