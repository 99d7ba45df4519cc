"""One inspection's schedule: its theme's named deadlines, computed and possibly moved."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from portal.domain.checklist import ThemePolicy
from portal.domain.inspection_days import DayWarning, day_warnings, say_day
from portal.domain.timeline import (
    LONDON,
    Moment,
    WorkingCalendar,
    notification_day,
    rule_day,
)


class DayShift(BaseModel):
    """Why a deadline is not on the day the guidance's words give: a bank holiday on that
    day, or a deadline it depends on moved (by a bank holiday or the lead) onto or past
    it, so it follows on the next working day after that one."""

    model_config = ConfigDict(frozen=True)

    rule_day: date = Field(description="The day the guidance's words give.")
    bank_holidays: tuple[date, ...] = Field(
        default=(), description="The bank holidays it moved past."
    )
    after: str | None = Field(
        default=None, description="The deadline it must follow, if that is what moved it."
    )


class ScheduledDeadline(BaseModel):
    """A deadline of one inspection, with the guidance's words for it."""

    model_config = ConfigDict(frozen=True)

    key: str
    quote: str
    due: datetime
    moved: bool
    depends_on: tuple[str, ...] = ()
    shift: DayShift | None = None


class Schedule(BaseModel):
    """When the inspection is notified, when fieldwork starts, every deadline, and what
    the lead should know about them."""

    model_config = ConfigDict(frozen=True)

    notification: date
    fieldwork_start: date
    deadlines: tuple[ScheduledDeadline, ...]
    warnings: tuple[DayWarning, ...] = ()

    def due_times(self) -> dict[str, datetime]:
        """Deadline key -> due time."""
        return {d.key: d.due for d in self.deadlines}


def schedule_of(
    theme: ThemePolicy,
    fieldwork_start: date,
    calendar: WorkingCalendar,
    overrides: dict[str, datetime],
    notification: date | None = None,
) -> Schedule | None:
    """The schedule of an inspection of `theme` whose fieldwork starts on `fieldwork_start`
    (notified on `notification`, else on the day the theme's rule gives).

    None if the theme has no timeline. Deadlines come in due order; times are Europe/London.
    A deadline whose day is a bank holiday moves to the next working day; a deadline always
    falls on a later working day than those it depends on (moving later if a bank holiday
    moved one of them); the lead inspector's moves win. Warnings say where the days
    disagree with the theme's rule or a move breaks a dependency.
    """
    if theme.timeline is None:
        return None
    shape = theme.timeline.shape
    notified = notification or notification_day(shape, fieldwork_start, calendar)
    named = theme.timeline.deadlines
    unknown = sorted(set(overrides) - set(named))
    if unknown:
        raise ValueError(f"overrides name deadlines the theme does not have: {unknown}")
    naive = sorted(key for key, at in overrides.items() if at.tzinfo is None)
    if naive:
        raise ValueError(f"overrides need a time zone: {naive}")
    due: dict[str, datetime] = {}
    shifts: dict[str, DayShift] = {}
    for key in theme.timeline.in_dependency_order():
        if key in overrides:
            due[key] = overrides[key].astimezone(LONDON)
            continue
        due[key], shift = _place(key, theme, fieldwork_start, calendar, notified, due)
        if shift is not None:
            shifts[key] = shift
    deadlines = sorted(
        (
            ScheduledDeadline(
                key=key,
                quote=named[key].quote,
                due=at,
                moved=key in overrides,
                depends_on=named[key].depends_on,
                shift=shifts.get(key),
            )
            for key, at in due.items()
        ),
        key=lambda d: (d.due, d.key),
    )
    warnings = [
        *day_warnings(shape, notified, fieldwork_start, calendar),
        *order_warnings(deadlines),
    ]
    return Schedule(
        notification=notified,
        fieldwork_start=fieldwork_start,
        deadlines=tuple(deadlines),
        warnings=tuple(warnings),
    )


def _place(
    key: str,
    theme: ThemePolicy,
    fieldwork_start: date,
    calendar: WorkingCalendar,
    notification: date,
    placed: dict[str, datetime],
) -> tuple[datetime, DayShift | None]:
    assert theme.timeline is not None
    named = theme.timeline.deadlines[key]
    words_day = rule_day(named.rule, theme.timeline.shape, fieldwork_start, calendar, notification)
    day = calendar.on_or_after(words_day)
    after = None
    for prerequisite in named.depends_on:
        its_day = placed[prerequisite].astimezone(LONDON).date()
        if day <= its_day:
            day, after = calendar.on_or_after(its_day + timedelta(days=1)), prerequisite
    shift = None
    if day != words_day:
        holidays = tuple(
            d
            for d in (words_day + timedelta(days=n) for n in range((day - words_day).days))
            if d.weekday() < 5 and not calendar.is_working_day(d)
        )
        shift = DayShift(rule_day=words_day, bank_holidays=holidays, after=after)
    return datetime.combine(day, named.rule.at, tzinfo=LONDON), shift


def order_warnings(deadlines: list[ScheduledDeadline]) -> list[DayWarning]:
    """A warning for each deadline that does not fall on a later day than one it depends
    on (only a lead's move can do that)."""
    by_key = {d.key: d for d in deadlines}
    return [
        DayWarning(
            code="deadline_order",
            text=f"“{d.quote}” is due {say_moment(d.due)}, not after “{by_key[p].quote}” "
            f"({say_moment(by_key[p].due)}), which it depends on. Move one of them.",
        )
        for d in deadlines
        for p in d.depends_on
        if _day(d.due) <= _day(by_key[p].due)
    ]


def order_broken_by(deadlines: tuple[ScheduledDeadline, ...], key: str) -> str | None:
    """Words saying how deadline `key` breaks a dependency (it is due on or before a day
    of one it depends on, or on or after the day of one that depends on it), else None."""
    by_key = {d.key: d for d in deadlines}
    moved = by_key[key]
    for p in moved.depends_on:
        if _day(moved.due) <= _day(by_key[p].due):
            return (
                f"“{moved.quote}” depends on “{by_key[p].quote}” (due "
                f"{say_moment(by_key[p].due)}), so it must fall on a later working day."
            )
    for d in deadlines:
        if key in d.depends_on and _day(d.due) <= _day(moved.due):
            return (
                f"“{d.quote}” (due {say_moment(d.due)}) depends on “{moved.quote}”, so "
                f"“{moved.quote}” must fall on an earlier working day. Move that one first."
            )
    return None


def _day(at: datetime) -> date:
    return at.astimezone(LONDON).date()


def say_moment(at: datetime) -> str:
    """e.g. '5pm on Tuesday 23 March 2027' (Europe/London)."""
    local = at.astimezone(LONDON)
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'} on {say_day(local.date())}"


class DeadlineMove(BaseModel):
    """A lead inspector's new due time for one deadline, and why it moves."""

    model_config = ConfigDict(extra="forbid")

    due: Moment = Field(description="New due time, with its UTC offset.")
    reason: str = Field(min_length=1, max_length=500)


class MovedDeadline(BaseModel):
    """A deadline as it was moved: its new due time, who moved it, when and why."""

    model_config = ConfigDict(frozen=True)

    deadline: str
    due: datetime
    reason: str
    set_by: str
    set_at: datetime
