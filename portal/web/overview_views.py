"""What the inspections list and an inspection's overview show: each inspection's days and
state, and the lead inspector's tasks in the order of the inspection with how far each
has got (GOV.UK's task list). No I/O and no HTML here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from portal.domain.access import Inspection, InspectionState
from portal.domain.authorization import Permission
from portal.domain.checklist import ThemePolicy
from portal.domain.inspection_days import say_day
from portal.services.progress import InspectionProgress
from portal.web.views import Tag


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


# -- the inspections list ------------------------------------------------------------------

STATE_TAGS = {
    InspectionState.open: Tag("Open", "green"),
    InspectionState.closed: Tag("Closed", "grey"),
    InspectionState.withdrawn: Tag("Withdrawn", "grey"),
}


@dataclass(frozen=True)
class Action:
    """A link to one thing a person may do for an inspection."""

    text: str
    href: str


@dataclass(frozen=True)
class InspectionRow:
    """One inspection in the list."""

    id: str
    theme: str
    area: str
    notification: str
    fieldwork: str
    state: Tag
    actions: tuple[Action, ...]


INSPECTION_ACTIONS = (
    ("Timeline", "timeline", Permission.view_inspection),
    ("People and tokens", "people", Permission.manage_users),
    ("On-site viewing", "onsite", Permission.manage_inspection),
)
"""What the list links to for each inspection, and who may follow each link."""


def inspection_row(
    inspection: Inspection,
    themes: Mapping[str, ThemePolicy],
    notification: date | None,
    allowed: frozenset[Permission],
) -> InspectionRow:
    """An inspection as the list shows it: its theme's title, its area, its notification
    day (`notification`: as its timeline gives it) and fieldwork start, its state, and the
    pages of it open to someone with the `allowed` permissions in it."""
    theme = themes.get(inspection.theme_key)
    base = f"/inspections/{inspection.id}"
    return InspectionRow(
        id=inspection.id,
        theme=theme.title if theme else inspection.theme_key,
        area=inspection.area_name,
        notification=say_day(notification) if notification else "Not set",
        fieldwork=say_day(inspection.fieldwork_start) if inspection.fieldwork_start else "Not set",
        state=STATE_TAGS[inspection.state],
        actions=tuple(
            Action(text, f"{base}/{page}")
            for text, page, permission in INSPECTION_ACTIONS
            if permission in allowed
        ),
    )


# -- the lead inspector's overview ----------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """A task's status: plain words, a coloured tag, or "Cannot start yet" (not a link)."""

    text: str
    colour: str = ""
    cannot_start: bool = False


COMPLETED = Status("Completed")
IN_PROGRESS = Status("In progress", "light-blue")
NOT_STARTED = Status("Not yet started", "blue")
CANNOT_START = Status("Cannot start yet", cannot_start=True)


@dataclass(frozen=True)
class Task:
    """One of the lead's tasks: the page that does it and how far it has got (no status
    for a task whose page says it)."""

    key: str
    name: str
    href: str
    hint: str
    status: Status | None
    permission: Permission


@dataclass(frozen=True)
class TaskGroup:
    heading: str
    tasks: tuple[Task, ...]


def _done(done: int, total: int) -> Status:
    if done and done >= total:
        return COMPLETED
    return IN_PROGRESS if done else NOT_STARTED


def _setting_up(progress: InspectionProgress, base: str) -> TaskGroup:
    inspection = progress.inspection
    agencies = len(inspection.agencies)
    return TaskGroup(
        "Set up the inspection",
        (
            Task(
                "days",
                "The inspection’s days",
                f"{base}/days",
                f"Fieldwork starts {say_day(inspection.fieldwork_start)}"
                if inspection.fieldwork_start
                else "The notification day or the fieldwork start: the other follows",
                COMPLETED if progress.dated else NOT_STARTED,
                Permission.manage_inspection,
            ),
            Task(
                "people",
                "People and tokens",
                f"{base}/people",
                f"Someone to upload for {progress.agencies_with_uploader} of "
                f"{_plural(agencies, 'agency', 'agencies')}",
                _done(progress.agencies_with_uploader, agencies),
                Permission.manage_users,
            ),
            Task(
                "onsite",
                "On-site viewing of health records",
                f"{base}/onsite",
                "The venues’ networks and when, during fieldwork, health records may be read",
                COMPLETED
                if progress.onsite_registered
                else (NOT_STARTED if progress.dated else CANNOT_START),
                Permission.manage_inspection,
            ),
        ),
    )


