"""The `rescan` flow on real clamd and a real Prefect server: documents accepted under one
signature database are scanned again once another is installed; the one it now finds is
withdrawn, the clean ones are recorded under the new version, identical bytes are scanned
once, a second run has nothing to do, and the run's counts are its artifact. If clamd stops
answering, the run stops, records what it reached and leaves the rest as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import anyio
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)

from flows.ingest import use_container
from flows.rescan import RescanStopped, rescan
from portal.domain.errors import ScannerUnavailable
from portal.domain.ports import Scanner
from portal.domain.scanning import ScanReply
from portal.domain.signatures import LOCAL_TEST_DATABASE_ID, Signatures
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal
from tests.signature_databases import (
    OwnClamd,
    ndb_database,
    own_clamd,  # noqa: F401 (a fixture)
    unique_pattern,
)

pytestmark = pytest.mark.usefixtures("prefect_server")

TEST_SIGNATURES = f"local+{LOCAL_TEST_DATABASE_ID}"


def _accepted(portal: PortalUnderTest, uploads: list[tuple[str, bytes, str]]) -> list[str]:
    ids = []
    for filename, data, item in uploads:
        response = portal.upload(filename, data, item=item)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    portal.process_pending()
    for document_id in ids:
        status = portal.wait_final(document_id)
        assert status["status"] == "accepted", status
    return ids


def _run(**parameters: Any) -> tuple[UUID, dict[str, int]]:
    """Run the flow; its flow run's id and its counts."""
    state = rescan(return_state=True, **parameters)
    counts: dict[str, int] = state.result()
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    return flow_run_id, counts


def _artifact_of(flow_run_id: UUID) -> str:
    async def read() -> str:
        async with get_client() as client:
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["rescan-run"]),
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                )
            )
        assert len(artifacts) == 1
        return str(artifacts[0].data)

    return anyio.run(read)


def _content(portal: PortalUnderTest, document_id: str) -> int:
    response = portal.client.get(
        f"/v1/documents/{document_id}/content", headers=portal.auth("inspector")
    )
    return response.status_code


