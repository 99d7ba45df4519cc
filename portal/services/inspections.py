"""Use cases on an inspection as a whole: finding it."""

from __future__ import annotations

from portal.bootstrap import Container
from portal.domain.access import Inspection
from portal.domain.errors import Refusal, Refused


def load_inspection(container: Container, inspection_id: str) -> Inspection:
    """The inspection with this id; Refused (not_found, `inspection_not_found`) if none."""
    inspection = container.repository.get_inspection(inspection_id)
    if inspection is None:
        raise Refused(
            Refusal.not_found,
            "inspection_not_found",
            "No such inspection",
            f"There is no inspection {inspection_id}.",
        )
    return inspection
