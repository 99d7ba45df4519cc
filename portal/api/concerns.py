"""Issues of concern (002 para 74 and Annex C): raised with an agency, answered by an upload
into the concern's own item, evaluated by the inspectors and signed off by both sides."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.concern_schemas import ConcernIn, ConcernOut, EvaluationIn, SignOffIn
from portal.http.problems import problem_responses
from portal.services import concerns

router = APIRouter(tags=["issues of concern"])

ONE = "/v1/inspections/{inspection_id}/concerns/{concern_id}"


@router.post(
    "/v1/inspections/{inspection_id}/concerns",
    response_model=ConcernOut,
    status_code=201,
    responses=problem_responses(409, 422),
)
def raise_concern(
    inspection_id: str, body: ConcernIn, principal: PrincipalDep, container: ContainerDep
) -> ConcernOut:
    """Refer a case back to an agency's senior officer on the Annex C form: the agency owes
    a written response, uploaded as `item=extra:<id>` by the time on the form, chased and
    counted like any item (422 `agency_not_in_inspection`, `required_by_in_past`; 409
    `no_timeline`)."""
    return ConcernOut.of(concerns.raise_concern(container, principal, inspection_id, body))


@router.get("/v1/inspections/{inspection_id}/concerns", response_model=list[ConcernOut])
def list_concerns(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[ConcernOut]:
    """The inspection's issues of concern in the order raised, each with its stage (an
    uploader sees its own agency's)."""
    return [ConcernOut.of(s) for s in concerns.concerns_of(container, principal, inspection_id)]


@router.get(ONE, response_model=ConcernOut)
def get_concern(
    inspection_id: str, concern_id: str, principal: PrincipalDep, container: ContainerDep
) -> ConcernOut:
    """One issue of concern (404 `concern_not_found`, also for another agency's)."""
    return ConcernOut.of(concerns.concern_of(container, principal, inspection_id, concern_id))


@router.put(f"{ONE}/evaluation", response_model=ConcernOut, responses=problem_responses(409))
def record_evaluation(
    inspection_id: str,
    concern_id: str,
    body: EvaluationIn,
    principal: PrincipalDep,
    container: ContainerDep,
) -> ConcernOut:
    """Share the inspectors' evaluation of the accepted response with the senior officer:
    the raising inspector or the lead (403 `not_concern_evaluator`); 409
    `concern_step_order` before a response is accepted, `concern_already_signed` once the
    form is signed."""
    return ConcernOut.of(
        concerns.record_evaluation(container, principal, inspection_id, concern_id, body)
    )


@router.post(f"{ONE}/sign-off", response_model=ConcernOut, responses=problem_responses(409))
def sign_off(
    inspection_id: str,
    concern_id: str,
    body: SignOffIn,
    principal: PrincipalDep,
    container: ContainerDep,
) -> ConcernOut:
    """Sign the form: the lead inspector (no body fields), or the agency's uploader for its
    chief officer (`chief_officer`: their name); completed once both have. 409
    `concern_step_order` before the evaluation is shared, `concern_already_signed`; 422
    `chief_officer_missing`, `chief_officer_not_expected`."""
    return ConcernOut.of(concerns.sign_off(container, principal, inspection_id, concern_id, body))
