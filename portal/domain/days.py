"""The days and times the portal takes: 2000-2099, so that timelines, calendars and
retention periods computed from them never overflow."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, AwareDatetime

_Day = TypeVar("_Day", bound=date)
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def _within_service_years(value: _Day) -> _Day:
    """Days and times the portal takes lie in 2000-2099: timelines, calendars and
    retention periods are computed from them, and those of year 1 or 9999 overflow."""
    day = value.date() if isinstance(value, datetime) else value  # in its own offset
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


Day = Annotated[date, AfterValidator(_within_service_years)]
"""A date between 2000-01-01 and 2099-12-31."""
Moment = Annotated[AwareDatetime, AfterValidator(_within_service_years)]
"""A time with its UTC offset, on a day between 2000-01-01 and 2099-12-31."""
