"""What the inspectors' documents page shows, worked out from the listing's entries:
documents grouped by agency and ordered by item, and for a health record the viewer may
not open here and now, where and when they can. No I/O and no HTML here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from portal.domain.checklist import ThemePolicy
from portal.domain.documents import DocumentStatus
from portal.domain.timeline import LONDON
from portal.domain.withdrawal import why_withdrawn
from portal.services.documents import DocumentEntry
from portal.web import views
from portal.web.scanner_views import scan_words

_ANNEX_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def size_words(size: int | None) -> str:
    """A file's size for people: '812 bytes', '14 KB', '2.3 MB'."""
    if size is None:
        return "Unknown"
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _day(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B}"


def window_words(start: datetime, end: datetime) -> str:
    """A fieldwork window: '9am Monday 7 December to 5pm Friday 11 December 2026', or
    'Monday 7 December 2026, 9am to 5pm' within one day."""
    first, last = start.astimezone(LONDON), end.astimezone(LONDON)
    if first.date() == last.date():
        hours = f"{views.time_words(first)} to {views.time_words(last)}"
        return f"{_day(last)} {last.year}, {hours}"
    opening = f"{views.time_words(first)} {_day(first)}"
    if first.year != last.year:
        opening += f" {first.year}"
    return f"{opening} to {views.time_words(last)} {_day(last)} {last.year}"


def where_and_when(
    area_name: str, window_start: datetime | None, window_end: datetime | None
) -> str:
    """Where and when a health record can be viewed, in a sentence."""
    if window_start is None or window_end is None:
        return (
            "Only on site, during fieldwork. No on-site network or fieldwork window is set "
            "for this inspection yet: ask the lead inspector."
        )
    return (
        f"Only on site, from the inspection venue's network in {area_name}, "
        f"{window_words(window_start, window_end)}."
    )


@dataclass(frozen=True)
class DocumentLine:
    """One document in the table: a link to read it, or why it cannot be read here now
    (for a withdrawn one, why it was withdrawn; `accepted` is then when it was withdrawn)."""

    id: str
    item: str
    title: str
    filename: str
    accepted: str
    size: str
    health_record: bool
    href: str
    not_here: str
    withdrawn: bool = False
    scanned: str = ""


@dataclass(frozen=True)
class AgencyDocuments:
    agency: str
    name: str
    lines: tuple[DocumentLine, ...]


def _item_order(entry: DocumentEntry) -> tuple[int, tuple[int, ...], str, str, datetime]:
    if _ANNEX_NUMBER.fullmatch(entry.item):
        return (0, tuple(int(part) for part in entry.item.split(".")), "", "", entry.received_at)
    return (1, (), entry.item, entry.child_id or "", entry.received_at)


def _line(entry: DocumentEntry, area_name: str, now: datetime) -> DocumentLine:
    viewing = entry.viewing
    href = f"/documents/{entry.id}/content" if viewing.readable_now else ""
    withdrawn = entry.status == DocumentStatus.withdrawn.value
    if href:
        not_here = ""
    elif withdrawn:
        not_here = why_withdrawn((r.code for r in entry.reasons), entry.decided_at)
    elif viewing.on_site_only and viewing.rule != "not_an_inspector_of_this_inspection":
        not_here = where_and_when(area_name, viewing.window_start, viewing.window_end)
        if viewing.window_end is not None and viewing.window_end < now:
            not_here += " Fieldwork has ended."
    else:
        not_here = "Only the inspection's inspectors can read documents."
    item = entry.item if _ANNEX_NUMBER.fullmatch(entry.item) else ""
    return DocumentLine(
        id=entry.id,
        item=item,
        title=entry.title,
        filename=entry.filename or "document",
        accepted=views.when_words(entry.decided_at) if entry.decided_at else "",
        size=size_words(entry.size_bytes),
        health_record=entry.health_record,
        href=href,
        not_here=not_here,
        withdrawn=withdrawn,
        scanned=scan_words(entry.scan),
    )


def agency_groups(
    entries: list[DocumentEntry],
    theme: ThemePolicy,
    agencies: tuple[str, ...],
    area_name: str,
    now: datetime,
) -> list[AgencyDocuments]:
    """The documents grouped by agency (the inspection's order), each group by item."""
    order = list(agencies) + sorted({e.agency for e in entries} - set(agencies))
    groups = []
    for agency in order:
        mine = sorted((e for e in entries if e.agency == agency), key=_item_order)
        if mine:
            groups.append(
                AgencyDocuments(
                    agency=agency,
                    name=views.agency_name(theme, agency),
                    lines=tuple(_line(e, area_name, now) for e in mine),
                )
            )
    return groups
