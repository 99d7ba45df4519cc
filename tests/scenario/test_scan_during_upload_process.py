"""Scanning during upload in the real API process (uvicorn), with the worker's steps run
beside it on real clamd: whenever the scan on arrival cannot be had (clamd killed
mid-upload, a clamd that closes the stream mid-way, every connection busy, a file past
clamd's StreamMaxLength), the upload is answered as before, stays `received` unscanned,
and the worker scans it: never accepted unscanned."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from portal.bootstrap import Container, make_scanner
from portal.domain.access import Role
from portal.domain.documents import Document
from portal.ingest import process_batch
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.api_process import api_process
from tests.clamd_peers import CountingScanner, clamd_that_closes_mid_stream
from tests.conftest import ClamdProcess
from tests.factories import build_beside_processes

BOUNDARY = "jtai-upload-scan-boundary"
MIB = 1024 * 1024
STOPPED = ("clamd stopped taking the upload", "no verdict from clamd")
ROWS = b"child_id,contact_date,outcome\r\n" + b"C1,2026-11-02,seen\r\n" * 4096


class Beside:
    """The database the API process writes, and the worker's steps over it."""

    def __init__(self, settings: Settings) -> None:
        self.scanner = CountingScanner(make_scanner(settings))
        self.container: Container = build_beside_processes(settings, scanner=self.scanner)

    def document(self, document_id: str) -> Document:
        document = self.container.repository.get_document(document_id)
        assert document is not None
        return document

    def run_worker(self) -> None:
        """Claim what waits and run every step over it, as a worker's batch does."""
        token = uuid.uuid4().hex
        documents = self.container.repository.claim_next_batch(
            token, self.container.clock.now(), 100, 1 << 40
        )
        process_batch(documents, token, self.container.ingest_services())


@pytest.fixture
def beside(settings: Settings, running_clamd: ClamdProcess) -> Beside:
    return Beside(settings)


def _uploader(url: str, container: Container) -> tuple[str, dict[str, str]]:
    """An inspection created over HTTP and an uploader's headers for a form upload."""
    _p, admin = issue_token(container, Role.admin)
    headers = {"Authorization": f"Bearer {admin}"}
    inspection = httpx.post(
        url + "/v1/inspections",
        headers=headers,
        timeout=30,
        json={"theme": "domestic-abuse/sept-2024", "area_name": "Bigshire"},
    ).json()["id"]
    token = httpx.post(
        url + f"/v1/inspections/{inspection}/tokens",
        headers=headers,
        timeout=30,
        json={"role": "agency_uploader", "agency": "local_authority"},
    ).json()["token"]
    return inspection, {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }


