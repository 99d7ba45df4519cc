"""An inspection's two days: notification and the start of fieldwork.

The lead enters one or both. What is entered is kept as entered; a missing one is derived
from the theme's rule ("10 working days before the fieldwork begins", usually a Monday,
earlier when a bank holiday falls in weeks 1 or 2). Entered days that disagree with the
rule are kept, and the timeline says so (`day_warnings`): the portal never rewrites them.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.timeline import TimelineShape, WorkingCalendar, notification_day


class EnteredDay(StrEnum):
    """Which of the two days the lead entered (the other is derived)."""

    notification = "notification"
    fieldwork_start = "fieldwork_start"


class DaysRefused(ValueError):
    """Days an inspection cannot have, with a stable code and words for the lead."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class DayWarning(BaseModel):
    """Something about the days the lead should know; the days are kept as they are."""

    model_config = ConfigDict(frozen=True)

    code: str
    text: str


def settle_days(
    shape: TimelineShape | None,
    notification: date | None,
    fieldwork_start: date | None,
    calendar: WorkingCalendar,
) -> tuple[date | None, date | None]:
    """The inspection's (notification, fieldwork start): each as entered, the missing one
    derived from the theme's rule (left None if the theme has no timeline).

    Raises DaysRefused if an entered day is not a working day (`not_a_working_day`) or
    notification is not before fieldwork (`notification_after_fieldwork`).
    """
    for name, day in (("notification", notification), ("fieldwork start", fieldwork_start)):
        if day is not None and not calendar.is_working_day(day):
            raise DaysRefused(
                "not_a_working_day",
                f"The {name}, {say_day(day)}, is not a working day (a weekend or a bank "
                "holiday in England and Wales). Choose a working day.",
            )
    if shape is not None and fieldwork_start is None and notification is not None:
        fieldwork_start = fieldwork_after(shape, notification, calendar)
    if shape is not None and notification is None and fieldwork_start is not None:
        notification = notification_day(shape, fieldwork_start, calendar)
    if notification is not None and fieldwork_start is not None and notification >= fieldwork_start:
        raise DaysRefused(
            "notification_after_fieldwork",
            f"Notification ({say_day(notification)}) must come before fieldwork starts "
            f"({say_day(fieldwork_start)}).",
        )
    return notification, fieldwork_start


def entered_of(notification: date | None, fieldwork_start: date | None) -> frozenset[EnteredDay]:
    """Which of the two days were given."""
    return frozenset(
        day
        for day, value in (
            (EnteredDay.notification, notification),
            (EnteredDay.fieldwork_start, fieldwork_start),
        )
        if value is not None
    )


def fieldwork_after(shape: TimelineShape, notification: date, calendar: WorkingCalendar) -> date:
    """The fieldwork start that a notification on `notification` belongs to.

    The fieldwork day whose rule gives exactly this notification day, if one does (so a
    notification moved earlier by bank holidays finds its own fieldwork); otherwise the
    first working day of the fieldwork week counted from the notification's own week, as
    a lead who notified "on a Monday" of week 1 means.
    """
    monday = notification - timedelta(days=notification.weekday())
    first = monday + timedelta(weeks=shape.fieldwork_week - 1)
    for weeks in range(3):  # the rule may reach back into an earlier week; never further
        candidate = calendar.on_or_after(first + timedelta(weeks=weeks))
        if notification_day(shape, candidate, calendar) == notification:
            return candidate
    return calendar.on_or_after(first)


def day_warnings(
    shape: TimelineShape, notification: date, fieldwork_start: date, calendar: WorkingCalendar
) -> list[DayWarning]:
    """What the timeline tells the lead about the two days: a notification that is not the
    theme's number of working days before fieldwork, with the guidance's words and the day
    the rule would give."""
    expected = notification_day(shape, fieldwork_start, calendar)
    if notification == expected:
        return []
    between = working_days_between(notification, fieldwork_start, calendar)
    quoted = (
        f" The guidance says: “{shape.notification_quote}” ({shape.notification_source})."
        if shape.notification_quote
        else ""
    )
    return [
        DayWarning(
            code="notification_off_rule",
            text=f"Notification on {say_day(notification)} is {between} working days before "
            f"fieldwork starts on {say_day(fieldwork_start)}; the theme's rule is "
            f"{shape.notification_working_days_before_fieldwork}, which gives "
            f"{say_day(expected)}.{quoted} The days are kept as entered.",
        )
    ]


def working_days_between(first: date, last: date, calendar: WorkingCalendar) -> int:
    """How many working days from `first` (excluded) up to `last` (included)."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def say_day(day: date) -> str:
    """e.g. 'Monday 22 March 2027'."""
    return f"{day:%A} {day.day} {day:%B %Y}"
