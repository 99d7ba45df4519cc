"""Chasing the deadlines after fieldwork: the partnership is reminded ahead of the
factual-accuracy and statement-of-action deadlines, and the lead inspector alerted once
each has passed, with chase.py's messages, its window and its idempotency keys."""

from __future__ import annotations

from datetime import date, datetime

from portal.domain.after_fieldwork import AfterFieldwork, LetterDeadline
from portal.domain.chase import (
    ChasePolicy,
    Contacts,
    MessageKind,
    PlannedMessage,
    reminder_window_opens,
    say_due,
)
from portal.domain.timeline import LONDON, WorkingCalendar

_OWED = {
    "factual_accuracy": "the partnership’s comments on the draft letter’s factual accuracy",
    "statement_of_action": "the statement of action",
}


def plan_letter_chase(
    inspection_id: str,
    area_name: str,
    state: AfterFieldwork,
    contacts: Contacts,
    as_of: datetime,
    calendar: WorkingCalendar,
    policy: ChasePolicy,
    notification: date,
) -> list[PlannedMessage]:
    """What the after-fieldwork deadlines owe as of `as_of`; nothing on a weekend or bank
    holiday, nothing for a deadline still waiting for its step. Inside a deadline's reminder
    window (chase.reminder_window_opens, policies/chasing.yaml), one reminder to each
    agency's contacts (the partnership answers together); once it has passed, one alert to
    the lead inspector to check it was met. Keys are per inspection, agency and deadline,
    so each goes once however many runs plan it."""
    if not calendar.is_working_day(as_of.astimezone(LONDON).date()):
        return []
    planned: list[PlannedMessage] = []
    for deadline in state.due_deadlines():
        assert deadline.due is not None
        if deadline.due > as_of:
            opens = reminder_window_opens(deadline.due, notification, policy, calendar)
            if as_of.astimezone(LONDON).date() >= opens:
                planned += _reminders(inspection_id, area_name, deadline, contacts)
        elif contacts.lead_inspector:
            planned.append(_lead_alert(inspection_id, area_name, deadline, contacts))
    return planned


def _reminders(
    inspection_id: str, area_name: str, deadline: LetterDeadline, contacts: Contacts
) -> list[PlannedMessage]:
    assert deadline.due is not None
    owed = _OWED[deadline.key.value]
    return [
        PlannedMessage(
            key=f"{inspection_id}:{agency}:{deadline.key.value}:reminder",
            inspection_id=inspection_id,
            agency=agency,
            deadline=deadline.key.value,
            kind=MessageKind.reminder,
            recipients=recipients,
            subject=f"JTAI {area_name}: {owed} due {say_due(deadline.due)}",
            body=f"JTAI of {area_name}: {owed} is due by {say_due(deadline.due)} "
            f"(“{deadline.quote}”, {deadline.source}).\n",
        )
        for agency, recipients in sorted(contacts.agencies.items())
        if recipients
    ]


def _lead_alert(
    inspection_id: str, area_name: str, deadline: LetterDeadline, contacts: Contacts
) -> PlannedMessage:
    assert deadline.due is not None
    owed = _OWED[deadline.key.value]
    return PlannedMessage(
        key=f"{inspection_id}:*:{deadline.key.value}:lead_alert",
        inspection_id=inspection_id,
        agency=None,
        deadline=deadline.key.value,
        kind=MessageKind.lead_alert,
        recipients=contacts.lead_inspector,
        subject=f"JTAI {area_name}: {owed} was due {say_due(deadline.due)}",
        body=f"The deadline for {owed} passed at {say_due(deadline.due)} "
        f"(“{deadline.quote}”, {deadline.source}). Check that it has arrived.\n",
    )
