"""The guidance's timelines, computed with real England and Wales bank holidays."""

from datetime import date

from portal.adapters.bank_holidays import england_and_wales_calendar
from portal.domain.timeline import (
    Event,
    InWeek,
    TimelineShape,
    Weekday,
    WorkingDaysFrom,
    deadline_at,
    notification_day,
)

CALENDAR = england_and_wales_calendar(2024, 2027)
# Domestic abuse (Sept 2024), para 28: "On day 1 (10 working days before the fieldwork)".
DOMESTIC_ABUSE = TimelineShape(fieldwork_week=3, notification_working_days_before_fieldwork=10)
# Framework (Jan 2016), para 12: notification "nine working days before fieldwork begins";
# its table numbers working days from the notification (day 0) to publication (day 40).
FRAMEWORK_2016 = TimelineShape(fieldwork_week=3, notification_working_days_before_fieldwork=9)


def _framework_day(n: int, fieldwork_start: date) -> date:
    rule = WorkingDaysFrom(working_days=n, event=Event.notification)
    return deadline_at(rule, FRAMEWORK_2016, fieldwork_start, CALENDAR).date()


def test_framework_days_around_easter_2025_skip_good_friday_and_easter_monday() -> None:
    fieldwork = date(2025, 4, 28)
    assert notification_day(FRAMEWORK_2016, fieldwork, CALENDAR) == date(2025, 4, 11)
    assert _framework_day(2, fieldwork) == date(2025, 4, 15)
    assert _framework_day(5, fieldwork) == date(2025, 4, 22)  # after Good Friday, Easter Monday
    assert _framework_day(7, fieldwork) == date(2025, 4, 24)
    assert _framework_day(9, fieldwork) == fieldwork


def test_framework_publication_day_40_counts_past_the_late_may_bank_holiday() -> None:
    fieldwork = date(2025, 4, 28)
    # Day 9 is Monday 28 April; 31 working days on, skipping 5 and 26 May, is a Thursday
    # where the table says "usually Tuesday": the two bank holidays push it by two days.
    assert _framework_day(40, fieldwork) == date(2025, 6, 12)


def test_domestic_abuse_notification_moves_before_the_early_may_bank_holiday() -> None:
    assert notification_day(DOMESTIC_ABUSE, date(2025, 5, 12), CALENDAR) == date(2025, 4, 25)


def test_domestic_abuse_over_christmas_skips_christmas_boxing_day_and_new_year() -> None:
    assert notification_day(DOMESTIC_ABUSE, date(2026, 1, 5), CALENDAR) == date(2025, 12, 17)
    audits = WorkingDaysFrom(working_days=-2, event=Event.fieldwork_start)
    assert deadline_at(audits, DOMESTIC_ABUSE, date(2026, 1, 5), CALENDAR).date() == date(
        2025, 12, 31
    )


def test_a_week_2_tuesday_deadline_after_easter_monday_stays_on_tuesday() -> None:
    rule = InWeek(week=2, weekday=Weekday.tuesday)
    at = deadline_at(rule, DOMESTIC_ABUSE, date(2026, 4, 13), CALENDAR)
    assert at.date() == date(2026, 4, 7)  # Easter Monday is 6 April 2026
