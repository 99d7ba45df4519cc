"""The name register: names a lead inspector records to connect a child's records across
agencies, reduced to initials by retention once they are no longer needed."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import NameIn, NameOut
from portal.domain.retention import NameEntry
from portal.http.problems import problem_responses
from portal.services import retention

router = APIRouter(prefix="/v1/inspections/{inspection_id}/name-register", tags=["names"])


def _out(entry: NameEntry) -> NameOut:
    return NameOut(**entry.model_dump(exclude={"inspection_id"}))


@router.post("", status_code=201, response_model=NameOut, responses=problem_responses(409))
def record_name(
    inspection_id: str, body: NameIn, principal: PrincipalDep, container: ContainerDep
) -> NameOut:
    """Record a name (lead inspector). Only while names are still needed: once retention
    has reduced them, the register takes no more."""
    entry = retention.record_name(
        container,
        principal,
        inspection_id,
        name=body.name,
        reference=body.reference,
        note=body.note,
    )
    return _out(entry)


@router.get("", response_model=list[NameOut])
def list_names(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[NameOut]:
    """The register, to the inspection's inspectors (initials only once reduced)."""
    return [_out(e) for e in retention.name_register(container, inspection_id)]
