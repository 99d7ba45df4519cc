"""Items the lead inspector asks for in one inspection, beyond the theme's own.

"the lead inspectors may request additional lists to those listed above" (004 para 127);
"Inspectors will not request any documents in addition to those outlined in Annex A,
unless there are exceptional circumstances" (002 para 17). Each such item is owed by one
agency by its own deadline, and is checked, counted and chased like any item of the
theme: the schedule gains a deadline per item (`with_extra_deadlines`) and completeness a
requirement per item (`extra_requirements`). An issue of concern (002 para 74 and Annex
C) is such an item too: its deadline is the date on the form, "Response and explanation
required by:", and its title and quote carry only its short reference, never the form's
free text (portal/domain/concerns.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal.domain.completeness import Requirement
from portal.domain.schedule import Schedule, ScheduledDeadline
from portal.domain.scope import EXTRA_PREFIX
from portal.domain.timeline import LONDON, Moment

EXTRA_ID_PATTERN = r"[a-f0-9]{12}"
DEADLINE_PREFIX = "extra_"
TITLE_MAX = 200
REF_LENGTH = 6
"""How many characters of an item's id make its short reference ("3f9a2c")."""


class ExtraKind(StrEnum):
    """What the lead asked for: a further list or document, or the written response to an
    issue of concern."""

    document = "document"
    issue_of_concern = "issue_of_concern"


class ExtraItem(BaseModel):
    """One item owed by one agency of one inspection, added by the lead (or, for an issue
    of concern, by an inspector). Its title is what the agency sees: never a child's name."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=f"^{EXTRA_ID_PATTERN}$")
    inspection_id: str
    agency: str
    kind: ExtraKind = ExtraKind.document
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    due: AwareDatetime
    added_by: str
    added_at: AwareDatetime

    @property
    def item(self) -> str:
        """The upload target of this item ("extra:<id>")."""
        return EXTRA_PREFIX + self.id

    @property
    def deadline_key(self) -> str:
        """The key of this item's own deadline in the inspection's schedule."""
        return DEADLINE_PREFIX + self.id

    @property
    def ref(self) -> str:
        """The item's short reference, as people say it ("issue of concern 3f9a2c")."""
        return self.id[:REF_LENGTH]

    @property
    def quote(self) -> str:
        """The words the timeline, checklist and reminders use for its deadline (for an
        issue of concern its reference only: the form's text may name a child)."""
        if self.kind is ExtraKind.issue_of_concern:
            # 002 Annex C, the form's own words.
            return f"Issue of concern {self.ref}. Response and explanation required by:"
        return f"Asked by the lead inspector: {self.title}"


def is_extra_deadline(key: str) -> bool:
    """Whether a deadline key names one of an inspection's own items."""
    return key.startswith(DEADLINE_PREFIX)


def with_extra_deadlines(
    schedule: Schedule, extras: Iterable[ExtraItem], moves: Mapping[str, datetime]
) -> Schedule:
    """The schedule with a deadline for each of the inspection's own items (moved where the
    lead moved it), all in due order; times are Europe/London."""
    added = [
        ScheduledDeadline(
            key=extra.deadline_key,
            quote=extra.quote,
            due=moves.get(extra.deadline_key, extra.due).astimezone(LONDON),
            moved=extra.deadline_key in moves,
        )
        for extra in extras
    ]
    if not added:
        return schedule
    deadlines = sorted((*schedule.deadlines, *added), key=lambda d: (d.due, d.key))
    return schedule.model_copy(update={"deadlines": tuple(deadlines)})


def extra_requirements(extras: Iterable[ExtraItem], agencies: Iterable[str]) -> list[Requirement]:
    """What the inspection's own items ask, one requirement each, for the agencies in
    scope (an item of an agency since taken out of the inspection asks nothing)."""
    in_scope = set(agencies)
    return [
        Requirement(
            agency=extra.agency,
            key=extra.item,
            title=extra.title,
            deadline=extra.deadline_key,
            item=extra.item,
        )
        for extra in extras
        if extra.agency in in_scope
    ]


class ExtraItemRequest(BaseModel):
    """What the lead asks of one agency: the title the agency sees and when it is due."""

    model_config = ConfigDict(extra="forbid")

    agency: str = Field(min_length=1, max_length=64)
    title: str = Field(
        min_length=1,
        max_length=TITLE_MAX,
        pattern=r"^[^\r\n]+$",
        description="What the agency sees on its checklist. Never a child's name: use the "
        "child's unique ID.",
    )
    due: Moment = Field(description="When it is due, with its UTC offset (Europe/London).")
    kind: ExtraKind = ExtraKind.document
