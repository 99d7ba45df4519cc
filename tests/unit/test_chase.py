"""Chasing plans reminders before a deadline and alerts after it, on working days only."""

from datetime import date, datetime, timedelta

from portal.domain.chase import ChasePolicy, Contacts, MessageKind, plan_chase, say_due
from portal.domain.completeness import DocumentFact, completeness
from portal.domain.documents import DocumentStatus
from portal.domain.schedule import schedule_of
from portal.domain.timeline import LONDON, WorkingCalendar
from tests.unit.two_deadline_theme import two_deadline_theme

THEME = two_deadline_theme()
FIELDWORK = date(2025, 6, 16)
CALENDAR = WorkingCalendar()
SCHEDULE = schedule_of(THEME, FIELDWORK, CALENDAR, {})
POLICY = ChasePolicy(reminder_working_days_before=2, why="test")
CONTACTS = Contacts(
    lead_inspector=("lead@inspectorate.example",),
    agencies={"police": ("police@force.example",), "health": ("health@icb.example",)},
)


def _plan(as_of: datetime, facts: list[DocumentFact] | None = None) -> list:  # type: ignore[type-arg]
    assert SCHEDULE is not None
    states = completeness(THEME, ["police", "health"], SCHEDULE.due_times(), facts or [], as_of)
    return plan_chase(
        "insp1",
        "Testshire",
        SCHEDULE,
        states,
        CONTACTS,
        as_of,
        CALENDAR,
        "Upload at https://portal.example",
        POLICY,
    )


def test_a_deadline_is_said_as_people_say_it() -> None:
    assert say_due(datetime(2025, 6, 3, 17, 0, tzinfo=LONDON)) == "5pm Tuesday 3 June"
    assert say_due(datetime(2025, 6, 6, 11, 0, tzinfo=LONDON)) == "11am Friday 6 June"


def test_each_agency_with_missing_items_is_reminded_of_the_next_deadline() -> None:
    messages = _plan(datetime(2025, 6, 3, 9, 0, tzinfo=LONDON))
    reminders = [m for m in messages if m.kind is MessageKind.reminder]
    assert {m.agency for m in reminders} == {"police", "health"}
    police = next(m for m in reminders if m.agency == "police")
    assert "3.1 Structure" in police.body and "3.2" not in police.body
    assert "5pm Tuesday 3 June" in police.body
    assert police.recipients == ("police@force.example",)


def test_an_agency_that_has_everything_gets_nothing() -> None:
    at = datetime(2025, 6, 3, 9, 0, tzinfo=LONDON)
    done = [
        DocumentFact(
            agency="health",
            item_number="4.1",
            status=DocumentStatus.accepted,
            received_at=at - timedelta(days=1),
            decided_at=at - timedelta(days=1),
        )
    ]
    assert {m.agency for m in _plan(at, done)} == {"police"}


def test_nothing_is_planned_on_a_weekend_or_bank_holiday() -> None:
    assert _plan(datetime(2025, 6, 7, 9, 0, tzinfo=LONDON)) == []
    holiday = WorkingCalendar(bank_holidays=frozenset({date(2025, 6, 4)}))
    assert SCHEDULE is not None
    at = datetime(2025, 6, 4, 9, 0, tzinfo=LONDON)
    states = completeness(THEME, ["police"], SCHEDULE.due_times(), [], at)
    assert plan_chase("insp1", "T", SCHEDULE, states, CONTACTS, at, holiday, "", POLICY) == []


def test_after_a_deadline_the_lead_gets_one_alert_and_agencies_an_overdue_notice() -> None:
    messages = _plan(datetime(2025, 6, 4, 9, 0, tzinfo=LONDON))
    alerts = [m for m in messages if m.kind is MessageKind.lead_alert]
    notices = [m for m in messages if m.kind is MessageKind.overdue_notice]
    assert len(alerts) == 1
    assert "police: 1 overdue" in alerts[0].body and "health: 1 overdue" in alerts[0].body
    assert {n.agency for n in notices} == {"police", "health"}
    assert alerts[0].key == "insp1:*:w1_tue:lead_alert"


def test_a_reminder_has_one_key_per_agency_and_deadline_whatever_the_run() -> None:
    # Was: one reminder key per day (and per morning and midday run). Now a reminder goes
    # once per inspection, agency and deadline, so every run in its window plans one key.
    runs = [
        _plan(datetime(2025, 6, day, hour, 0, tzinfo=LONDON)) for day in (9, 10) for hour in (9, 12)
    ]
    keys = lambda ms, kind: {m.key for m in ms if m.kind is kind}  # noqa: E731
    assert all(keys(run, MessageKind.reminder) == {"insp1:police:w2_tue:reminder"} for run in runs)
    assert keys(runs[0], MessageKind.lead_alert) == keys(runs[-1], MessageKind.lead_alert)


def test_the_first_run_inside_the_window_reminds_even_at_midday() -> None:
    # Was: a midday run reminded only on the deadline's own day. Now any run inside the
    # window may be the first (an inspection created at 10am is reminded at noon).
    monday_noon = _plan(datetime(2025, 6, 2, 12, 0, tzinfo=LONDON))
    assert {(m.agency, m.deadline) for m in monday_noon if m.kind is MessageKind.reminder} == {
        ("police", "w1_tue"),
        ("health", "w1_tue"),
    }
