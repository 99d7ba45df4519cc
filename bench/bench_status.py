"""Benchmark: the API's CPU to tell an agency the status of 300 documents, one
`GET /v1/documents/{id}` each versus one `POST /v1/documents/status`, with the token cache
on (JTAI_TOKEN_CACHE_SECONDS=5, the default) and off (0).

    .venv/bin/python -m bench.bench_status [--documents 300] [--rounds 5]

A fresh SQLite portal in a temporary directory holds one inspection and `--documents`
documents of one agency (a third accepted, a third rejected, a third still received); the
API runs as in service (`python -m portal.cli api`, its own process) and is asked by one
client over one keep-alive connection. The API process's CPU (user + system, psutil) is
read before and after each round; the figures are per round (all the documents' statuses
once), the median of `--rounds`, with the machine's load average. Last, what
authenticating one request costs (`identify`, in this process) with the cache and without.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from portal.bootstrap import build
from portal.domain.access import Inspection, Role
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.services.identities import identify, issue_token
from portal.settings import Settings

THEME = "domestic-abuse/sept-2024"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STATUSES = (DocumentStatus.accepted, DocumentStatus.rejected, DocumentStatus.received)


def _seed(settings: Settings, documents: int) -> tuple[str, list[str]]:
    """An inspection with `documents` of the police's documents; an uploader's token and
    the documents' ids."""
    container = build(settings)
    inspection = Inspection(
        id=uuid.uuid4().hex,
        theme_key=THEME,
        area_name="Benchshire",
        fieldwork_start=date(2027, 3, 1),
        agencies=("local_authority", "police"),
        created_at=T0,
    )
    container.repository.add_inspection(inspection, actor="bench")
    ids = []
    for n in range(documents):
        status = STATUSES[n % len(STATUSES)]
        document = Document(
            id=uuid.uuid4().hex,
            inspection_id=inspection.id,
            agency="police",
            item_number="1.1",
            original_filename=f"file-{n}.pdf",
            status=status,
            reasons=[ReasonCode.infected] if status is DocumentStatus.rejected else [],
            area=Area.clean if status is DocumentStatus.accepted else Area.quarantine,
            size_bytes=1000 + n,
            received_at=T0,
            updated_at=T0,
            decided_at=T0 if status.is_final else None,
        )
        container.repository.add_document(document, "bench")
        ids.append(document.id)
    _p, token = issue_token(
        container, Role.agency_uploader, inspection_id=inspection.id, agency="police"
    )
    return token, ids


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _api(settings: Settings, cache_seconds: float) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JTAI_")},
        "JTAI_DATA_DIR": str(settings.data_dir),
        "JTAI_API_HOST": "127.0.0.1",
        "JTAI_API_PORT": str(port),
        "JTAI_RATE_LIMIT": "1000000/minute",
        "JTAI_TOKEN_CACHE_SECONDS": str(cache_seconds),
    }
    log = (settings.data_dir / f"api-{cache_seconds}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "api"], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the API process did not start")


def _cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _measure(
    pid: int, rounds: int, one_round: Callable[[], int], repeat: int = 1
) -> tuple[float, int]:
    """Median API CPU seconds of a round (each measured `repeat` times over, since the
    kernel counts CPU in 10 ms ticks), and the requests a round makes."""
    one_round()  # warm up
    spent, requests = [], 0
    for _ in range(rounds):
        before = _cpu(pid)
        for _ in range(repeat):
            requests = one_round()
        spent.append((_cpu(pid) - before) / repeat)
    return statistics.median(spent), requests


def _authentication(settings: Settings, token: str, calls: int = 5000) -> None:
    """In this process: what `identify` costs a request, with the cache and without."""
    for cache_seconds in (5.0, 0.0):
        container = build(settings.model_copy(update={"token_cache_seconds": cache_seconds}))
        identify(container, token)
        started = time.process_time()
        for _ in range(calls):
            identify(container, token)
        each = (time.process_time() - started) / calls
        print(f"authenticating one request, token cache {cache_seconds:g} s: {each * 1e6:7.1f} µs")


def run(documents: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", _env_file=None)  # type: ignore[call-arg]
        token, ids = _seed(settings, documents)
        headers = {"Authorization": f"Bearer {token}"}
        print(f"{documents} documents; API CPU per round (all statuses once), median of {rounds}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for cache_seconds in (5.0, 0.0):
            proc, url = _api(settings, cache_seconds)
            try:
                with httpx.Client(base_url=url, headers=headers, timeout=60) as client:

                    def one_by_one() -> int:
                        for document_id in ids:
                            response = client.get(f"/v1/documents/{document_id}")
                            assert response.status_code == 200, response.text
                        return len(ids)

                    def bulk() -> int:
                        calls = 0
                        for start in range(0, len(ids), 500):
                            response = client.post(
                                "/v1/documents/status", json={"ids": ids[start : start + 500]}
                            )
                            assert response.status_code == 200, response.text
                            assert len(response.json()["documents"]) == len(
                                ids[start : start + 500]
                            )
                            calls += 1
                        return calls

                    for name, one_round, repeat in (
                        ("one by one", one_by_one, 1),
                        ("bulk", bulk, 20),
                    ):
                        cpu, requests = _measure(proc.pid, rounds, one_round, repeat)
                        print(
                            f"token cache {cache_seconds:g} s  {name:10}  {requests:4} requests  "
                            f"API CPU {cpu * 1000:8.1f} ms  ({cpu * 1000 / requests:6.2f} ms "
                            "a request)"
                        )
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        _authentication(settings, token)
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    run(arguments.documents, arguments.rounds)


if __name__ == "__main__":
    main()
