"""The name register: names a lead inspector records to connect a child's records across
agencies, reduced to initials by retention once they are no longer needed."""

from __future__ import annotations

from fastapi import APIRouter

from portal.adapters.db.retention_records import NameEntry
from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import NameIn, NameOut
from portal.http.problems import Problem, problem_responses
from portal.services.inspections import load_inspection

router = APIRouter(prefix="/v1/inspections/{inspection_id}/name-register", tags=["names"])


def _out(entry: NameEntry) -> NameOut:
    return NameOut(**entry.model_dump(exclude={"inspection_id"}))


@router.post("", status_code=201, response_model=NameOut, responses=problem_responses(409))
def record_name(
    inspection_id: str, body: NameIn, principal: PrincipalDep, container: ContainerDep
) -> NameOut:
    """Record a name (lead inspector). Only while names are still needed: once retention
    has reduced them, the register takes no more."""
    load_inspection(container, inspection_id)
    if container.records.names_reduced_at(inspection_id) is not None:
        raise Problem(
            409,
            "names_already_reduced",
            "Names are no longer kept",
            "This inspection's names were reduced to initials at the end of fieldwork. "
            "Record initials and the child's unique ID in the evidence record instead.",
        )
    entry = container.records.add_name(
        inspection_id,
        body.name.strip(),
        body.reference,
        body.note,
        principal.actor,
        container.clock.now(),
    )
    return _out(entry)


@router.get("", response_model=list[NameOut])
def list_names(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[NameOut]:
    """The register, to the inspection's inspectors (initials only once reduced)."""
    load_inspection(container, inspection_id)
    return [_out(e) for e in container.records.names(inspection_id)]
