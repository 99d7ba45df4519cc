"""What the pages show, worked out from the domain: deadlines in words, each item's
status as a tag, the completeness matrix. No I/O and no HTML here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from portal.domain import scope
from portal.domain.access import Principal, Role
from portal.domain.checklist import ThemePolicy
from portal.domain.completeness import DeadlineState, ItemState
from portal.domain.documents import Document, DocumentStatus
from portal.domain.reasons import WarningCode, reason_sentence, warning_sentence
from portal.domain.schedule import Schedule
from portal.domain.scope import CHILD_ITEMS, LIST_PREFIX
from portal.domain.selection import CHILD_ID_PATTERN
from portal.domain.timeline import LONDON

UNDATED = "undated"
"""The URL word for requirements with no deadline."""

_ANNEX_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_LIST_KEY = re.compile(r"^list:[a-z][a-z0-9_]*$")
_EXTRA_KEY = re.compile(r"^extra:[a-f0-9]{12}$")
_REQUEST_KEY = re.compile(r"^(request:[a-z][a-z0-9_]*)(?::(.+))?$")
_CHILD_ID = re.compile(CHILD_ID_PATTERN)


def time_words(moment: datetime) -> str:
    """A time the GOV.UK way: 5pm, 9:30am, midday, midnight (Europe/London)."""
    local = moment.astimezone(LONDON)
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def deadline_words(due: datetime, now: datetime | None = None) -> str:
    """A deadline as agencies read it: '5pm Tuesday 30 March' (with the year if it is
    not this year's)."""
    local = due.astimezone(LONDON)
    words = f"{time_words(local)} {local:%A} {local.day} {local:%B}"
    if now is not None and now.astimezone(LONDON).year != local.year:
        words += f" {local.year}"
    return words


def when_words(moment: datetime) -> str:
    """A moment in a sentence: '12:07am on 23 November 2026'."""
    local = moment.astimezone(LONDON)
    return f"{time_words(local)} on {local.day} {local:%B %Y}"


@dataclass(frozen=True)
class Tag:
    """A GOV.UK tag: its words and colour modifier (empty for the default blue)."""

    text: str
    colour: str = ""

    @property
    def classes(self) -> str:
        """The tag's CSS classes."""
        return "govuk-tag" + (f" govuk-tag--{self.colour}" if self.colour else "")


NOT_STARTED = Tag("Not started", "blue")
PROCESSING = Tag("Processing", "yellow")
ACCEPTED = Tag("Accepted", "green")
REJECTED = Tag("Rejected", "red")
RETRYING = Tag("Waiting to retry", "orange")
WITHDRAWN = Tag("Withdrawn", "red")


def item_tag(item: ItemState) -> Tag:
    """An item's status: accepted once anything is, else processing while something is
    being checked, else withdrawn if a document accepted for it was withdrawn (found
    infected on a rescan), else rejected if everything sent was, else not started."""
    if item.is_accepted:
        return ACCEPTED
    if item.pending:
        return PROCESSING
    if item.withdrawn:
        return WITHDRAWN
    if item.rejected:
        return REJECTED
    return NOT_STARTED


def shows_reasons(tag: Tag) -> bool:
    """Whether an item with this tag shows why its documents were not accepted or were
    withdrawn, and what to do."""
    return tag in (REJECTED, WITHDRAWN)


def document_tag(document: Document) -> Tag:
    """A document's status as a tag."""
    return {
        DocumentStatus.received: PROCESSING,
        DocumentStatus.processing: PROCESSING,
        DocumentStatus.accepted: ACCEPTED,
        DocumentStatus.rejected: REJECTED,
        DocumentStatus.failed: RETRYING,
        DocumentStatus.withdrawn: WITHDRAWN,
    }[document.status]


@dataclass(frozen=True)
class UploadTarget:
    """What an upload page is for: the form's `item` and `child_id`, from a checklist key
    ("1.4", "list:<key>", "case_record:<child>", "audit:<child>", "agency_audit:<child>",
    "request:<key>", "request:<key>:<child>", "extra:<id>")."""

    key: str
    item: str
    child_id: str | None = None


def target_of(key: str) -> UploadTarget | None:
    """The upload target a checklist key names, or None if it names none."""
    if _ANNEX_NUMBER.fullmatch(key) or _LIST_KEY.fullmatch(key) or _EXTRA_KEY.fullmatch(key):
        return UploadTarget(key=key, item=key)
    request = _REQUEST_KEY.fullmatch(key)
    if request is not None:
        item, child_id = request.group(1), request.group(2)
        if child_id is None or _CHILD_ID.fullmatch(child_id):
            return UploadTarget(key=key, item=item, child_id=child_id)
        return None
    kind, _, child = key.partition(":")
    if kind in CHILD_ITEMS and _CHILD_ID.fullmatch(child):
        return UploadTarget(key=key, item=kind, child_id=child)
    return None


def item_label(item: ItemState) -> str:
    """How the checklist names an item: its Annex A number and title, or the title alone."""
    if _ANNEX_NUMBER.fullmatch(item.number):
        return f"{item.number} {item.title}"
    return item.title[:1].upper() + item.title[1:]


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    tag: Tag
    hints: tuple[str, ...]
    action: str = "upload"  # the page the item links to: "upload", or "arrangement"
    href: str = ""  # or a page of its own: an issue of concern's


ARRANGED = Tag("Arranged", "green")
SEEN_ON_SITE_HINT = (
    "To be seen on site: do not upload. Confirm where and when inspectors can see these records."
)
CONCERN_HINT = (
    "An issue of concern: read it, upload your written response and sign the form off once "
    "the inspectors have shared their evaluation."
)


@dataclass(frozen=True)
class ChecklistGroup:
    """The items one agency owes by one deadline."""

    deadline: str
    heading: str
    quote: str
    overdue: bool
    accepted: int
    required: int
    items: tuple[ChecklistItem, ...]


def _sorted_states(states: list[DeadlineState]) -> list[DeadlineState]:
    return sorted(states, key=lambda s: (s.due is None, s.due or datetime.max, s.deadline or ""))


def checklist_groups(
    states: list[DeadlineState],
    agency: str,
    schedule: Schedule | None,
    now: datetime,
    seen_on_site: frozenset[str] = frozenset(),
    concerns: Mapping[str, str] | None = None,
) -> list[ChecklistGroup]:
    """One agency's checklist, grouped by deadline in due order; the keys in
    `seen_on_site` (case records to be seen on site) link to their arrangement page, those
    in `concerns` (issues of concern's written responses) to the concern's page."""
    quotes = {d.key: d.quote for d in schedule.deadlines} if schedule else {}
    groups = []
    for state in _sorted_states([s for s in states if s.agency == agency]):
        items = tuple(_checklist_item(item, seen_on_site, concerns or {}) for item in state.items)
        groups.append(
            ChecklistGroup(
                deadline=state.deadline or UNDATED,
                heading=(
                    f"Due by {deadline_words(state.due, now)}" if state.due else "No deadline set"
                ),
                quote=quotes.get(state.deadline or "", ""),
                overdue=bool(state.overdue),
                accepted=state.accepted,
                required=state.required,
                items=items,
            )
        )
    return groups


def _checklist_item(
    item: ItemState, seen_on_site: frozenset[str], concerns: Mapping[str, str]
) -> ChecklistItem:
    if item.number in concerns:
        return ChecklistItem(
            key=item.number,
            label=item_label(item),
            tag=item_tag(item),
            hints=(CONCERN_HINT, *_item_hints(item)),
            href=concerns[item.number],
        )
    if item.number in seen_on_site:
        return ChecklistItem(
            key=item.number,
            label=item_label(item),
            tag=ARRANGED if item.arranged else NOT_STARTED,
            hints=(SEEN_ON_SITE_HINT,),
            action="arrangement",
        )
    return ChecklistItem(
        key=item.number, label=item_label(item), tag=item_tag(item), hints=_item_hints(item)
    )


def _item_hints(item: ItemState) -> tuple[str, ...]:
    hints: list[str] = []
    if item.optional:
        hints.append("Optional.")
    if shows_reasons(item_tag(item)):
        hints += [reason_sentence(r) for r in item.rejection_reasons]
    return tuple(hints)


@dataclass(frozen=True)
class MatrixCell:
    deadline: str
    required: int
    accepted: int
    missing: int
    overdue: int
    rejected: int
    asked: bool


@dataclass(frozen=True)
class MatrixRow:
    agency: str
    name: str
    cells: tuple[MatrixCell, ...]


@dataclass(frozen=True)
class MatrixColumn:
    deadline: str
    heading: str


@dataclass(frozen=True)
class Matrix:
    columns: tuple[MatrixColumn, ...]
    rows: tuple[MatrixRow, ...]


def agency_name(theme: ThemePolicy, code: str) -> str:
    """The theme's name for an agency ('The local authority'), or its code."""
    agency = theme.agency(code)
    if agency is not None:
        return agency.name
    return code.replace("_", " ").capitalize()


def completeness_matrix(
    states: list[DeadlineState], theme: ThemePolicy, agencies: tuple[str, ...], now: datetime
) -> Matrix:
    """Agencies down, deadlines across (in due order), counts in each cell."""
    columns: dict[str, MatrixColumn] = {}
    for state in _sorted_states(states):
        key = state.deadline or UNDATED
        if key not in columns:
            heading = deadline_words(state.due, now) if state.due else "No deadline"
            columns[key] = MatrixColumn(deadline=key, heading=heading)
    by_cell = {(s.agency, s.deadline or UNDATED): s for s in states}
    order = list(agencies) + sorted({s.agency for s in states} - set(agencies))
    rows = []
    for agency in order:
        if not any(s.agency == agency for s in states):
            continue
        cells = []
        for column in columns.values():
            cell = by_cell.get((agency, column.deadline))
            cells.append(
                MatrixCell(
                    deadline=column.deadline,
                    required=cell.required if cell else 0,
                    accepted=cell.accepted if cell else 0,
                    missing=len(cell.missing) if cell else 0,
                    overdue=len(cell.overdue) if cell else 0,
                    rejected=len(cell.rejected) if cell else 0,
                    asked=cell is not None,
                )
            )
        rows.append(MatrixRow(agency=agency, name=agency_name(theme, agency), cells=tuple(cells)))
    return Matrix(columns=tuple(columns.values()), rows=tuple(rows))


@dataclass(frozen=True)
class DocumentView:
    """A document's status page."""

    heading: str
    tag: Tag
    final: bool
    message: str
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    decided_label: str = "Checked"
    again: str = ""
    """The words of the button that uploads for the same item again, if it has one."""


def document_view(document: Document) -> DocumentView:
    """The heading, tag and sentences of a document's status page."""
    reasons = tuple(reason_sentence(r) for r in document.reasons)
    warnings = tuple(
        f"{warning_sentence(w)} What we found: {document.detail}."
        if w is WarningCode.mix_not_met and document.detail
        else warning_sentence(w)
        for w in document.warnings
    )
    tag = document_tag(document)
    if document.status is DocumentStatus.accepted:
        return DocumentView(
            heading="Your file was accepted",
            tag=tag,
            final=True,
            message="The inspectors can now read it. You do not need to do anything else "
            "for this file.",
            reasons=(),
            warnings=warnings,
        )
    if document.status is DocumentStatus.rejected:
        return DocumentView(
            heading="Your file was not accepted",
            tag=tag,
            final=True,
            message="The inspectors cannot see this file. Do what it says below, then upload "
            "the file again.",
            reasons=reasons,
            warnings=(),
            again="Upload the file again",
        )
    if document.status is DocumentStatus.withdrawn:
        return DocumentView(
            heading="Your file was withdrawn",
            tag=tag,
            final=True,
            message="The inspectors can no longer open this file, and the item counts as "
            "missing again until you send a clean copy.",
            reasons=reasons,
            warnings=(),
            decided_label="Withdrawn",
            again="Upload a clean copy",
        )
    if document.status is DocumentStatus.failed:
        return DocumentView(
            heading="We are still checking your file",
            tag=tag,
            final=False,
            message="Checking stopped because one of our services was unavailable. It will be "
            "checked again automatically; you do not need to upload it again.",
            reasons=reasons,
            warnings=(),
        )
    return DocumentView(
        heading="We are checking your file",
        tag=tag,
        final=False,
        message="We scan every file for viruses and check it is what the inspectors asked for. "
        "This usually takes a few seconds.",
        reasons=(),
        warnings=(),
    )


def nav_links(principal: Principal) -> list[tuple[str, str]]:
    """The pages a person's role works with, as (link text, path), their start page first.

    The lead's are few: "Your inspection" lists every task of theirs in the order of the
    inspection (the days, people, on-site viewing, timeline, children, extra items, names,
    issues of concern, the letter), so the menu keeps only what they come back to daily.
    """
    if principal.role is Role.records_officer:
        return [
            ("Retention", "/retention"),
            ("Legal holds", "/retention/holds"),
            ("Deletion records", "/retention/runs"),
        ]
    if principal.role is Role.admin:
        return [
            ("Inspections", "/inspections"),
            ("Create an inspection", "/inspections/new"),
            ("Scanner", "/scanner"),
        ]
    inspection = principal.inspection_id
    if inspection is None:
        return []
    base = f"/inspections/{inspection}"
    if principal.role is Role.agency_uploader:
        return [("Your checklist", f"{base}/checklist")]
    if principal.role is Role.lead_inspector:
        return [
            ("Your inspection", base),
            ("Completeness", f"{base}/completeness"),
            ("Alerts", f"{base}/alerts"),
            ("Documents", f"{base}/documents"),
            ("Issues of concern", f"{base}/concerns"),
            ("Names", f"{base}/names"),
        ]
    if principal.role is Role.inspector:
        return [
            ("Completeness", f"{base}/completeness"),
            ("Documents", f"{base}/documents"),
            # Where an inspector records the case records seen on site.
            ("Children", f"{base}/children"),
            ("Issues of concern", f"{base}/concerns"),
            ("Names", f"{base}/names"),
        ]
    return []


def home_path(principal: Principal) -> str | None:
    """Where a person starts: the first of their role's pages."""
    links = nav_links(principal)
    return links[0][1] if links else None


def target_title(theme: ThemePolicy, item: str, child_id: str | None) -> str:
    """What a document was sent for, in words: '1.1 Local authority organisational
    structures', a list's title, or 'Case records of child C123'."""
    if _ANNEX_NUMBER.fullmatch(item):
        found = theme.find_item(item)
        return f"{item} {found[1].title}" if found else f"Item {item}"
    return scope.target_title(theme, item, child_id)


def item_description(theme: ThemePolicy, target: UploadTarget) -> str:
    """The guidance's description of an Annex A item (empty for other targets)."""
    found = theme.find_item(target.item) if _ANNEX_NUMBER.fullmatch(target.item) else None
    if found is not None:
        return found[1].description
    if target.item.startswith(LIST_PREFIX):
        key = target.item.removeprefix(LIST_PREFIX)
        listed = next((c for c in theme.child_lists if c.key == key), None)
        rows = "One row per child, with their unique ID (not their name)"
        columns = [f"“{f.name}”" for f in listed.extra_fields if f.heading] if listed else []
        if not columns:
            return rows
        return rows + f", and the column{'s' if len(columns) > 1 else ''} {', '.join(columns)}"
    return ""


DATE_PARTS = ("day", "month", "year")
_DATE_NUMBER = re.compile(r"^[0-9]{1,4}$")


def date_from_parts(
    parts: Mapping[str, str], subject: str, *, when_empty: str = ""
) -> tuple[date | None, str]:
    """A GOV.UK date input's day, month and year as a date, or the message saying what to
    fix in GOV.UK's words about `subject` ("The date of the document must include a month").
    An empty input gives (None, when_empty)."""
    values = {name: (parts.get(name) or "").strip() for name in DATE_PARTS}
    if not any(values.values()):
        return None, when_empty
    missing = [name for name in DATE_PARTS if not values[name]]
    if missing:
        return None, f"{subject} must include a " + " and ".join(missing)
    if not all(_DATE_NUMBER.fullmatch(value) for value in values.values()):
        return None, f"{subject} must be a real date, in numbers, for example 27 11 2026"
    try:
        return date(int(values["year"]), int(values["month"]), int(values["day"])), ""
    except ValueError:
        return None, f"{subject} must be a real date"
