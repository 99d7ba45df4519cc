"""The items the lead inspector asks of one agency in one inspection, beyond its theme's."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import ExtraItemIn, ExtraItemOut
from portal.http.problems import problem_responses
from portal.services import extra_items

router = APIRouter(tags=["extra items"])


@router.post(
    "/v1/inspections/{inspection_id}/extra-items",
    response_model=ExtraItemOut,
    status_code=201,
    responses=problem_responses(409, 422),
)
def add_extra_item(
    inspection_id: str, body: ExtraItemIn, principal: PrincipalDep, container: ContainerDep
) -> ExtraItemOut:
    """Ask one agency for a further list or document by its own deadline (what the
    inspection's guidance says of it is its theme's `additional_requests`): it is on the
    agency's checklist as `extra:<id>`, in the timeline, counted in completeness and chased
    (422 `agency_not_in_inspection`, 409 `no_timeline`)."""
    return ExtraItemOut.of(extra_items.add_extra_item(container, principal, inspection_id, body))


@router.get("/v1/inspections/{inspection_id}/extra-items", response_model=list[ExtraItemOut])
def list_extra_items(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[ExtraItemOut]:
    """The inspection's own items, in the order added (an uploader sees its agency's)."""
    return [
        ExtraItemOut.of(e) for e in extra_items.extra_items_of(container, principal, inspection_id)
    ]
