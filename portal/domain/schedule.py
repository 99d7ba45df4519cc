"""One inspection's schedule: its theme's named deadlines, computed and possibly moved."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from portal.domain.checklist import ThemePolicy
from portal.domain.timeline import (
    LONDON,
    Moment,
    WorkingCalendar,
    compute_deadlines,
    notification_day,
)


class ScheduledDeadline(BaseModel):
    """A deadline of one inspection, with the guidance's words for it."""

    model_config = ConfigDict(frozen=True)

    key: str
    quote: str
    due: datetime
    moved: bool


class Schedule(BaseModel):
    """When the inspection is notified, when fieldwork starts, and every deadline."""

    model_config = ConfigDict(frozen=True)

    notification: date
    fieldwork_start: date
    deadlines: tuple[ScheduledDeadline, ...]

    def due_times(self) -> dict[str, datetime]:
        """Deadline key -> due time."""
        return {d.key: d.due for d in self.deadlines}


def schedule_of(
    theme: ThemePolicy,
    fieldwork_start: date,
    calendar: WorkingCalendar,
    overrides: dict[str, datetime],
) -> Schedule | None:
    """The schedule of an inspection of `theme` whose fieldwork starts on `fieldwork_start`.

    None if the theme has no timeline. Deadlines come in due order; times are Europe/London.
    """
    if theme.timeline is None:
        return None
    rules = {key: named.rule for key, named in theme.timeline.deadlines.items()}
    due = compute_deadlines(rules, theme.timeline.shape, fieldwork_start, calendar, overrides)
    deadlines = sorted(
        (
            ScheduledDeadline(
                key=key,
                quote=theme.timeline.deadlines[key].quote,
                due=at.astimezone(LONDON),
                moved=key in overrides,
            )
            for key, at in due.items()
        ),
        key=lambda d: (d.due, d.key),
    )
    return Schedule(
        notification=notification_day(theme.timeline.shape, fieldwork_start, calendar),
        fieldwork_start=fieldwork_start,
        deadlines=tuple(deadlines),
    )


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