def _before_fieldwork(progress: InspectionProgress, base: str) -> TaskGroup:
    moved = progress.moved_deadlines
    if progress.to_audit:
        children = f"{progress.shortlisted} shortlisted, {progress.to_audit} to audit"
    elif progress.shortlisted:
        children = f"{progress.shortlisted} shortlisted; next, the children to audit"
    else:
        children = "The shortlist, then the children to audit from it"
    return TaskGroup(
        "Before fieldwork",
        (
            Task(
                "timeline",
                "Timeline",
                f"{base}/timeline",
                "Every deadline in order; move one when an agency needs more time",
                (Status(_plural(moved, "deadline") + " moved") if moved else Status("No moves"))
                if progress.dated
                else CANNOT_START,
                Permission.view_inspection,
            ),
            Task(
                "children",
                "Children",
                f"{base}/children",
                children,
                COMPLETED
                if progress.to_audit
                else (IN_PROGRESS if progress.shortlisted else NOT_STARTED),
                Permission.view_inspection,
            ),
            Task(
                "extra-items",
                "Ask an agency for more",
                f"{base}/extra-items",
                "Only in exceptional circumstances: an item beyond Annex A, with its deadline",
                Status(f"{progress.extra_items} asked" if progress.extra_items else "None asked"),
                Permission.manage_inspection,
            ),
        ),
    )


def _fieldwork(progress: InspectionProgress, base: str) -> TaskGroup:
    if progress.names_reduced:
        names = Status("Reduced to initials")
    else:
        names = Status(_plural(progress.names, "name") if progress.names else "No names")
    return TaskGroup(
        "During the inspection",
        (
            Task(
                "names",
                "Name register",
                f"{base}/names",
                "Names that connect a child’s records across agencies, until fieldwork ends",
                names,
                Permission.read_names,
            ),
            Task(
                "concerns",
                "Issues of concern",
                f"{base}/concerns",
                "Issues raised with an agency during fieldwork, and its response",
                _concerns_status(*progress.concerns),
                Permission.manage_inspection,
            ),
        ),
    )


def _concerns_status(raised: int, still_open: int, overdue: int) -> Status:
    if overdue:
        return Status(f"{overdue} overdue", "red")
    if still_open:
        return Status(f"{still_open} open", "light-blue")
    return (
        Status(f"{_plural(raised, 'concern')}, all completed") if raised else Status("None raised")
    )


def _after_fieldwork(progress: InspectionProgress, base: str) -> TaskGroup | None:
    if progress.letter_days is None:
        return None
    return TaskGroup(
        "After fieldwork",
        (
            Task(
                "letter",
                "The letter’s days",
                f"{base}/letter",
                "The draft shared, the final letter sent and published: the deadlines after "
                "fieldwork follow from them",
                _done(progress.letter_days, progress.letter_days_total),
                Permission.manage_inspection,
            ),
        ),
    )


def lead_tasks(progress: InspectionProgress, allowed: frozenset[Permission]) -> list[TaskGroup]:
    """The lead's tasks in the order of the inspection (set up; weeks before fieldwork;
    during it; after it), each with its status, keeping only those whose page is open to
    someone with the `allowed` permissions; a group left with none goes too."""
    base = f"/inspections/{progress.inspection.id}"
    groups = [
        _setting_up(progress, base),
        _before_fieldwork(progress, base),
        _fieldwork(progress, base),
        _after_fieldwork(progress, base),
    ]
    kept = []
    for group in groups:
        if group is None:
            continue
        tasks = tuple(t for t in group.tasks if t.permission in allowed)
        if tasks:
            kept.append(TaskGroup(group.heading, tasks))
    return kept


TRACKING = (
    (
        "Completeness",
        "completeness",
        "what each agency has sent for each deadline",
        Permission.view_completeness,
    ),
    (
        "Alerts",
        "alerts",
        "what is still missing before each deadline, and the reminders sent",
        Permission.manage_inspection,
    ),
    (
        "Documents",
        "documents",
        "every document the agencies have sent, and its status",
        Permission.view_document,
    ),
)


def tracking_links(inspection_id: str, allowed: frozenset[Permission]) -> list[Task]:
    """The pages that follow the inspection as it goes, open to someone with `allowed`."""
    return [
        Task(page, text, f"/inspections/{inspection_id}/{page}", hint, None, permission)
        for text, page, hint, permission in TRACKING
        if permission in allowed
    ]
