"""The scaled layout on one machine, brought up with the runbook's own scripts
(infra/scaled/*): PostgreSQL for metadata and for the Prefect server, moto's S3 server
(SSE-KMS), two workers each with clamd beside it, the API. 500 uploads from several agencies
of several inspections; one worker is killed with SIGKILL and PostgreSQL restarted while
they are processed. Every document reaches a final status, exactly once."""

from __future__ import annotations

import random
import signal
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from portal.adapters.db.audit_log import verify_audit_log
from portal.adapters.db.tables import AuditEventRow, DocumentRow
from portal.domain.access import Role
from portal.services.identities import issue_token
from tests import samples
from tests.factories import build_beside_processes
from tests.scaled_layout import SCALED, Layout, scaled_layout
from tests.scaled_layout import wait_until as _wait

pytestmark = pytest.mark.services

UPLOADS = 500
INSPECTIONS = 3
AGENCIES = ("local_authority", "police", "health")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# Short leases and retry delays, so the killed worker's documents come back within the test.
TEST_ENV = {
    "JTAI_PROCESSING_LEASE_SECONDS": "20",
    "JTAI_RETRY_DELAY_SECONDS": "1",
    "JTAI_FLOW_RETRY_DELAY_SECONDS": "1",
    "JTAI_RATE_LIMIT": "100000/minute",
    "JTAI_BATCH_MAX_DOCUMENTS": "16",
}


@pytest.fixture
def layout() -> Iterator[Layout]:
    with scaled_layout(workers=2, extra_env=TEST_ENV) as layout:
        yield layout


def _final_counts(engine: Any) -> tuple[int, Counter[str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(DocumentRow.status)).scalars().all()
    statuses = Counter(rows)
    return statuses["accepted"] + statuses["rejected"], statuses


def test_every_upload_reaches_a_final_status_exactly_once_through_a_kill_and_a_restart(
    layout: Layout,
) -> None:
    container = build_beside_processes(layout.settings(), run_migrations=False)
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
    assert verify_audit_log(engine, container.audit_keys).ok
    assert layout.processes["worker-2"].poll() is None, layout.log("worker-2")
    assert layout.processes["api"].poll() is None, layout.log("api")