def _body(size: int, midway: Callable[[], None] = lambda: None) -> Iterator[bytes]:
    """A form sending `size` bytes of a CSV for item 1.2; `midway` runs once half of it
    has been sent."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="item"\r\n\r\n1.2\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    sent, called = 0, False
    while sent < size:
        if not called and sent >= size // 2:
            called = True
            midway()
        part = ROWS[: size - sent]
        sent += len(part)
        yield part
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _upload(url: str, inspection: str, headers: dict[str, str], body: Iterator[bytes]) -> str:
    response = httpx.post(
        url + f"/v1/inspections/{inspection}/documents",
        headers=headers,
        content=body,
        timeout=120,
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "received"
    document_id: str = response.json()["id"]
    return document_id


def _left_to_the_worker_and_scanned_by_it(
    beside: Beside, document_id: str, api_log: Path, why: tuple[str, ...]
) -> None:
    """The API said why it did not scan the upload on arrival, the document waits
    unscanned, and the worker scans it with real clamd."""
    said = api_log.read_text()
    assert "upload not scanned on arrival" in said and any(w in said for w in why), said
    document = beside.document(document_id)
    assert document.status == "received"
    assert document.upload_scan_verdict is None
    assert document.upload_scan_signatures is None
    before = beside.scanner.scans
    beside.run_worker()
    assert beside.scanner.scans == before + 1
    decided = beside.document(document_id)
    assert decided.status == "accepted", decided
    assert decided.scan_signatures is not None


def test_a_clean_upload_through_the_server_is_scanned_on_arrival_not_by_the_worker(
    settings: Settings, beside: Beside, tmp_path: Path
) -> None:
    with api_process(settings, tmp_path / "api.log") as url:
        inspection, headers = _uploader(url, beside.container)
        document_id = _upload(url, inspection, headers, _body(3 * MIB))

    document = beside.document(document_id)
    assert document.upload_scan_verdict == "clean"
    assert document.upload_scan_signatures == (beside.container.scanner.signatures().version)
    beside.run_worker()
    assert beside.scanner.scans == 0
    assert beside.document(document_id).status == "accepted"


def test_clamd_killed_mid_upload_leaves_the_upload_received_and_the_worker_scans_it(
    settings: Settings, beside: Beside, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    with api_process(settings, tmp_path / "api.log") as url:
        inspection, headers = _uploader(url, beside.container)
        document_id = _upload(url, inspection, headers, _body(6 * MIB, running_clamd.kill))

    assert not running_clamd.running
    running_clamd.start()
    _left_to_the_worker_and_scanned_by_it(beside, document_id, tmp_path / "api.log", STOPPED)


def test_a_clamd_that_closes_the_stream_mid_upload_leaves_the_upload_to_the_worker(
    settings: Settings, beside: Beside, tmp_path: Path
) -> None:
    with (
        clamd_that_closes_mid_stream(tmp_path / "closing.sock") as closing,
        api_process(settings, tmp_path / "api.log", JTAI_CLAMD_SOCKET=str(closing)) as url,
    ):
        inspection, headers = _uploader(url, beside.container)
        document_id = _upload(url, inspection, headers, _body(3 * MIB))

    _left_to_the_worker_and_scanned_by_it(beside, document_id, tmp_path / "api.log", STOPPED)


def test_an_upload_that_finds_the_scan_connections_busy_is_left_to_the_worker(
    settings: Settings, beside: Beside, tmp_path: Path
) -> None:
    reached, release = threading.Event(), threading.Event()
    first: list[str] = []

    def hold_open() -> None:
        reached.set()
        release.wait()

    def send_first() -> None:
        first.append(_upload(url, inspection, headers, _body(32 * MIB, midway=hold_open)))

    with api_process(settings, tmp_path / "api.log", JTAI_UPLOAD_SCAN_CONNECTIONS="1") as url:
        inspection, headers = _uploader(url, beside.container)
        holder = threading.Thread(target=send_first)
        holder.start()
        try:
            while not reached.is_set():
                assert holder.is_alive(), "the first upload ended before it was half sent"
                time.sleep(0.01)
            # 16 MiB sent is more than any socket buffers hold: the server is reading the
            # first upload's body, so it holds the one connection.
            second = _upload(url, inspection, headers, _body(MIB))
        finally:
            release.set()
            holder.join(timeout=120)

    assert beside.document(first[0]).upload_scan_verdict == "clean"
    _left_to_the_worker_and_scanned_by_it(
        beside, second, tmp_path / "api.log", ("no upload scan connection free",)
    )


def test_an_upload_past_clamds_stream_limit_is_left_to_the_worker(
    settings: Settings, beside: Beside, tmp_path: Path
) -> None:
    small = ClamdProcess(tmp_path / "small-clamd", config={"StreamMaxLength": "1M"})
    small.state_dir.mkdir()
    small.start()
    try:
        with api_process(
            settings, tmp_path / "api.log", JTAI_CLAMD_SOCKET=str(small.socket)
        ) as url:
            inspection, headers = _uploader(url, beside.container)
            document_id = _upload(url, inspection, headers, _body(3 * MIB))
    finally:
        small.stop()

    _left_to_the_worker_and_scanned_by_it(
        beside, document_id, tmp_path / "api.log", (*STOPPED, "decides nothing")
    )
