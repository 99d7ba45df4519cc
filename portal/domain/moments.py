"""Moments as the portal keeps them: timezone-aware, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utc_aware(value: datetime) -> datetime:
    """`value` unchanged if it carries its zone; a naive value read as UTC.

    SQLite drops the zone of the datetimes it stores, and every time the portal stores is
    UTC, so a naive time read back is a UTC time."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(utc_aware)]
"""A datetime that is always aware: naive values (read back from SQLite) are UTC."""
