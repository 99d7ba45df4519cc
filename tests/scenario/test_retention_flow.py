"""The `retention` flow runs on Prefect and reports its run as an artifact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from flows.ingest import use_container
from flows.retention import retention
from portal.adapters.store_fs import FilesystemStore
from portal.domain.documents import Area
from portal.settings import Settings
from tests.factories import add_document, add_inspection, build_portal, settable_clock

pytestmark = pytest.mark.usefixtures("prefect_server")

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_the_retention_flow_deletes_what_is_due_and_records_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings, store=FilesystemStore(tmp_path / "objects"))
    inspection_id = add_inspection(container, fieldwork_start=date(2026, 3, 30))
    doc = add_document(container, inspection_id, item="list:ilacs_4", content=b"rows")
    use_container(container)

    assert retention(dry_run=True)["would_delete"] == 1
    assert container.store.exists(Area.clean, doc.object_key)
    settable_clock(container).advance(timedelta(minutes=1))
    assert retention()["deleted"] == 1
    assert container.store.versions(Area.clean, doc.object_key) == ()
    runs = container.records.runs()
    assert [(r.dry_run, r.started_by) for r in runs] == [(False, "prefect"), (True, "prefect")]

    async def artifact_count() -> int:
        async with get_client() as client:
            # Asked by key: unfiltered, the server answers one page (200) of every
            # artifact the suite's runs made, in an order that need not hold these two.
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["retention-run"])),
                sort=ArtifactSort.CREATED_DESC,
            )
            return len(artifacts)

    assert anyio.run(artifact_count) >= 2
