"""The README's curl lines for agencies work as written, through the real API process:
the block between its `agency-curl` markers is run by bash, with curl, as a reader would
run it; the upload is given its verdict while the status call waits for it."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from pathlib import Path

from portal.domain.access import Role
from portal.domain.documents import Area, DocumentStatus
from portal.services.identities import issue_token
from portal.settings import REPO_ROOT, Settings
from tests import samples
from tests.api_process import api_process
from tests.conftest import ClamdProcess
from tests.factories import add_inspection, build_beside_processes

# Far beyond the block's own wait (30 s): a run that takes this long has hung.
HUNG_SECONDS = 120


def _agency_block() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    found = re.search(
        r"<!-- agency-curl:start[^\n]*\n```sh\n(.*?)```\n<!-- agency-curl:end -->", readme, re.S
    )
    assert found, "README.md has no agency-curl block"
    return found.group(1)


def test_the_readmes_agency_curl_lines_upload_then_wait_for_the_verdict(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    container = build_beside_processes(settings)
    inspection = add_inspection(container)
    _p, token = issue_token(
        container, Role.agency_uploader, inspection_id=inspection, agency="local_authority"
    )
    workdir = tmp_path / "client"
    workdir.mkdir()
    (workdir / "report.pdf").write_bytes(samples.pdf_of_size(4096))
    stop = threading.Event()

    def verdict_while_it_waits() -> None:
        """The pipeline's part, done by the test: the upload accepted once it has arrived."""
        while not stop.is_set():
            for document in container.repository.inspection_documents(inspection):
                if document.status is DocumentStatus.received:
                    now = container.clock.now()
                    container.repository.claim_documents([document.id], "readme", now)
                    container.repository.record_outcome(
                        document.id, "readme", now, status=DocumentStatus.accepted, area=Area.clean
                    )
                    return
            time.sleep(0.1)

    with api_process(settings, tmp_path / "api.log") as url:
        judge = threading.Thread(target=verdict_while_it_waits, daemon=True)
        judge.start()
        try:
            run = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", _agency_block()],
                cwd=workdir,
                env={
                    "PATH": "/usr/bin:/bin",
                    "PORTAL": url,
                    "TOKEN": token,
                    "INSPECTION": inspection,
                },
                capture_output=True,
                text=True,
                timeout=HUNG_SECONDS,
            )
        finally:
            stop.set()
            judge.join(timeout=10)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    [document] = container.repository.inspection_documents(inspection)
    assert answer["pending"] == [] and answer["unknown"] == []
    assert [(d["id"], d["status"]) for d in answer["documents"]] == [(document.id, "accepted")]
