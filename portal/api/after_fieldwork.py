"""After fieldwork: the letter's days and the deadlines they start."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import AfterFieldworkOut, LetterDayIn, LetterDeadlineOut
from portal.domain.after_fieldwork import AfterFieldwork, LetterStep
from portal.http.problems import problem_responses
from portal.services import after_fieldwork

router = APIRouter(tags=["after fieldwork"])


def _out(state: AfterFieldwork) -> AfterFieldworkOut:
    return AfterFieldworkOut(
        recorded={k.value: v for k, v in state.recorded.items()},
        deadlines=[
            LetterDeadlineOut(
                key=d.key.value,
                quote=d.quote,
                source=d.source,
                working_days=d.working_days,
                after=d.after.value,
                due=d.due,
                waiting_for=d.waiting_for,
            )
            for d in state.deadlines
        ],
    )


@router.get(
    "/v1/inspections/{inspection_id}/after-fieldwork",
    response_model=AfterFieldworkOut,
    responses=problem_responses(409),
)
def get_after_fieldwork(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> AfterFieldworkOut:
    """The letter's recorded days, the factual-accuracy deadline and the statement of
    action's, each due once its step is recorded (409 `no_letter_steps` if the theme sets
    none)."""
    return _out(after_fieldwork.after_fieldwork(container, inspection_id))


@router.put(
    "/v1/inspections/{inspection_id}/letter/{step}",
    response_model=AfterFieldworkOut,
    responses=problem_responses(409, 422),
)
def record_letter_day(
    inspection_id: str,
    step: LetterStep,
    body: LetterDayIn,
    principal: PrincipalDep,
    container: ContainerDep,
) -> AfterFieldworkOut:
    """Record (or correct) the day the draft letter was shared, the final letter sent or
    the letter published (which also starts retention's clocks: the event
    letter_published); returns the deadlines that follow (422 `letter_days_out_of_order`)."""
    return _out(
        after_fieldwork.record_letter_days(container, principal, inspection_id, {step: body.on})
    )
