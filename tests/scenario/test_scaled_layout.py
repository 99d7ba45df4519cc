"""The scaled layout on one machine, brought up with the runbook's own scripts
(infra/scaled/*): PostgreSQL for metadata and for the Prefect server, moto's S3 server
(SSE-KMS), two workers each with clamd beside it, the API. 500 uploads from several agencies
of several inspections; one worker is killed with SIGKILL and PostgreSQL restarted while
they are processed. Every document reaches a final status, exactly once."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from sqlalchemy import func, select

from portal.adapters.db.audit_log import verify_audit_log
from portal.adapters.db.tables import AuditEventRow, DocumentRow
from portal.api.auth import issue_token
from portal.bootstrap import build
from portal.domain.access import Role
from portal.settings import Settings
from tests import samples

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
SCALED = ROOT / "infra" / "scaled"
UPLOADS = 500
INSPECTIONS = 3
AGENCIES = ("local_authority", "police", "health")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} not ready within {timeout:.0f} s")


@dataclass
class Layout:
    env: dict[str, str]
    work: Path
    pg_dir: Path
    api_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, args: list[str], **env: str) -> subprocess.Popen[bytes]:
        log = (self.work / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        self.processes[name] = proc
        return proc

    def run(self, args: list[str]) -> str:
        done = subprocess.run(args, env=self.env, capture_output=True, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        return done.stdout.decode()

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")[-3000:]

    def start_worker(self, name: str) -> None:
        clamd_dir = self.work / f"clamd-{name}"
        self.start(f"clamd-{name}", [str(SCALED / "clamd"), str(clamd_dir)])
        _wait(lambda: (clamd_dir / "clamd.sock").exists(), f"clamd of {name}", 60)
        self.start(
            name,
            [str(SCALED / "worker")],
            JTAI_CLAMD_SOCKET=str(clamd_dir / "clamd.sock"),
            JTAI_DATA_DIR=str(self.work / name),
        )


@pytest.fixture
def layout() -> Iterator[Layout]:
    work = Path(tempfile.mkdtemp(prefix="jtai-scaled-"))
    pg_dir = Path(tempfile.mkdtemp(prefix="jtai-scaled-pg-"))
    ports = {name: _free_port() for name in ("pg", "prefect", "s3", "api")}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JTAI_", "PREFECT_"))}
    env = {
        **base,
        "JTAI_DATA_DIR": str(work / "data"),
        "JTAI_PREFECT_PORT": str(ports["prefect"]),
        "JTAI_PREFECT_API_URL": f"http://127.0.0.1:{ports['prefect']}/api",
        "PREFECT_HOME": str(work / "prefect"),
        "JTAI_STORE": "s3",
        "JTAI_S3_BUCKET": "jtai-documents",
        "JTAI_S3_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3']}",
        "JTAI_S3_REGION": "eu-west-2",
        "JTAI_S3_ACCESS_KEY_ID": "testing",
        "JTAI_S3_SECRET_ACCESS_KEY": "testing",
        "JTAI_S3_SSE": "aws:kms",
        # moto's server speaks plain HTTP and cannot evaluate the SSE-KMS condition, so
        # the bucket policy (tested on its own) is left out here.
        "JTAI_S3_BUCKET_POLICY": "false",
        "JTAI_API_PORT": str(ports["api"]),
        "JTAI_PROCESSING_LEASE_SECONDS": "20",
        "JTAI_RETRY_DELAY_SECONDS": "1",
        "JTAI_FLOW_RETRY_DELAY_SECONDS": "1",
        "JTAI_INGEST_CONCURRENCY_LIMIT": "4",
        "JTAI_INGEST_CONCURRENCY_LIMIT_NAME": "ingest",
        "JTAI_RATE_LIMIT": "100000/minute",
        "JTAI_BATCH_MAX_DOCUMENTS": "16",
    }
    layout = Layout(env, work, pg_dir, f"http://127.0.0.1:{ports['api']}")
    try:
        layout.start("s3", [str(SCALED / "dev-s3"), str(ports["s3"])])
        layout.run([str(SCALED / "postgres"), "init", str(pg_dir), str(ports["pg"])])
        env["JTAI_DATABASE_URL"] = layout.run(
            [str(SCALED / "postgres"), "url", str(pg_dir), "portal"]
        ).strip()
        env["JTAI_PREFECT_DATABASE_URL"] = layout.run(
            [str(SCALED / "postgres"), "url", str(pg_dir), "prefect"]
        ).strip()
        _wait(
            lambda: httpx.get(f"{env['JTAI_S3_ENDPOINT_URL']}/moto-api/").status_code == 200,
            "moto",
            30,
        )
        kms = boto3.client(
            "kms",
            endpoint_url=env["JTAI_S3_ENDPOINT_URL"],
            region_name="eu-west-2",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        env["JTAI_S3_KMS_KEY_ID"] = kms.create_key(Description="jtai documents")["KeyMetadata"][
            "KeyId"
        ]
        layout.start("prefect", [str(SCALED / "prefect-server")])
        _wait(
            lambda: httpx.get(f"{env['JTAI_PREFECT_API_URL']}/health").status_code == 200,
            "Prefect server",
            120,
        )
        layout.run([str(SCALED / "setup")])
        layout.start("api", [str(SCALED / "api")])
        _wait(lambda: httpx.get(f"{layout.api_url}/healthz").status_code == 200, "API", 60)
        layout.start_worker("worker-1")
        layout.start_worker("worker-2")
        yield layout
    finally:
        for name in layout.processes:  # shown by pytest if the test failed
            print(f"----- {name} -----\n{layout.log(name)}")
        for proc in layout.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in layout.processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run([str(SCALED / "postgres"), "stop", str(pg_dir)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)


def _settings(layout: Layout) -> Settings:
    return Settings(
        **{
            k.removeprefix("JTAI_").lower(): v
            for k, v in layout.env.items()
            if k.startswith("JTAI_")
            and k
            not in (
                "JTAI_PREFECT_PORT",
                "JTAI_PREFECT_DATABASE_URL",
                "JTAI_INGEST_CONCURRENCY_LIMIT",
            )
        },
        _env_file=None,  # type: ignore[call-arg]
    )


def _final_counts(engine: Any) -> tuple[int, Counter[str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(DocumentRow.status)).scalars().all()
    statuses = Counter(rows)
    return statuses["accepted"] + statuses["rejected"], statuses


def test_every_upload_reaches_a_final_status_exactly_once_through_a_kill_and_a_restart(
    layout: Layout,
) -> None:
    container = build(_settings(layout), run_migrations=False)
    engine = container.repository.engine
    _p, admin = issue_token(container, Role.admin, label="scaled test")
    client = httpx.Client(base_url=layout.api_url, timeout=60)
    uploaders: list[tuple[str, str]] = []
    for n in range(INSPECTIONS):
        created = client.post(
            "/v1/inspections",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "theme": "domestic-abuse/sept-2024",
                "area_name": f"Area {n}",
                "fieldwork_start": "2027-03-01",
                "agencies": list(AGENCIES),
            },
        )
        assert created.status_code == 201, created.text
        inspection_id = created.json()["id"]
        for agency in AGENCIES:
            issued = client.post(
                f"/v1/inspections/{inspection_id}/tokens",
                headers={"Authorization": f"Bearer {admin}"},
                json={"role": "agency_uploader", "agency": agency},
            )
            uploaders.append((inspection_id, issued.json()["token"]))
    items = {"local_authority": "1.1", "police": "3.1", "health": "4.1"}
    pdfs = [samples.pdf_text_pages(n) for n in (1, 2, 3)]
    rng = random.Random(7)

    def upload(n: int) -> tuple[str, bool]:
        inspection_id, token = uploaders[n % len(uploaders)]
        agency = AGENCIES[(n % len(uploaders)) % len(AGENCIES)]
        infected = n % 25 == 0
        body = EICAR if infected else rng.choice(pdfs)
        response = client.post(
            f"/v1/inspections/{inspection_id}/documents",
            headers={"Authorization": f"Bearer {token}"},
            data={"item": items[agency]},
            files={"file": (f"doc{n}.pdf", body, "application/pdf")},
        )
        assert response.status_code == 202, response.text
        return response.json()["id"], infected

    with ThreadPoolExecutor(max_workers=8) as pool:
        uploads = list(pool.map(upload, range(UPLOADS)))
    infected_ids = {doc_id for doc_id, infected in uploads if infected}

    # A third of the way through, one worker dies without a chance to clean up.
    _wait(lambda: _final_counts(engine)[0] >= UPLOADS // 3, "a third final", 300)
    layout.processes["worker-1"].send_signal(signal.SIGKILL)
    layout.processes["worker-1"].wait()
    # Two thirds through, the database restarts under everyone.
    _wait(lambda: _final_counts(engine)[0] >= 2 * UPLOADS // 3, "two thirds final", 300)
    layout.run([str(SCALED / "postgres"), "restart", str(layout.pg_dir)])

    _wait(lambda: _final_counts(engine)[0] == UPLOADS, "every document final", 420)
    final, statuses = _final_counts(engine)
    assert final == UPLOADS, (statuses, layout.log("worker-2"))

    with engine.connect() as connection:
        outcomes = Counter(
            connection.execute(
                select(AuditEventRow.document_id).where(
                    AuditEventRow.action.in_(("document_accepted", "document_rejected"))
                )
            ).scalars()
        )
        rejected = set(
            connection.execute(
                select(DocumentRow.id).where(DocumentRow.status == "rejected")
            ).scalars()
        )
        total = connection.execute(select(func.count()).select_from(DocumentRow)).scalar()
    assert total == UPLOADS
    assert set(outcomes) == {doc_id for doc_id, _ in uploads}
    assert max(outcomes.values()) == 1, "a document reached a final status twice"
    assert rejected == infected_ids
    assert verify_audit_log(engine).ok
    assert layout.processes["worker-2"].poll() is None, layout.log("worker-2")
    assert layout.processes["api"].poll() is None, layout.log("api")