def test_a_rescan_withdraws_what_new_signatures_find_and_scans_identical_bytes_once(
    tmp_path: Path,
    settings: Settings,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    portal = start_portal(
        build_portal(settings.model_copy(update={"clamd_socket": own_clamd.socket}))
    )
    pattern = unique_pattern("RESCAN-FLOW")
    note = samples.plain_text()
    infected, first_copy, second_copy = _accepted(
        portal,
        [
            ("minutes.txt", note + pattern + b"\n", "1.1"),
            ("structure.txt", note, "1.2"),
            ("structure.txt", note, "1.3"),
        ],
    )
    assert _content(portal, infected) == 200
    assert portal.status(first_copy)["scan"]["signatures"] == TEST_SIGNATURES

    own_clamd.install(ndb_database(tmp_path / "new", {"Jtai.Test.Rescan": pattern}))
    new_version = own_clamd.scanner().signatures().version
    use_container(portal.container)
    flow_run_id, counts = _run()

    assert counts == {"scanned": 2, "skipped_identical": 1, "withdrawn": 1, "clean": 2, "left": 0}
    withdrawn = portal.status(infected)
    assert withdrawn["status"] == "withdrawn"
    assert [r["code"] for r in withdrawn["reasons"]] == ["infected_on_rescan"]
    assert "Jtai.Test.Rescan" in withdrawn["detail"] and new_version in withdrawn["detail"]
    assert _content(portal, infected) == 410
    for clean in (first_copy, second_copy):
        assert portal.status(clean)["scan"]["signatures"] == new_version
        assert _content(portal, clean) == 200

    artifact = _artifact_of(flow_run_id)
    assert f"# Rescan under signatures {new_version}" in artifact
    for row in (
        "| scanned | 2 |",
        "| skipped identical | 1 |",
        "| withdrawn | 1 |",
        "| left | 0 |",
    ):
        assert row in artifact
    assert "minutes" not in artifact and "structure" not in artifact

    _again, counts = _run()
    assert counts == {"scanned": 0, "skipped_identical": 0, "withdrawn": 0, "clean": 0, "left": 0}


class FailingScanner:
    """The real scanner, reporting a signature version a test sets, that stops answering
    after `answers` scans."""

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.database_version: int | None = None
        self.answers: int | None = None

    def scan(self, source: BinaryIO) -> ScanReply:
        if self.answers is not None:
            if self.answers == 0:
                raise ScannerUnavailable("cannot connect to clamd: test")
            self.answers -= 1
        return self.inner.scan(source)

    def check(self) -> None:
        self.inner.check()

    def signatures(self) -> Signatures:
        loaded = self.inner.signatures()
        return loaded.model_copy(update={"database_version": self.database_version})


def _portal_reporting_versions(
    settings: Settings, **changes: object
) -> tuple[PortalUnderTest, FailingScanner]:
    """A portal whose worker's scanner (real clamd) reports ClamAV database 27505 until the
    test sets another version; no scan on arrival, which would record clamd's own."""
    settings = settings.model_copy(update={"upload_scan_connections": 0, **changes})
    scanner = FailingScanner(build_portal(settings).scanner)
    portal = start_portal(build_portal(settings, scanner=scanner))
    scanner.database_version = 27505
    return portal, scanner


def test_a_rescan_stops_when_clamd_stops_answering_and_the_next_run_goes_on(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    portal, scanner = _portal_reporting_versions(settings)
    ids = _accepted(
        portal,
        [(f"{n}.txt", samples.plain_text() + f"{n}\n".encode(), f"1.{n}") for n in (1, 2, 3)],
    )
    use_container(portal.container)

    scanner.database_version = 27506
    scanner.answers = 1  # one document, then clamd is gone
    with pytest.raises(RescanStopped, match="cannot connect to clamd"):
        rescan()

    recorded = [portal.status(d)["scan"]["signatures"] for d in ids]
    assert sorted(recorded) == sorted(
        [f"27506+{LOCAL_TEST_DATABASE_ID}"] + [f"27505+{LOCAL_TEST_DATABASE_ID}"] * 2
    )
    assert all(portal.status(d)["status"] == "accepted" for d in ids)

    scanner.answers = None
    _run_id, counts = _run()
    assert counts == {"scanned": 2, "skipped_identical": 0, "withdrawn": 0, "clean": 2, "left": 0}


def test_a_rescan_gives_way_to_uploads_waiting_for_the_pipeline_and_the_next_run_goes_on(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    portal, scanner = _portal_reporting_versions(settings)
    ids = _accepted(
        portal,
        [(f"{n}.txt", samples.plain_text() + f"{n}\n".encode(), f"1.{n}") for n in (1, 2)],
    )
    use_container(portal.container)
    scanner.database_version = 27506
    waiting = portal.upload("late.txt", samples.plain_text() + b"late\n", item="1.3")
    assert waiting.status_code == 202, waiting.text

    flow_run_id, counts = _run()

    assert counts == {"scanned": 0, "skipped_identical": 0, "withdrawn": 0, "clean": 0, "left": 2}
    assert "waiting for the ingest pipeline" in _artifact_of(flow_run_id)
    assert all(portal.status(d)["scan"]["signatures"].startswith("27505+") for d in ids)

    portal.process_pending()
    assert portal.wait_final(waiting.json()["id"])["status"] == "accepted"
    _run_id, counts = _run()
    assert counts == {"scanned": 2, "skipped_identical": 0, "withdrawn": 0, "clean": 2, "left": 0}


def test_a_rescan_told_not_to_give_way_scans_while_uploads_wait(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    portal, scanner = _portal_reporting_versions(settings, rescan_gives_way=False)
    _accepted(portal, [("1.txt", samples.plain_text() + b"one\n", "1.1")])
    use_container(portal.container)
    scanner.database_version = 27506
    assert portal.upload("late.txt", samples.plain_text(), item="1.2").status_code == 202

    _run_id, counts = _run()

    assert counts == {"scanned": 1, "skipped_identical": 0, "withdrawn": 0, "clean": 1, "left": 0}
