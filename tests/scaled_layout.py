"""The scaled layout on one machine, brought up with the runbook's own scripts (infra/scaled/*).

    with scaled_layout(workers=2) as layout:
        ...  # layout.api_url, layout.settings(), layout.processes["worker-1"], ...

Brings up, in this order: moto's S3 server (dev-s3) and a KMS key in it for SSE-KMS,
PostgreSQL (`postgres init`: databases `portal` and `prefect`), the Prefect server on
PostgreSQL (prefect-server), `setup` (migrations, the Prefect concurrency limit on ingest
runs, the bucket), the API, and N workers each with its own clamd beside it. On leaving,
every process started here is stopped (by its id), PostgreSQL is stopped and the temporary
directories are removed. Used by tests/scenario/test_scaled_layout.py and bench/burst.py.

Nothing here imports pytest.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import httpx

from portal.adapters.audit_keys import load_keyring
from portal.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCALED = ROOT / "infra" / "scaled"

# JTAI_* variables that are not Settings fields (they are read by the infra/scaled scripts).
_NOT_SETTINGS = ("JTAI_PREFECT_PORT", "JTAI_PREFECT_DATABASE_URL", "JTAI_INGEST_CONCURRENCY_LIMIT")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], what: str, timeout: float) -> None:
    """Call `check` until it returns True (connection errors count as not yet); else fail."""
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
    """The running layout: its environment (every process gets it), logs and processes."""

    env: dict[str, str]
    work: Path
    pg_dir: Path
    api_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    workers: list[str] = field(default_factory=list)

    def start(self, name: str, args: list[str], **env: str) -> subprocess.Popen[bytes]:
        """Start a foreground process with the layout's environment; its log is work/NAME.log."""
        log = (self.work / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        self.processes[name] = proc
        return proc

    def run(self, args: list[str]) -> str:
        """Run a one-off command with the layout's environment; its stdout (fails if it fails)."""
        done = subprocess.run(args, env=self.env, capture_output=True, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        return done.stdout.decode()

    def log_path(self, name: str) -> Path:
        return self.work / f"{name}.log"

    def log(self, name: str) -> str:
        """The last 3,000 characters of a process's log."""
        return self.log_path(name).read_text(errors="replace")[-3000:]

    def start_worker(self, name: str) -> None:
        """A worker (infra/scaled/worker) with its own clamd (infra/scaled/clamd) beside it."""
        clamd_dir = self.work / f"clamd-{name}"
        self.start(f"clamd-{name}", [str(SCALED / "clamd"), str(clamd_dir)])
        wait_until(lambda: (clamd_dir / "clamd.sock").exists(), f"clamd of {name}", 60)
        self.start(
            name,
            [str(SCALED / "worker")],
            JTAI_CLAMD_SOCKET=str(clamd_dir / "clamd.sock"),
            JTAI_DATA_DIR=str(self.work / name),
            JTAI_WORKER_ID=name,  # two workers on one host: each its own id
        )
        self.workers.append(name)

    def wait_for_workers(self, timeout: float = 120) -> None:
        """Wait until every worker's dispatcher says it is running."""
        for name in self.workers:
            wait_until(partial(self._worker_ready, name), name, timeout)

    def _worker_ready(self, name: str) -> bool:
        if self.processes[name].poll() is not None:
            raise AssertionError(f"{name} exited: {self.log(name)}")
        return "ingest dispatcher running" in self.log_path(name).read_text(errors="replace")

    def settings(self) -> Settings:
        """The portal's Settings as the API and workers read them from the environment."""
        values: dict[str, Any] = {
            k.removeprefix("JTAI_").lower(): v
            for k, v in self.env.items()
            if k.startswith("JTAI_") and k not in _NOT_SETTINGS
        }
        return Settings(**values, _env_file=None)  # type: ignore[call-arg]

    def postmaster_pid(self) -> int | None:
        """The PostgreSQL server's process id, if it runs."""
        try:
            return int((self.pg_dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


@contextmanager
def scaled_layout(
    workers: int = 2,
    work_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    print_logs: bool = True,
    s3_env: dict[str, str] | None = None,
) -> Iterator[Layout]:
    """Bring the scaled layout up with `workers` workers (each with its clamd), then down.

    `work_dir` receives the logs and the processes' state and is kept (default: a temporary
    directory, removed at the end). `extra_env` is added to (and may override) every
    process's environment, e.g. JTAI_BATCH_MAX_DOCUMENTS. With `print_logs` the end of every
    process's log is printed when the layout stops (pytest shows it if the test failed).
    `s3_env` is added to the environment of the dev S3 server only.
    PostgreSQL always gets a temporary directory of its own, as its server runs as the
    postgres user when this runs as root.
    """
    own_work = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="jtai-scaled-")) if work_dir is None else work_dir
    work.mkdir(parents=True, exist_ok=True)
    pg_dir = Path(tempfile.mkdtemp(prefix="jtai-scaled-pg-"))
    ports = {name: free_port() for name in ("pg", "prefect", "s3", "api")}
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
        # The runbook's cluster cap: the sum of the workers' ingest runs at once.
        "JTAI_INGEST_CONCURRENCY_LIMIT": str(2 * workers),
        "JTAI_INGEST_CONCURRENCY_LIMIT_NAME": "ingest",
        # One audit key for every process, as the runbook's /etc/jtai/audit-key.
        "JTAI_AUDIT_KEY_FILE": str(work / "audit-key"),
        **(extra_env or {}),
    }
    load_keyring(work / "audit-key", create_at=datetime.now(UTC))
    layout = Layout(env, work, pg_dir, f"http://127.0.0.1:{ports['api']}")
    try:
        layout.start("s3", [str(SCALED / "dev-s3"), str(ports["s3"])], **(s3_env or {}))
        layout.run([str(SCALED / "postgres"), "init", str(pg_dir), str(ports["pg"])])
        env["JTAI_DATABASE_URL"] = layout.run(
            [str(SCALED / "postgres"), "url", str(pg_dir), "portal"]
        ).strip()
        env["JTAI_PREFECT_DATABASE_URL"] = layout.run(
            [str(SCALED / "postgres"), "url", str(pg_dir), "prefect"]
        ).strip()
        wait_until(
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
        wait_until(
            lambda: httpx.get(f"{env['JTAI_PREFECT_API_URL']}/health").status_code == 200,
            "Prefect server",
            120,
        )
        layout.run([str(SCALED / "setup")])
        layout.start("api", [str(SCALED / "api")])
        wait_until(lambda: httpx.get(f"{layout.api_url}/healthz").status_code == 200, "API", 60)
        for n in range(1, workers + 1):
            layout.start_worker(f"worker-{n}")
        yield layout
    finally:
        if print_logs:
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
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)
