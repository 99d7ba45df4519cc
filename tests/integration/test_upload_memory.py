"""A 200 MB upload streams through the API process without it holding the file in memory."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from portal.bootstrap import Container
from portal.domain.access import Role
from portal.domain.documents import Area
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.api_process import free_port
from tests.conftest import wait_for_http
from tests.factories import build_beside_processes

FILE_BYTES = 200 * 1024 * 1024
ALLOWED_GROWTH_BYTES = 50 * 1024 * 1024
BOUNDARY = "jtai-memory-test-boundary"


@pytest.fixture
def api_process(settings: Settings) -> Iterator[tuple[str, psutil.Process, Settings]]:
    port = free_port()
    env = {
        **os.environ,
        "JTAI_DATA_DIR": str(settings.data_dir),
        "JTAI_CLAMD_SOCKET": str(settings.resolved_clamd_socket),
        "JTAI_API_PORT": str(port),
        "JTAI_MAX_UPLOAD_BYTES": str(300 * 1024 * 1024),
    }
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "migrate"], env=env, check=True, capture_output=True
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url + "/healthz", proc, "the API")
    yield url, psutil.Process(proc.pid), settings
    proc.terminate()
    proc.wait(timeout=30)


def _inspection_and_uploader_token(url: str, container: Container) -> tuple[str, str]:
    """Create an inspection over HTTP and an uploader token for its local authority."""
    _p, admin = issue_token(container, Role.admin)
    headers = {"Authorization": f"Bearer {admin}"}
    inspection: str = httpx.post(
        url + "/v1/inspections",
        headers=headers,
        timeout=10,
        json={"theme": "domestic-abuse/sept-2024", "area_name": "Bigshire"},
    ).json()["id"]
    token: str = httpx.post(
        url + f"/v1/inspections/{inspection}/tokens",
        headers=headers,
        timeout=10,
        json={"role": "agency_uploader", "agency": "local_authority"},
    ).json()["token"]
    return inspection, token


def _multipart_body(size: int) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="item"\r\n\r\n1.2\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    row = b"child_id,contact_date,outcome\r\n" * 2048
    sent = 0
    while sent < size:
        part = row[: size - sent]
        sent += len(part)
        yield part
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_200_mb_upload_streams_without_the_api_growing_by_50_mb(
    api_process: tuple[str, psutil.Process, Settings],
) -> None:
    url, api, settings = api_process
    container = build_beside_processes(settings, run_migrations=False)
    inspection, token = _inspection_and_uploader_token(url, container)
    upload_headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    warm_up = httpx.post(
        url + f"/v1/inspections/{inspection}/documents",
        headers=upload_headers,
        content=_multipart_body(1024 * 1024),
        timeout=60,
    )
    assert warm_up.status_code == 202, warm_up.text

    baseline = api.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, api.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        response = httpx.post(
            url + f"/v1/inspections/{inspection}/documents",
            headers=upload_headers,
            content=_multipart_body(FILE_BYTES),
            timeout=300,
        )
    finally:
        done.set()
        sampler.join()
    assert response.status_code == 202, response.text
    document = container.repository.get_document(response.json()["id"])
    assert document is not None and document.size_bytes == FILE_BYTES
    assert container.store.exists(Area.quarantine, document.object_key)
    assert peak - baseline < ALLOWED_GROWTH_BYTES, (
        f"API grew by {(peak - baseline) / 2**20:.1f} MiB while streaming 200 MiB"
    )


def test_an_upload_over_the_limit_is_refused_with_413_and_nothing_is_kept(
    api_process: tuple[str, psutil.Process, Settings],
    tmp_path: Path,
) -> None:
    url, _api, settings = api_process
    container = build_beside_processes(settings, run_migrations=False)
    inspection, token = _inspection_and_uploader_token(url, container)
    # No Content-Length (chunked), so the limit is enforced while streaming.
    response = httpx.post(
        url + f"/v1/inspections/{inspection}/documents",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
        content=_multipart_body(301 * 1024 * 1024),
        timeout=300,
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "too_large"
    leftovers = list((settings.store_root / "quarantine").rglob("*"))
    assert [p for p in leftovers if p.is_file()] == []
