"""clamd's engine and signatures, for administrators: what the admin's Scanner page
shows, and what /readyz reports in its `signatures`."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep
from portal.api.schemas import ScannerOut, SignaturesOut
from portal.services.signatures import scanner_status

router = APIRouter(tags=["scanner"])


@router.get("/v1/scanner", response_model=ScannerOut)
def scanner(container: ContainerDep) -> ScannerOut:
    """clamd's engine and signatures: their version, date and age, and whether they are
    fit for real documents (not stale, not only local or test signatures)."""
    status = scanner_status(container)
    return ScannerOut(
        answers=status.answers,
        error=status.error,
        signatures=SignaturesOut.of(status.state) if status.state else None,
    )
