"""After fieldwork: the draft letter's factual-accuracy round, the final letter, its
publication, and the statement of action that follows.

The lead inspector records the days the letter reached each step; the theme's data says
how many working days after which step each deadline falls (quoting the guidance). A
deadline whose step is not recorded yet waits for it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field

from portal.domain.timeline import FIVE_PM, LONDON, WorkingCalendar

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class LetterStep(StrEnum):
    """A day in the letter's life that the lead inspector records, in the order they come."""

    draft_letter_shared = "draft_letter_shared"
    final_letter_sent = "final_letter_sent"
    letter_published = "letter_published"
    """The same day as retention's event of that name: recording one records the other."""

    @property
    def words(self) -> str:
        """The step as people say it."""
        return _STEP_WORDS[self]


_STEP_WORDS = {
    LetterStep.draft_letter_shared: "the draft letter shared for factual accuracy",
    LetterStep.final_letter_sent: "the final letter sent",
    LetterStep.letter_published: "the letter published",
}


class AfterFieldworkDeadline(StrEnum):
    factual_accuracy = "factual_accuracy"
    statement_of_action = "statement_of_action"


class LetterDeadlineRule(BaseModel):
    """A deadline N working days after a step of the letter, in the guidance's words."""

    model_config = _FROZEN

    working_days: int = Field(ge=1, le=200)
    after: LetterStep
    at: time = FIVE_PM
    quote: str = Field(min_length=1, description="The guidance's words, quoted exactly.")
    source: str = Field(min_length=1, description="Where they stand, e.g. 'para 103'.")


class AfterFieldworkPolicy(BaseModel):
    """A theme's after-fieldwork deadlines (policies/themes/*.yaml, `after_fieldwork`)."""

    model_config = _FROZEN

    factual_accuracy: LetterDeadlineRule | None = None
    statement_of_action: LetterDeadlineRule

    def rules(self) -> dict[AfterFieldworkDeadline, LetterDeadlineRule]:
        """Each deadline's rule, in the order they come (the factual-accuracy round only if
        the guidance gives its number of days)."""
        rules = {AfterFieldworkDeadline.statement_of_action: self.statement_of_action}
        if self.factual_accuracy is not None:
            return {AfterFieldworkDeadline.factual_accuracy: self.factual_accuracy, **rules}
        return rules


class LetterDeadline(BaseModel):
    """One after-fieldwork deadline of an inspection: due, or waiting for its step."""

    model_config = ConfigDict(frozen=True)

    key: AfterFieldworkDeadline
    quote: str
    source: str
    working_days: int
    after: LetterStep
    due: datetime | None = Field(description="None until `after` is recorded.")

    @property
    def waiting_for(self) -> str | None:
        """Words for what the deadline waits for, or None once it is computed."""
        return None if self.due is not None else f"Waiting for the day of {self.after.words}."


class AfterFieldwork(BaseModel):
    """The letter's recorded days and the deadlines they start."""

    model_config = ConfigDict(frozen=True)

    recorded: dict[LetterStep, date]
    deadlines: tuple[LetterDeadline, ...]

    def due_deadlines(self) -> tuple[LetterDeadline, ...]:
        """The deadlines whose step is recorded, so they have a due time."""
        return tuple(d for d in self.deadlines if d.due is not None)


def after_fieldwork_of(
    policy: AfterFieldworkPolicy, recorded: dict[LetterStep, date], calendar: WorkingCalendar
) -> AfterFieldwork:
    """Each after-fieldwork deadline: `working_days` working days (weekends and the
    calendar's bank holidays not counted) after the day its step was recorded, at the
    rule's time, Europe/London; None (waiting) while that step is not recorded. A step
    recorded on a day that is not a working day counts from that day all the same."""
    deadlines = []
    for key, rule in policy.rules().items():
        start = recorded.get(rule.after)
        due = (
            None
            if start is None
            else datetime.combine(
                calendar.add_working_days(start, rule.working_days), rule.at, tzinfo=LONDON
            )
        )
        deadlines.append(
            LetterDeadline(
                key=key,
                quote=rule.quote,
                source=rule.source,
                working_days=rule.working_days,
                after=rule.after,
                due=due,
            )
        )
    return AfterFieldwork(recorded=dict(recorded), deadlines=tuple(deadlines))


def out_of_order(recorded: dict[LetterStep, date]) -> str | None:
    """Words saying which recorded step comes before one it must follow (the draft is
    shared before the final letter is sent, which is on or before publication), else None."""
    for earlier, later in combinations(LetterStep, 2):
        if earlier in recorded and later in recorded and recorded[later] < recorded[earlier]:
            return (
                f"The day of {later.words} ({recorded[later]:%d %B %Y}) is before the day of "
                f"{earlier.words} ({recorded[earlier]:%d %B %Y}). Check both days."
            )
    return None
