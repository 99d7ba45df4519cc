"""The runbook's maintenance scripts do what infra/RUNBOOK.md says: back up and restore the
metadata, upgrade clamd's signatures without a restart, re-encrypt documents under a new
KMS key, and set buckets up private, versioned and encrypted."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pytest
from sqlalchemy import select

from portal.adapters.clamd_scanner import ClamdScanner
from portal.adapters.db.audit_log import verify_audit_log
from portal.adapters.db.tables import InspectionRow
from portal.adapters.s3_setup import bucket_policy
from portal.adapters.store_s3 import S3Store, make_s3_client
from portal.bootstrap import make_scanner, make_streaming_scanner
from portal.domain.access import Inspection
from portal.domain.documents import Area
from portal.domain.errors import ScannerUnavailable
from portal.domain.ports import StreamingScanner
from portal.domain.scanning import ScanReply, ScanStatus
from portal.settings import Settings
from tests.factories import build_portal
from tests.integration.s3_fixtures import moto_server  # noqa: F401
from tests.samples import EICAR

ROOT = Path(__file__).resolve().parents[2]
SCALED = ROOT / "infra" / "scaled"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.services


def _run(args: list[str], **env: str) -> str:
    done = subprocess.run(
        args, env={**os.environ, **env}, capture_output=True, cwd=ROOT, timeout=300
    )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    return output


def _inspection(area: str) -> Inspection:
    return Inspection(
        id=uuid.uuid4().hex,
        theme_key="domestic-abuse/sept-2024",
        area_name=area,
        fieldwork_start=date(2027, 3, 1),
        agencies=("local_authority",),
        created_at=T0,
    )


def test_a_backup_restores_the_metadata_and_its_audit_log(
    tmp_path: Path, postgres_url: str
) -> None:
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    container = build_portal(
        Settings(data_dir=tmp_path / "data", database_url=url, _env_file=None)  # type: ignore[call-arg]
    )
    kept = _inspection("Kept before the backup")
    container.repository.add_inspection(kept, "test")
    dump = tmp_path / "portal.dump"
    assert "backed up" in _run([str(SCALED / "backup"), str(dump)], JTAI_DATABASE_URL=url)

    container.repository.add_inspection(_inspection("Added after the backup"), "test")
    _run([str(SCALED / "restore"), str(dump)], JTAI_DATABASE_URL=url)

    with container.repository.engine.connect() as connection:
        areas = set(connection.execute(select(InspectionRow.area_name)).scalars())
    assert "Kept before the backup" in areas and "Added after the backup" not in areas
    assert verify_audit_log(container.repository.engine, container.audit_keys).ok


@pytest.fixture
def own_clamd(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A clamd of this test's own, on a copy of the test signatures."""
    db = tmp_path / "db"
    shutil.copytree(ROOT / "infra" / "clamd" / "db", db)
    state = tmp_path / "clamd"
    proc = subprocess.Popen(
        [str(SCALED / "clamd"), str(state), str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    scanner = ClamdScanner(unix_socket=state / "clamd.sock", timeout=5)
    _wait_until_answering(scanner, proc)
    yield db, state / "clamd.sock"
    proc.terminate()
    proc.wait(timeout=20)


def _wait_until_answering(scanner: ClamdScanner, proc: subprocess.Popen[bytes]) -> None:
    """Wait (up to a minute) until the clamd `proc` started answers `scanner`."""
    deadline = time.monotonic() + 60
    while True:
        try:
            scanner.check()
            return
        except ScannerUnavailable:
            assert proc.poll() is None and time.monotonic() < deadline, "clamd did not start"
            time.sleep(0.1)


async def _stream_to(scanner: StreamingScanner, data: bytes) -> ScanReply:
    stream = await scanner.open_stream()
    await stream.feed(data)
    return await stream.finish()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_clamd_on_a_machine_of_its_own_scans_over_tcp_with_the_threads_it_is_given(
    tmp_path: Path,
) -> None:
    port = _free_port()
    state = tmp_path / "clamd"
    proc = subprocess.Popen(
        [str(SCALED / "clamd"), str(state)],
        env={
            **os.environ,
            "CLAMD_TCP_ADDR": "127.0.0.1",
            "CLAMD_TCP_PORT": str(port),
            "CLAMD_MAX_THREADS": "3",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        scanner = ClamdScanner(host="127.0.0.1", port=port, timeout=5)
        _wait_until_answering(scanner, proc)

        reply = scanner.scan(io.BytesIO(b"prefix " + EICAR + b" suffix"))

        assert reply.status is ScanStatus.found
        assert scanner.scan(io.BytesIO(b"nothing to see")).status is ScanStatus.clean
        portal_settings = Settings(clamd_host="127.0.0.1", clamd_port=port)
        assert make_scanner(portal_settings).scan(io.BytesIO(EICAR)).status is ScanStatus.found
        assert asyncio.run(_stream_to(make_streaming_scanner(portal_settings), EICAR)).status is (
            ScanStatus.found
        )
        conf = (state / "clamd.conf").read_text().splitlines()
        assert "MaxThreads 3" in conf and "TCPAddr 127.0.0.1" in conf
        assert f"TCPSocket {port}" in conf
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_clamd_refuses_a_thread_count_that_is_not_a_number(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCALED / "clamd"), str(tmp_path / "clamd")],
        env={**os.environ, "CLAMD_MAX_THREADS": "many"},
        capture_output=True,
        timeout=120,
    )

    assert done.returncode == 2
    assert b"CLAMD_MAX_THREADS must be a whole number" in done.stderr


def test_new_signatures_are_used_without_restarting_clamd(
    tmp_path: Path, own_clamd: tuple[Path, Path]
) -> None:
    db, socket_path = own_clamd
    marker = b"JTAI-RUNBOOK-NEW-SIGNATURE-" + uuid.uuid4().hex.encode()
    scanner = ClamdScanner(unix_socket=socket_path, timeout=10)
    assert scanner.scan(io.BytesIO(b"prefix " + marker + b" suffix")).status is ScanStatus.clean

    signature = tmp_path / "jtai-runbook.ndb"
    signature.write_text(f"Jtai.Runbook.Test:0:*:{marker.hex()}\n")
    output = _run([str(SCALED / "update-signatures"), str(db), str(socket_path), str(signature)])

    assert "RELOADING" in output and "clamd now runs" in output
    reply = scanner.scan(io.BytesIO(b"prefix " + marker + b" suffix"))
    assert reply.status is ScanStatus.found and "Jtai.Runbook.Test" in (reply.signature or "")


def test_documents_move_to_a_new_kms_key_and_the_bucket_follows(
    tmp_path: Path,
    moto_server: str,  # noqa: F811
) -> None:
    kms = boto3.client(
        "kms",
        endpoint_url=moto_server,
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    old_key = kms.create_key()["KeyMetadata"]["KeyId"]
    new_key = kms.create_key()["KeyMetadata"]["KeyId"]
    bucket = f"rekey-{uuid.uuid4().hex[:12]}"
    env = {
        "JTAI_DATA_DIR": str(tmp_path / "data"),
        "JTAI_STORE": "s3",
        "JTAI_S3_BUCKET": bucket,
        "JTAI_S3_ENDPOINT_URL": moto_server,
        "JTAI_S3_REGION": "eu-west-2",
        "JTAI_S3_ACCESS_KEY_ID": "testing",
        "JTAI_S3_SECRET_ACCESS_KEY": "testing",
        "JTAI_S3_SSE": "aws:kms",
        "JTAI_S3_KMS_KEY_ID": old_key,
        # moto's server over plain HTTP cannot meet the policy's TLS condition.
        "JTAI_S3_BUCKET_POLICY": "false",
    }
    _run([str(ROOT / ".venv" / "bin" / "jtai-portal"), "s3-setup"], **env)
    client = make_s3_client(moto_server, "eu-west-2", "testing", "testing")
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    blocks = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(blocks.values())
    store = S3Store(client, bucket, sse="aws:kms", kms_key_id=old_key)
    for n in range(3):
        store.put(Area.clean, f"insp/doc{n}", io.BytesIO(f"document {n}".encode()))

    _run([str(SCALED / "rotate-kms-key"), new_key], **env)

    for n in range(3):
        head = client.head_object(Bucket=bucket, Key=store.object_key(Area.clean, f"insp/doc{n}"))
        assert head["SSEKMSKeyId"].endswith(new_key)
        with store.open(Area.clean, f"insp/doc{n}") as source:
            assert source.read() == f"document {n}".encode()
    rule = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert rule["Rules"][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == new_key
    # Running it again finds nothing left to move.
    assert ": 0 objects re-encrypted" in _run([str(SCALED / "rotate-kms-key"), new_key], **env)


def test_the_bucket_policy_refuses_plain_http_and_uploads_not_under_kms() -> None:
    policy = bucket_policy("jtai-docs", require_kms=True)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["DenyWithoutTLS"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert by_sid["DenyWithoutTLS"]["Resource"] == [
        "arn:aws:s3:::jtai-docs",
        "arn:aws:s3:::jtai-docs/*",
    ]
    assert by_sid["DenyUploadsNotUnderKms"]["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }
    assert all(s["Effect"] == "Deny" for s in policy["Statement"])
    assert json.loads(json.dumps(policy)) == policy
    assert "DenyUploadsNotUnderKms" not in {
        s["Sid"] for s in bucket_policy("b", require_kms=False)["Statement"]
    }
