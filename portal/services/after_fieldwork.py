"""Use cases after fieldwork: recording the letter's days, and the deadlines they start
(the factual-accuracy round and the statement of action)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from portal.domain.access import Inspection, Principal
from portal.domain.after_fieldwork import (
    AfterFieldwork,
    AfterFieldworkPolicy,
    LetterStep,
    out_of_order,
)
from portal.domain.errors import Refusal, Refused
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container


def record_letter_days(
    container: Container,
    principal: Principal,
    inspection_id: str,
    days: Mapping[LetterStep, date],
) -> AfterFieldwork:
    """The inspection's after-fieldwork deadlines once each step in `days` is recorded (or
    corrected) as done on its day. Recording the letter published records retention's
    letter_published (the same record, so retention's clocks start from it). Refused
    conflict (`no_letter_steps`) if the theme has no after-fieldwork deadlines, invalid
    (`letter_days_out_of_order`, saying which, nothing recorded) if the draft would be
    shared after the final letter was sent or the letter published, or the final letter
    sent after publication; not_found if there is no such inspection."""
    inspection = load_inspection(container, inspection_id)
    _policy_or_refuse(container, inspection)
    recorded = {**container.records.letter_days(inspection.id), **days}
    broken = out_of_order(recorded)
    if broken is not None:
        raise Refused(
            Refusal.invalid,
            "letter_days_out_of_order",
            "The letter’s days are out of order",
            broken,
        )
    # One transaction: a failure leaves none of the days recorded, not some.
    container.records.set_letter_days(
        inspection.id, dict(days), principal.actor, container.clock.now()
    )
    return after_fieldwork(container, inspection.id)


def after_fieldwork(container: Container, inspection_id: str) -> AfterFieldwork:
    """The letter's recorded days and each after-fieldwork deadline of the inspection's
    theme: due (working days, England and Wales bank holidays) once its step is recorded,
    waiting before. Refused conflict (`no_letter_steps`) if the theme has none."""
    inspection = load_inspection(container, inspection_id)
    _policy_or_refuse(container, inspection)
    state = container.after_fieldwork(inspection)
    assert state is not None  # the theme sets after-fieldwork deadlines
    return state


def _policy_or_refuse(container: Container, inspection: Inspection) -> AfterFieldworkPolicy:
    policy = container.themes[inspection.theme_key].after_fieldwork
    if policy is None:
        raise Refused(
            Refusal.conflict,
            "no_letter_steps",
            "No after-fieldwork deadlines",
            "This inspection's theme sets no deadlines after fieldwork, so there are no "
            "letter days to record.",
        )
    return policy
