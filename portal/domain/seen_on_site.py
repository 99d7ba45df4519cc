"""Case records to be seen on site, not sent: which slots are, the arrangement an agency
confirms instead of uploading, and the refusal of an upload into such a slot.

"The particular sensitivity of health information means that inspectors will usually ask
to see these records when they are on site and not electronically before fieldwork" (004,
case records); "If this is not possible, the local agencies should liaise with the
relevant inspectorate to give access to this information during fieldwork" (001 para 118).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.checklist import ThemePolicy
from portal.domain.onsite import Fieldwork

WHERE_MOST = 200
"""The most characters an arrangement's "where and how" may hold: a room and a way in."""

WHERE_HINT = (
    "Where and how inspectors will see the records, for example “Room 4, Civic Centre: a "
    "practitioner opens the health record system”. Do not write a child’s name: use "
    "their unique ID only."
)


class MarkedBy(StrEnum):
    """Who said a slot's records are to be seen on site."""

    theme = "theme"
    lead = "lead"


class OnSiteRecord(BaseModel):
    """What the portal holds about one slot (child x agency) to be seen on site: the
    lead's mark (if the lead made it), the agency's arrangement, and when it was seen."""

    model_config = ConfigDict(frozen=True)

    child_id: str
    agency: str
    marked_by: str | None = None
    marked_at: datetime | None = None
    where: str | None = None
    day: date | None = None
    arranged_by: str | None = None
    arranged_at: datetime | None = None
    seen_by: str | None = None
    seen_at: datetime | None = None

    @property
    def arranged(self) -> bool:
        """The agency has confirmed where and when."""
        return self.where is not None and self.day is not None


class ArrangementProblem(StrEnum):
    """Why an arrangement was refused (a stable code for the API)."""

    where_missing = "where_missing"
    where_too_long = "where_too_long"
    no_fieldwork = "no_fieldwork"
    day_outside_fieldwork = "day_outside_fieldwork"


def marked_on_site(theme: ThemePolicy, agency: str, record: OnSiteRecord | None) -> MarkedBy | None:
    """Whether one slot's records are to be seen on site, and who said so: the theme (its
    case-record request for the agency quotes the guidance) or the lead for this
    inspection; None if they are to be uploaded."""
    request = next((r for r in theme.case_records if r.agency == agency), None)
    if request is not None and request.seen_on_site is not None:
        return MarkedBy.theme
    if record is not None and record.marked_at is not None:
        return MarkedBy.lead
    return None


def decide_arrangement(
    where: str, day: date, fieldwork: Fieldwork | None
) -> tuple[ArrangementProblem, str] | None:
    """None if the arrangement may be confirmed, else the problem and what to do: the
    where-and-how is short free text, and the day lies inside the inspection's fieldwork."""
    text = where.strip()
    if not text:
        return ArrangementProblem.where_missing, "Say where and how inspectors will see it."
    if len(text) > WHERE_MOST:
        return (
            ArrangementProblem.where_too_long,
            f"Keep where and how to {WHERE_MOST} characters or fewer: a place and a way in.",
        )
    if fieldwork is None:
        return (
            ArrangementProblem.no_fieldwork,
            "The inspection has no fieldwork days yet; confirm the arrangement once the "
            "lead inspector has set them.",
        )
    if not fieldwork.first_day <= day <= fieldwork.last_day:
        return (
            ArrangementProblem.day_outside_fieldwork,
            f"Choose a day of fieldwork: {fieldwork.words()}.",
        )
    return None


SEEN_ON_SITE_ONLY = "seen_on_site_only"

SEEN_ON_SITE_ONLY_DETAIL = (
    "Do not upload these records: inspectors will see them on site during fieldwork. "
    "Instead, on your checklist page, confirm where and when inspectors can see them "
    "(case records of child {child_id})."
)


def arrangement_words(record: OnSiteRecord | None) -> str:
    """What the lead reads about a slot to be seen on site, e.g. 'to be seen on site:
    arranged (Room 4, Tuesday 9 March 2027)'."""
    if record is None or not record.arranged or record.day is None:
        return "to be seen on site: not yet arranged"
    words = f"to be seen on site: arranged ({record.where}, {record.day:%A} {record.day.day} "
    words += f"{record.day:%B %Y})"
    if record.seen_at is not None:
        words += f"; seen on {record.seen_at:%d %B %Y}"
    return words


def arranged_slots(
    theme: ThemePolicy, records: Iterable[OnSiteRecord], as_of: datetime
) -> list[tuple[str, str]]:
    """The (agency, child) of every slot to be seen on site whose arrangement had been
    confirmed by `as_of`: completeness counts these as provided."""
    return [
        (r.agency, r.child_id)
        for r in records
        if r.arranged
        and r.arranged_at is not None
        and r.arranged_at <= as_of
        and marked_on_site(theme, r.agency, r) is not None
    ]
