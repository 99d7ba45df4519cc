"""Records the tests put straight into a wired container: an inspection, a document whose
bytes are in the store. For tests that are about something else than creating them."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

from portal.adapters.clock import SettableClock, SystemClock
from portal.bootstrap import Container, build
from portal.domain.access import Inspection
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.ports import Clock
from portal.domain.timeline import LONDON
from portal.settings import Settings

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
THEME = "domestic-abuse/sept-2024"
# The moment a test's portal starts at, whatever day the tests run on: 9am on Monday
# 30 November 2026, the notification day of an inspection whose fieldwork starts on Monday
# 7 December 2026 (tests.scenario.harness's default). A test moves its container's clock
# (`container.clock.set(...)`), never the machine's.
TEST_NOW = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)


def build_portal(settings: Settings, *, clock: Clock | None = None, **wiring: Any) -> Container:
    """The portal wired as in service (portal.bootstrap.build), on a SettableClock standing
    at TEST_NOW unless the test hands it another clock."""
    return build(settings, clock=clock or SettableClock(TEST_NOW), **wiring)


def build_beside_processes(settings: Settings, **wiring: Any) -> Container:
    """The portal wired on the machine's clock, for a test whose container shares its
    database with portal processes it started (an API, a worker): they read the machine's
    clock, so the tokens and deadlines it writes must be of the same time."""
    return build(settings, clock=SystemClock(), **wiring)


def settable_clock(container: Container) -> SettableClock:
    """The container's clock, which a test may set: the container must come from
    build_portal (or be built with a SettableClock)."""
    clock = container.clock
    assert isinstance(clock, SettableClock), "build the container with tests.factories.build_portal"
    return clock


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
