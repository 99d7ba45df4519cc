"""Deadlines as absolute Europe/London times, counting working days around bank holidays."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from portal.domain.timeline import (
    LONDON,
    Event,
    InWeek,
    TimelineShape,
    Weekday,
    WorkingCalendar,
    WorkingDaysFrom,
    compute_deadlines,
    deadline_at,
    notification_day,
)

THREE_WEEKS = TimelineShape(fieldwork_week=3, notification_working_days_before_fieldwork=10)
EARLY_MAY_2025 = WorkingCalendar(bank_holidays=frozenset({date(2025, 5, 5)}))
NO_HOLIDAYS = WorkingCalendar()


def test_notification_is_the_monday_two_weeks_before_fieldwork_without_bank_holidays() -> None:
    assert notification_day(THREE_WEEKS, date(2025, 6, 16), NO_HOLIDAYS) == date(2025, 6, 2)


def test_a_bank_holiday_moves_notification_earlier() -> None:
    # Fieldwork Monday 12 May 2025; the early May bank holiday (5 May) is in week 2.
    assert notification_day(THREE_WEEKS, date(2025, 5, 12), EARLY_MAY_2025) == date(2025, 4, 25)


def test_a_weekday_deadline_is_5pm_london_time_in_its_week() -> None:
    rule = InWeek(week=1, weekday=Weekday.tuesday)
    at = deadline_at(rule, THREE_WEEKS, date(2025, 6, 16), NO_HOLIDAYS)
    assert at == datetime(2025, 6, 3, 17, 0, tzinfo=LONDON)
    assert at.astimezone(UTC) == datetime(2025, 6, 3, 16, 0, tzinfo=UTC)  # British Summer Time


def test_a_weekday_deadline_in_winter_is_5pm_gmt() -> None:
    rule = InWeek(week=2, weekday=Weekday.thursday)
    at = deadline_at(rule, THREE_WEEKS, date(2025, 11, 17), NO_HOLIDAYS)
    assert at.astimezone(UTC) == datetime(2025, 11, 13, 17, 0, tzinfo=UTC)


def test_deadlines_either_side_of_the_clocks_going_back_keep_5pm_local() -> None:
    # Clocks go back on Sunday 26 October 2025, between week 1 and week 2.
    rules = {
        "w1": InWeek(week=1, weekday=Weekday.thursday),
        "w2": InWeek(week=2, weekday=Weekday.tuesday),
    }
    deadlines = compute_deadlines(rules, THREE_WEEKS, date(2025, 11, 3), NO_HOLIDAYS)
    assert deadlines["w1"].utcoffset() == timedelta(hours=1)
    assert deadlines["w2"].utcoffset() == timedelta(0)
    assert all(d.timetz().replace(tzinfo=None) == time(17) for d in deadlines.values())


def test_a_weekday_that_is_a_bank_holiday_moves_to_the_next_working_day() -> None:
    rule = InWeek(week=2, weekday=Weekday.monday, at=time(11))
    at = deadline_at(rule, THREE_WEEKS, date(2025, 5, 12), EARLY_MAY_2025)
    assert at == datetime(2025, 5, 6, 11, 0, tzinfo=LONDON)


def test_working_days_before_fieldwork_skip_bank_holidays() -> None:
    rule = WorkingDaysFrom(working_days=-2, event=Event.fieldwork_start)
    calendar = WorkingCalendar(bank_holidays=frozenset({date(2025, 5, 9)}))
    at = deadline_at(rule, THREE_WEEKS, date(2025, 5, 12), calendar)
    assert at.date() == date(2025, 5, 7)


def test_working_days_after_notification_count_from_the_notification_day() -> None:
    rule = WorkingDaysFrom(working_days=3, event=Event.notification)
    at = deadline_at(rule, THREE_WEEKS, date(2025, 5, 12), EARLY_MAY_2025)
    # Notification Friday 25 April; 3 working days on is Wednesday 30 April.
    assert at.date() == date(2025, 4, 30)


def test_the_lead_inspectors_override_wins() -> None:
    rules = {"lists": InWeek(week=1, weekday=Weekday.tuesday)}
    moved = datetime(2025, 6, 4, 12, 0, tzinfo=LONDON)
    assert compute_deadlines(
        rules, THREE_WEEKS, date(2025, 6, 16), NO_HOLIDAYS, {"lists": moved}
    ) == {"lists": moved}


def test_an_override_of_an_unknown_deadline_is_refused() -> None:
    with pytest.raises(ValueError, match="nope"):
        compute_deadlines(
            {},
            THREE_WEEKS,
            date(2025, 6, 16),
            NO_HOLIDAYS,
            {"nope": datetime(2025, 6, 4, tzinfo=LONDON)},
        )


def test_an_override_without_a_time_zone_is_refused() -> None:
    rules = {"lists": InWeek(week=1, weekday=Weekday.tuesday)}
    with pytest.raises(ValueError, match="time zone"):
        compute_deadlines(
            rules, THREE_WEEKS, date(2025, 6, 16), NO_HOLIDAYS, {"lists": datetime(2025, 6, 4, 12)}
        )
