"""Use cases on an inspection's timeline: moving one of its deadlines, and reading the
moves made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.domain.access import Inspection, Principal
from portal.domain.errors import Refusal, Refused
from portal.domain.schedule import DeadlineMove, MovedDeadline, order_broken_by
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container


def move_deadline(
    container: Container,
    principal: Principal,
    inspection_id: str,
    deadline: str,
    move: DeadlineMove,
) -> Inspection:
    """The inspection, its deadline `deadline` now due at `move.due` (replacing any earlier
    move), recorded with who moved it and why. Refused conflict (`no_timeline`) while the
    inspection has no deadlines, not_found (`unknown_deadline`, naming its deadlines) if it
    has none of that name, conflict (`deadline_order`, saying which) if it would no longer
    fall on a later working day than a deadline it depends on, or an earlier one than a
    deadline that depends on it."""
    inspection = load_inspection(container, inspection_id)
    schedule = container.schedule(inspection)
    if schedule is None:
        raise Refused(
            Refusal.conflict,
            "no_timeline",
            "No timeline yet",
            "This inspection has no fieldwork start (or its theme no timeline), so it "
            "has no deadlines to move.",
        )
    if deadline not in schedule.due_times():
        raise Refused(
            Refusal.not_found,
            "unknown_deadline",
            "No such deadline",
            f"This inspection has no deadline {deadline!r}; its deadlines are "
            f"{', '.join(schedule.due_times())}.",
        )
    proposed = container.schedule(inspection, proposed={deadline: move.due})
    broken = order_broken_by(proposed.deadlines, deadline) if proposed else None
    if broken is not None:
        raise Refused(
            Refusal.conflict, "deadline_order", "The deadlines would be out of order", broken
        )
    container.repository.set_deadline_override(
        inspection.id, deadline, move.due, move.reason, principal.actor, container.clock.now()
    )
    return inspection


def moved_deadlines(container: Container, inspection_id: str) -> list[MovedDeadline]:
    """Every deadline of the inspection that has been moved: to when, by whom, when, why."""
    return container.repository.deadline_moves(inspection_id)
