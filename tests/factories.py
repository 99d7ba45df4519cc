"""Records the tests put straight into a wired container: an inspection, a document whose
bytes are in the store. For tests that are about something else than creating them."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

from portal.bootstrap import Container
from portal.domain.access import Inspection
from portal.domain.documents import Area, Document, DocumentStatus

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
THEME = "domestic-abuse/sept-2024"


def add_inspection(
    container: Container,
    *,
    fieldwork_start: date = date(2027, 3, 1),
    agencies: tuple[str, ...] = ("local_authority", "police"),
    area_name: str = "Testshire",
    inspection_id: str | None = None,
) -> str:
    """A domestic-abuse inspection; returns its id."""
    inspection = Inspection(
        id=inspection_id or uuid.uuid4().hex,
        theme_key=THEME,
        area_name=area_name,
        fieldwork_start=fieldwork_start,
        agencies=agencies,
        created_at=T0,
    )
    container.repository.add_inspection(inspection, actor="test")
    return inspection.id


def add_document(
    container: Container,
    inspection_id: str,
    *,
    agency: str = "local_authority",
    item: str = "1.1",
    content: bytes = b"%PDF-1.4 test",
    **changes: Any,
) -> Document:
    """An accepted document (unless `changes` say otherwise) with its bytes in its area."""
    fields: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "inspection_id": inspection_id,
        "agency": agency,
        "item_number": item,
        "original_filename": "a.pdf",
        "status": DocumentStatus.accepted,
        "area": Area.clean,
        "received_at": T0,
        "updated_at": T0,
        "decided_at": T0,
        **changes,
    }
    document = Document(**fields)
    container.repository.add_document(document, "test")
    container.store.put(document.area, document.object_key, io.BytesIO(content))
    return document
