"""The inspection timeline: every deadline as an absolute Europe/London time.

Rules come from a theme's policy as data: "weekday + time in week N" (week numbers count
back from the fieldwork week) or "N working days before/after an event". Working days skip
weekends and the bank holidays handed in (the domain does no I/O: an adapter supplies them).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

LONDON = ZoneInfo("Europe/London")
FIVE_PM = time(17, 0)

_Day = TypeVar("_Day", bound=date)
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def within_service_years(value: _Day) -> _Day:
    """`value` itself if its day lies in 2000-2099; ValueError otherwise. Timelines,
    calendars and retention periods are computed from the days and times the portal
    takes, and those of year 1 or 9999 overflow."""
    day = value.date() if isinstance(value, datetime) else value  # in its own offset
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


Day = Annotated[date, AfterValidator(within_service_years)]
"""A date between 2000-01-01 and 2099-12-31."""
Moment = Annotated[AwareDatetime, AfterValidator(within_service_years)]
"""A time with its UTC offset, on a day between 2000-01-01 and 2099-12-31."""


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"

    @property
    def day_number(self) -> int:
        """Monday is 0, as date.weekday() counts."""
        return list(Weekday).index(self)


class Event(StrEnum):
    notification = "notification"
    fieldwork_start = "fieldwork_start"


class InWeek(BaseModel):
    """A weekday and time in week N of the inspection (e.g. 5pm on Tuesday in week 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["in_week"] = "in_week"
    week: int = Field(ge=1, le=12)
    weekday: Weekday
    at: time = FIVE_PM


class WorkingDaysFrom(BaseModel):
    """N working days after (N > 0) or before (N < 0) an event, at a time of day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["working_days"] = "working_days"
    working_days: int
    event: Event
    at: time = FIVE_PM


DeadlineRule = Annotated[InWeek | WorkingDaysFrom, Field(discriminator="kind")]


class WorkingCalendar(BaseModel):
    """Weekends and the given bank holidays are not working days."""

    model_config = ConfigDict(frozen=True)

    bank_holidays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a bank holiday."""
        return day.weekday() < 5 and day not in self.bank_holidays

    def add_working_days(self, day: date, count: int) -> date:
        """The date `count` working days after `day` (before, if negative); 0 gives `day`."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def on_or_after(self, day: date) -> date:
        """`day` if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


class TimelineShape(BaseModel):
    """How a theme's weeks sit around fieldwork."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fieldwork_week: int = Field(ge=1, le=12, description="Week number of the fieldwork week.")
    notification_working_days_before_fieldwork: int = Field(ge=1, le=40)
    notification_quote: str = Field(
        default="",
        description="The guidance's words for when notification comes, quoted exactly "
        "(shown with a warning when an inspection's days disagree with them).",
    )
    notification_source: str = Field(default="", description="Where they stand, e.g. 'para 25'.")


def notification_day(
    shape: TimelineShape, fieldwork_start: date, calendar: WorkingCalendar
) -> date:
    """The notification day: the given number of working days before fieldwork starts.

    Usually a Monday (or Tuesday); earlier when a bank holiday falls in between.
    """
    return calendar.add_working_days(
        fieldwork_start, -shape.notification_working_days_before_fieldwork
    )


def rule_day(
    rule: InWeek | WorkingDaysFrom,
    shape: TimelineShape,
    fieldwork_start: date,
    calendar: WorkingCalendar,
    notification: date | None = None,
) -> date:
    """The day a deadline rule's words name for one inspection, before any bank holiday
    moves it: the weekday of week N, or N working days from an event (from `notification`
    if given, else from the notification day the shape derives from fieldwork)."""
    if isinstance(rule, InWeek):
        fieldwork_monday = fieldwork_start - timedelta(days=fieldwork_start.weekday())
        monday = fieldwork_monday - timedelta(weeks=shape.fieldwork_week - rule.week)
        return monday + timedelta(days=rule.weekday.day_number)
    if rule.event is Event.fieldwork_start:
        anchor = fieldwork_start
    else:
        anchor = notification or notification_day(shape, fieldwork_start, calendar)
    return calendar.add_working_days(anchor, rule.working_days)


def deadline_at(
    rule: InWeek | WorkingDaysFrom,
    shape: TimelineShape,
    fieldwork_start: date,
    calendar: WorkingCalendar,
) -> datetime:
    """The absolute Europe/London time of one deadline rule for one inspection.

    A weekday that is a bank holiday moves to the next working day, so agencies never lose
    a working day to it.
    """
    day = calendar.on_or_after(rule_day(rule, shape, fieldwork_start, calendar))
    return datetime.combine(day, rule.at, tzinfo=LONDON)


def compute_deadlines(
    rules: dict[str, InWeek | WorkingDaysFrom],
    shape: TimelineShape,
    fieldwork_start: date,
    calendar: WorkingCalendar,
    overrides: dict[str, datetime] | None = None,
) -> dict[str, datetime]:
    """Every named deadline of one inspection; the lead inspector's overrides win.

    Overrides must name known deadlines and carry a time zone.
    """
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(rules))
    if unknown:
        raise ValueError(f"overrides name deadlines the theme does not have: {unknown}")
    naive = sorted(name for name, at in overrides.items() if at.tzinfo is None)
    if naive:
        raise ValueError(f"overrides need a time zone: {naive}")
    return {
        name: overrides[name].astimezone(LONDON)
        if name in overrides
        else deadline_at(rule, shape, fieldwork_start, calendar)
        for name, rule in rules.items()
    }
