"""England and Wales bank holidays, from the `holidays` library (kept current upstream)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from portal.domain.timeline import WorkingCalendar


@lru_cache(maxsize=32)
def england_and_wales_calendar(first_year: int, last_year: int) -> WorkingCalendar:
    """A working calendar with England and Wales bank holidays for the years given."""
    years = range(first_year, last_year + 1)
    england = holidays.country_holidays("GB", subdiv="ENG", years=years)
    wales = holidays.country_holidays("GB", subdiv="WLS", years=years)
    days: set[date] = set(england) | set(wales)
    return WorkingCalendar(bank_holidays=frozenset(days))


class EnglandAndWalesCalendars:
    """The WorkingCalendars port over the `holidays` package's England and Wales list."""

    def between(self, first_year: int, last_year: int) -> WorkingCalendar:
        """Working days from 1 January of `first_year` to 31 December of `last_year`."""
        return england_and_wales_calendar(first_year, last_year)
