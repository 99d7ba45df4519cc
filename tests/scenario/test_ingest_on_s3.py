"""The same ingest, with the object store on S3: moto's standalone server, over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from portal.adapters.store_s3 import S3Store, ensure_bucket, make_s3_client
from portal.domain.documents import Area
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess, wait_for_http
from tests.factories import build_portal
from tests.scenario.harness import start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def moto_standalone() -> Iterator[str]:
    """`python -m moto.server` as its own process on a free port; yields its endpoint."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    wait_for_http(endpoint + "/moto-api/", proc, "moto's server")
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


def test_a_pdf_is_sanitised_and_stored_encrypted_on_s3_and_its_quarantine_copy_deleted(
    settings: Settings,
    running_clamd: ClamdProcess,
    moto_standalone: str,
) -> None:
    s3_settings = settings.model_copy(
        update={
            "store": "s3",
            "s3_bucket": "jtai-scenario",
            "s3_endpoint_url": moto_standalone,
            "s3_access_key_id": "AKIAFAKE",
            "s3_secret_access_key": SecretStr("fake-secret"),
        }
    )
    client = make_s3_client(moto_standalone, s3_settings.s3_region, "AKIAFAKE", "fake-secret")
    ensure_bucket(client, "jtai-scenario")
    container = build_portal(s3_settings)
    assert isinstance(container.store, S3Store)
    portal = start_portal(container)

    document_id = portal.upload("plan.pdf", samples.pdf_with_active_content()).json()["id"]
    portal.process_pending()
    status = portal.status(document_id)
    assert status["status"] == "accepted", status
    assert "active_content_removed" in {w["code"] for w in status["warnings"]}

    key = f"{portal.inspection_id}/{document_id}"
    head = client.head_object(Bucket="jtai-scenario", Key=f"clean/{key}")
    assert head["ServerSideEncryption"] == "AES256"
    assert not container.store.exists(Area.quarantine, key)
    content = portal.client.get(
        f"/v1/documents/{document_id}/content", headers=portal.auth("inspector")
    )
    assert content.status_code == 200
    assert b"/JavaScript" not in content.content

    infected = portal.upload("eicar.txt", samples.eicar()).json()["id"]
    portal.process_pending()
    assert portal.status(infected)["status"] == "rejected"
    assert not container.store.exists(Area.quarantine, f"{portal.inspection_id}/{infected}")
