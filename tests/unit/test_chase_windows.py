"""Every agency is reminded once ahead of each of its own deadlines, inside the chase
window of the policy, never on a weekend or bank holiday; the lead inspector's own steps
remind nobody and hold back nobody's reminder."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.domain.chase import (
    ChasePolicy,
    Contacts,
    MessageKind,
    PlannedMessage,
    plan_chase,
    reminder_window_opens,
)
from portal.domain.completeness import DeadlineState, ItemState
from portal.domain.schedule import Schedule, ScheduledDeadline
from portal.domain.timeline import LONDON, WorkingCalendar

BANK_HOLIDAY = date(2025, 5, 5)  # Monday of week 1
CALENDAR = WorkingCalendar(bank_holidays=frozenset({BANK_HOLIDAY}))
TWO_DAYS = ChasePolicy(reminder_working_days_before=2, why="test")


def _at(day: int, hour: int = 9, month: int = 5) -> datetime:
    return datetime(2025, month, day, hour, 0, tzinfo=LONDON)


# Notified on Friday 2 May (the bank holiday brings notification forward). The lead selects
# children by 5pm Wednesday, between the local authority's Tuesday lists and the police's
# Thursday answers; both owe records by Tuesday of week 2.
SCHEDULE = Schedule(
    notification=date(2025, 5, 2),
    fieldwork_start=date(2025, 5, 19),
    deadlines=tuple(
        ScheduledDeadline(key=key, quote=quote, due=due, moved=False)
        for key, quote, due in (
            ("lists_tue", "By 5pm on Tuesday in week 1", _at(6, 17)),
            ("lead_selects_wed", "By 5pm on Wednesday", _at(7, 17)),
            ("answers_thu", "By 5pm on Thursday", _at(8, 17)),
            ("records_w2_tue", "by 5pm on Tuesday in week 2", _at(13, 17)),
        )
    ),
)
OWED = {
    "lists_tue": {"local_authority": ["list:ilacs_4"]},
    "answers_thu": {"police": ["answers"]},
    "records_w2_tue": {"local_authority": ["1.1"], "police": ["3.1"]},
}
CONTACTS = Contacts(
    lead_inspector=("lead@inspectorate.example",),
    agencies={"local_authority": ("la@council.example",), "police": ("police@force.example",)},
)


def _states(as_of: datetime) -> list[DeadlineState]:
    """Nothing has been sent: every item owed is missing, and overdue once its deadline
    has passed."""
    due = SCHEDULE.due_times()
    states = []
    for deadline, by_agency in OWED.items():
        for agency, numbers in by_agency.items():
            items = tuple(ItemState(n, f"Item {n}", False, 0, 0, (), 0) for n in numbers)
            missing = tuple(numbers)
            states.append(
                DeadlineState(
                    agency=agency,
                    deadline=deadline,
                    due=due[deadline],
                    items=items,
                    required=len(numbers),
                    accepted=0,
                    missing=missing,
                    overdue=missing if due[deadline] <= as_of else (),
                    rejected=(),
                )
            )
    return states


def _plan(as_of: datetime, policy: ChasePolicy = TWO_DAYS) -> list[PlannedMessage]:
    return plan_chase(
        "insp1",
        "Mayshire",
        SCHEDULE,
        _states(as_of),
        CONTACTS,
        as_of,
        CALENDAR,
        "Upload at https://portal.example",
        policy,
    )


def _reminded(messages: list[PlannedMessage]) -> set[tuple[str | None, str]]:
    return {(m.agency, m.deadline) for m in messages if m.kind is MessageKind.reminder}


def test_a_bank_holiday_in_the_window_is_not_counted_and_gets_nothing() -> None:
    # Two working days before Tuesday 6 May, with Monday 5 May a bank holiday: Friday 2 May.
    assert reminder_window_opens(_at(6, 17), SCHEDULE.notification, TWO_DAYS, CALENDAR) == date(
        2025, 5, 2
    )
    assert _reminded(_plan(_at(2))) == {("local_authority", "lists_tue")}
    assert _plan(_at(5)) == [] and _plan(_at(5, 12)) == []


def test_nobody_is_reminded_before_the_inspection_is_notified() -> None:
    week_ahead = ChasePolicy(reminder_working_days_before=5, why="test")
    assert _reminded(_plan(_at(1), week_ahead)) == set()
    assert _reminded(_plan(_at(2), week_ahead)) == {
        ("local_authority", "lists_tue"),
        ("police", "answers_thu"),
    }


def test_when_the_due_day_is_the_windows_first_working_day_the_reminder_goes_that_morning() -> None:
    on_the_day = ChasePolicy(reminder_working_days_before=0, why="test")
    assert _reminded(_plan(_at(7, 9), on_the_day)) == set()
    assert _reminded(_plan(_at(8, 9), on_the_day)) == {("police", "answers_thu")}
    assert _reminded(_plan(_at(8, 18), on_the_day)) == set()  # the deadline has passed


def test_the_leads_own_deadline_reminds_nobody_and_hides_no_agency_deadline() -> None:
    # Wednesday morning: the next deadline is the lead's, yet the police are reminded of
    # Thursday's answers (their window opened on Tuesday).
    wednesday = _plan(_at(7))
    assert _reminded(wednesday) == {("police", "answers_thu")}
    assert all(m.deadline != "lead_selects_wed" for m in _plan(_at(8)) + wednesday)


def test_each_agency_is_reminded_once_per_own_deadline_at_the_first_run_of_its_window() -> None:
    outbox: dict[str, date] = {}
    day = date(2025, 5, 1)
    while day < date(2025, 5, 19):
        for hour in (9, 12):
            for message in _plan(
                datetime.combine(day, datetime.min.time(), LONDON).replace(hour=hour)
            ):
                if message.kind is MessageKind.reminder:
                    outbox.setdefault(message.key, day)
        day += timedelta(days=1)
    assert outbox == {
        "insp1:local_authority:lists_tue:reminder": date(2025, 5, 2),
        "insp1:police:answers_thu:reminder": date(2025, 5, 6),
        "insp1:local_authority:records_w2_tue:reminder": date(2025, 5, 9),
        "insp1:police:records_w2_tue:reminder": date(2025, 5, 9),
    }


def test_a_rerun_plans_nothing_new() -> None:
    first = {m.key for m in _plan(_at(6, 9))}
    assert first == {
        "insp1:local_authority:lists_tue:reminder",
        "insp1:police:answers_thu:reminder",
    }
    assert {m.key for m in _plan(_at(6, 9))} == first
    assert {m.key for m in _plan(_at(6, 12))} == first


def test_overdue_notices_and_the_leads_alert_still_follow_a_passed_deadline() -> None:
    wednesday = _plan(_at(7))
    assert {
        (m.kind, m.agency, m.deadline) for m in wednesday if m.kind is not MessageKind.reminder
    } == {
        (MessageKind.overdue_notice, "local_authority", "lists_tue"),
        (MessageKind.lead_alert, None, "lists_tue"),
    }


def test_a_deadline_that_depends_on_another_is_reminded_only_after_that_one_passes() -> None:
    # Case records of the children the lead chooses by 11am Friday: their window opens on
    # Friday (two working days before Tuesday), but the reminder waits for the choice, so
    # it names every child's slot; the noon run sends it.
    choose = ScheduledDeadline(
        key="choose_fri", quote="By 11am on Friday", due=_at(9, 11), moved=False
    )
    records = SCHEDULE.deadlines[-1].model_copy(update={"depends_on": ("choose_fri",)})
    schedule = SCHEDULE.model_copy(
        update={"deadlines": (*SCHEDULE.deadlines[:-1], choose, records)}
    )

    def reminded(as_of: datetime) -> set[tuple[str | None, str]]:
        states = _states(as_of)
        return _reminded(
            plan_chase(
                "insp1", "Mayshire", schedule, states, CONTACTS, as_of, CALENDAR, "", TWO_DAYS
            )
        )

    assert ("local_authority", "records_w2_tue") not in reminded(_at(9, 9))
    assert {("local_authority", "records_w2_tue"), ("police", "records_w2_tue")} <= reminded(
        _at(9, 12)
    )


def test_a_reminder_does_not_wait_for_a_prerequisite_due_the_working_day_before() -> None:
    # The police's Thursday answers depend on the lead's Wednesday shortlist, but no
    # working day lies between them: the reminder goes on Tuesday, not on Thursday itself.
    answers = SCHEDULE.deadlines[2].model_copy(update={"depends_on": ("lead_selects_wed",)})
    schedule = SCHEDULE.model_copy(
        update={"deadlines": (*SCHEDULE.deadlines[:2], answers, SCHEDULE.deadlines[3])}
    )
    as_of = _at(6, 9)
    planned = plan_chase(
        "insp1", "Mayshire", schedule, _states(as_of), CONTACTS, as_of, CALENDAR, "", TWO_DAYS
    )
    assert ("police", "answers_thu") in _reminded(planned)
