"""The deadlines after fieldwork are chased like the others: a reminder to the
partnership inside the reminder window, an alert to the lead once passed, nothing on a
weekend or for a deadline still waiting for its step.

Hand-counted: the final letter sent Monday 8 February 2027 makes the statement of action
due at the end of Thursday 20 May 2027 (70 working days, past Good Friday 26 March,
Easter Monday 29 March and 3 May); 2 working days ahead is Tuesday 18 May.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from portal.adapters.policy_files import load_themes
from portal.domain.after_fieldwork import LetterStep, after_fieldwork_of
from portal.domain.chase import ChasePolicy, Contacts, MessageKind
from portal.domain.letter_chase import plan_letter_chase
from portal.domain.timeline import LONDON, WorkingCalendar

THEMES = load_themes(Path(__file__).resolve().parents[2] / "policies" / "themes")
CALENDAR = WorkingCalendar(
    bank_holidays=frozenset({date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3)})
)
POLICY = ChasePolicy(reminder_working_days_before=2, why="test")
CONTACTS = Contacts(
    lead_inspector=("lead@example.org",),
    agencies={"local_authority": ("dcs@example.org",), "police": ("police@example.org",)},
)


def _plan(recorded: dict[LetterStep, date], at: datetime) -> list[tuple[str, str, str | None]]:
    policy = THEMES["domestic-abuse/sept-2024"].after_fieldwork
    assert policy is not None
    state = after_fieldwork_of(policy, recorded, CALENDAR)
    messages = plan_letter_chase(
        "insp1", "Testshire", state, CONTACTS, at, CALENDAR, POLICY, date(2026, 11, 23)
    )
    return [(m.deadline, m.kind.value, m.agency) for m in messages]


SENT = {LetterStep.final_letter_sent: date(2027, 2, 8)}


def test_the_partnership_is_reminded_of_the_statement_of_action_from_2_working_days_before() -> (
    None
):
    assert _plan(SENT, datetime(2027, 5, 17, 9, 0, tzinfo=LONDON)) == []
    assert _plan(SENT, datetime(2027, 5, 18, 9, 0, tzinfo=LONDON)) == [
        ("statement_of_action", MessageKind.reminder, "local_authority"),
        ("statement_of_action", MessageKind.reminder, "police"),
    ]


def test_the_lead_is_alerted_once_the_statement_of_action_deadline_has_passed() -> None:
    assert _plan(SENT, datetime(2027, 5, 21, 9, 0, tzinfo=LONDON)) == [
        ("statement_of_action", MessageKind.lead_alert, None)
    ]


def test_nobody_is_chased_on_a_bank_holiday_or_for_a_deadline_still_waiting() -> None:
    assert _plan(SENT, datetime(2027, 5, 3, 9, 0, tzinfo=LONDON)) == []
    assert _plan({}, datetime(2027, 5, 21, 9, 0, tzinfo=LONDON)) == []


def test_a_reminder_quotes_the_guidance_and_says_when() -> None:
    policy = THEMES["domestic-abuse/sept-2024"].after_fieldwork
    assert policy is not None
    state = after_fieldwork_of(policy, SENT, CALENDAR)
    (first, _second) = plan_letter_chase(
        "insp1",
        "Testshire",
        state,
        CONTACTS,
        datetime(2027, 5, 18, 9, 0, tzinfo=LONDON),
        CALENDAR,
        POLICY,
        date(2026, 11, 23),
    )
    assert first.key == "insp1:local_authority:statement_of_action:reminder"
    assert "end of Thursday 20 May" in first.body
    assert "within 70 working days of receiving the final letter of findings" in first.body
