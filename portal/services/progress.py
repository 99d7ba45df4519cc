"""How far an inspection's lead has got with each of their tasks, for the page that lists
them in the order of the inspection. Counts and flags only: never a name, a child's ID
or a document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from portal.domain.access import Inspection, Role
from portal.domain.after_fieldwork import LetterStep
from portal.domain.selection import Stage
from portal.services.concerns import concern_counts
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container


class InspectionProgress(BaseModel):
    """What has been done so far in one inspection, task by task."""

    model_config = ConfigDict(frozen=True)

    inspection: Inspection
    dated: bool
    """Whether the inspection has its days (so its deadlines)."""
    agencies_with_uploader: int
    """How many of its agencies have someone registered to upload (not disabled)."""
    onsite_registered: bool
    moved_deadlines: int
    shortlisted: int
    to_audit: int
    extra_items: int
    names: int
    names_reduced: bool
    letter_days: int | None
    """How many of the letter's days are recorded (None: its theme sets no letter days)."""
    letter_days_total: int = len(LetterStep)
    concerns: tuple[int, int, int] = (0, 0, 0)
    """Issues of concern: (raised, still open, overdue)."""


def progress_of(container: Container, inspection_id: str) -> InspectionProgress:
    """Each task's progress as of now; Refused not_found if there is no such inspection."""
    inspection = load_inspection(container, inspection_id)
    repository = container.repository
    uploaders = {
        user.agency
        for user in container.identities.users_of(inspection.id)
        if user.role is Role.agency_uploader and user.disabled_at is None
    }
    letter = container.after_fieldwork(inspection)
    return InspectionProgress(
        inspection=inspection,
        dated=inspection.fieldwork_start is not None,
        agencies_with_uploader=len(uploaders & set(inspection.agencies)),
        onsite_registered=repository.onsite_policy(inspection.id).window_start is not None,
        moved_deadlines=len({m.deadline for m in repository.deadline_moves(inspection.id)}),
        shortlisted=len(repository.selection(inspection.id, Stage.shortlist.value)),
        to_audit=len(repository.selection(inspection.id, Stage.audit.value)),
        extra_items=len(repository.extra_items(inspection.id)),
        names=len(container.records.names(inspection.id)),
        names_reduced=container.records.names_reduced_at(inspection.id) is not None,
        letter_days=len(letter.recorded) if letter is not None else None,
        concerns=concern_counts(container, inspection),
    )
