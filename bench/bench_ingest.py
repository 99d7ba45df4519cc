"""Ingest benchmark: clamd alone, the pipeline in a plain loop, and the Prefect flow via the API.

    .venv/bin/python -m bench.bench_ingest [--quick] [--only a,b,c,...]
                                           [--profile] [--keep]

One run, one generated corpus (bench/corpus.py), measured five ways:

  (a)  clamd alone: ClamdScanner.scan of every file, one after another;
  (b)  the ingest steps in a plain loop, no Prefect: store.put into quarantine +
       repository.add_document, then claim_documents + portal.ingest.process_document, on a
       container from portal.bootstrap.build (filesystem store, SQLite, temp data dir);
  (c)  the real processes (clamd, Prefect server on SQLite, `portal.cli api`, `portal.cli
       worker`): every file uploaded over HTTP by 4 client threads, polled until final;
       with --prefect-database postgresql the Prefect server runs on PostgreSQL instead, as
       infra/scaled/prefect-server runs it (a throwaway cluster, fsync on, a fresh database
       per phase; its CPU shows in the "other procs" column);
  (c1) as (c) with JTAI_BATCH_MAX_DOCUMENTS=1 (one flow run per document);
  (c2) as (c) with JTAI_DISPATCHER_CONCURRENCY=1 (full run only);
  and latency on the (c) stack: single uploads of files up to 5 MB, one at a time, from the
  POST starting to the verdict (its decided_at; the status polled every 200 ms, as a
  client within the default rate limit would). Every request runs under the portal's
  default settings, rate limits included: a 429 or 503 with Retry-After is waited out and
  sent again, as a well-behaved client does, and counted in the report.

Every phase gets a freshly started clamd: clamd caches the verdict of clean files by hash,
so a second scan of the same bytes in one clamd costs a tenth of the first. Every document
must reach its expected final status (accepted, or rejected as infected for EICAR) with
its expected warning; otherwise the run is invalid and exits with status 1.

The results table is printed and written to bench/results/<UTC timestamp>.md, with the raw
numbers beside it as .json.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import psutil  # type: ignore[import-untyped]
from sqlalchemy import select

from bench.corpus import Corpus, CorpusFile
from bench.corpus import build as build_corpus
from portal.adapters.db.tables import DocumentRow
from portal.bootstrap import Container, build, make_scanner
from portal.cli import PREFECT_SERVER_TUNING, clamd_threads, prefect_server_command
from portal.demo import ensure_demo_inspection
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.scanning import ScanStatus
from portal.ingest import process_document
from portal.settings import REPO_ROOT, Settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ITEM = "1.1"
AGENCY = "local_authority"
UPLOAD_THREADS = 4
# A client polling one document's status 5 times a second stays well inside the default
# per-token limit (600/minute); the latency itself is taken from the verdict's own time
# (decided_at), so it does not depend on how often the client looks.
THROUGHPUT_POLL_SECONDS = 0.25
MB = 1_000_000  # figures are in decimal megabytes
TARGET_C_OVER_B = 0.8
TARGET_P95_SECONDS = 4.0
LOG_PATTERNS = {
    "database is locked": re.compile(r"database is locked", re.I),
    # Logged by the Prefect server (PREFECT_SERVER_LOG_RETRYABLE_ERRORS) for each request it
    # answers 503 because SQLite was locked; the client waits ~2 s and sends it again.
    "503 database locked": re.compile(r"Encountered retryable exception in request"),
    "Traceback": re.compile(r"^Traceback", re.M),
    "run ended in failure": re.compile(r"ingest run ended in failure"),
    "document will be retried": re.compile(r"will be retried"),
    "claim lost": re.compile(r"claim on \S+ was lost"),
}


class BenchmarkInvalid(RuntimeError):
    """A document did not reach its expected final status, or a service failed."""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes -----------------------------------------------------------------------


class Proc:
    """A child process this benchmark started, with its log and CPU accounting."""

    running: ClassVar[list[Proc]] = []

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            args,
            env=env,
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of the benchmark reaches them through stop()
        )
        self.ps = psutil.Process(self.popen.pid)
        Proc.running.append(self)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the process and its descendants so far."""
        try:
            times = self.ps.cpu_times()
            total = times.user + times.system + times.children_user + times.children_system
            children = self.ps.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0.0
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        return float(total)

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate the process (and any descendants it leaves behind), by their ids."""
        if self in Proc.running:
            Proc.running.remove(self)
        try:
            descendants = self.ps.children(recursive=True)
        except psutil.NoSuchProcess:
            descendants = []
        if self.alive:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        for child in descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.is_running():
                    child.terminate()
                    try:
                        child.wait(timeout=10)
                    except psutil.TimeoutExpired:
                        child.kill()
        self._log.close()

    @classmethod
    def stop_all(cls) -> None:
        for proc in reversed(list(cls.running)):
            proc.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], what: str, timeout: float, proc: Proc) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive:
            raise BenchmarkInvalid(
                f"{what} exited ({proc.popen.returncode}); "
                f"log: {proc.log_path}\n{proc.log_text()[-3000:]}"
            )
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise BenchmarkInvalid(f"{what} was not ready within {timeout:.0f} s; log: {proc.log_path}")


def start_clamd(state_dir: Path, max_threads: int | None = None) -> tuple[Proc, Path]:
    """A fresh clamd (empty verdict cache) on a Unix socket in `state_dir`, with
    `max_threads` scans at once (default: infra/clamd/start-clamd's)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if max_threads is not None:
        env["CLAMD_MAX_THREADS"] = str(max_threads)
    proc = Proc(
        "clamd",
        [str(REPO_ROOT / "infra/clamd/start-clamd"), str(state_dir)],
        env,
        state_dir / "clamd.log",
    )
    socket_path = state_dir / "clamd.sock"
    scanner = make_scanner(Settings(clamd_socket=socket_path, clamd_timeout_seconds=5))

    def pong() -> bool:
        scanner.check()
        return True

    wait_for(pong, "clamd", 90, proc)
    return proc, socket_path


# --- CPU accounting ------------------------------------------------------------------


def _system_busy() -> float:
    """CPU seconds the machine's processes ran (not idle, I/O wait or hypervisor steal)."""
    times = psutil.cpu_times()
    return float(
        times.user
        + times.nice
        + times.system
        + getattr(times, "irq", 0.0)
        + getattr(times, "softirq", 0.0)
    )


class CpuMeter:
    """CPU seconds per process over a window, and what the rest of the machine used."""

    def __init__(self, procs: dict[str, Proc]) -> None:
        self.procs = procs
        self._me = psutil.Process()

    def _snapshot(self) -> dict[str, float]:
        mine = self._me.cpu_times()
        snap = {name: proc.cpu_seconds() for name, proc in self.procs.items()}
        snap["bench"] = mine.user + mine.system
        snap["_system"] = _system_busy()
        return snap

    def _others(self) -> dict[int, tuple[str, float]]:
        """CPU so far of every process that is not this benchmark's (by pid)."""
        ours = {self._me.pid}
        for proc in self.procs.values():
            ours.add(proc.ps.pid)
            with contextlib.suppress(psutil.NoSuchProcess):
                ours.update(c.pid for c in proc.ps.children(recursive=True))
        others = {}
        for proc in psutil.process_iter(["pid", "name", "cmdline", "cpu_times"]):
            info = proc.info
            if info["pid"] in ours or info["cpu_times"] is None:
                continue
            label = " ".join((info["cmdline"] or [info["name"] or "?"])[:3])[:70]
            others[info["pid"]] = (label, info["cpu_times"].user + info["cpu_times"].system)
        return others

    def start(self) -> None:
        self._start = self._snapshot()
        self._start_others = self._others()

    def stop(self) -> tuple[dict[str, float], float]:
        end = self._snapshot()
        used = {name: end[name] - self._start[name] for name in end if name != "_system"}
        system = end["_system"] - self._start["_system"]
        deltas = []
        for pid, (label, cpu) in self._others().items():
            before = self._start_others.get(pid, (label, 0.0))[1]
            if cpu - before > 0.5:
                deltas.append((cpu - before, f"{label} (pid {pid})"))
        self.foreign_top = [f"{label}: {cpu:.1f} s" for cpu, label in sorted(deltas)[::-1][:3]]
        return used, max(0.0, system - sum(used.values()))


# --- results -------------------------------------------------------------------------


@dataclasses.dataclass
class PhaseResult:
    key: str
    title: str
    config: str
    docs: int
    bytes: int
    wall: float
    cpu: dict[str, float]
    foreign_cpu: float
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.wall

    @property
    def mb_per_s(self) -> float:
        return self.bytes / MB / self.wall


@dataclasses.dataclass
class LatencyResult:
    samples: list[dict[str, Any]]

    def quantile(self, q: float, key: str = "decided_s") -> float:
        values = sorted(s[key] for s in self.samples)
        return float(values[max(0, math.ceil(q * len(values)) - 1)])  # nearest rank


def check_outcome(cf: CorpusFile, status: str, reasons: list[str], warnings: list[str]) -> str:
    """'' if the document ended as the corpus says it must, else what went wrong."""
    if status != cf.expected:
        return f"{cf.name}: {status} {reasons} (expected {cf.expected} {cf.reason or ''})"
    if cf.reason and cf.reason not in reasons:
        return f"{cf.name}: {status} with reasons {reasons} (expected {cf.reason})"
    if cf.warning and cf.warning not in warnings:
        return f"{cf.name}: warnings {warnings} (expected {cf.warning})"
    return ""


def fail_if_any(problems: list[str], phase: str) -> None:
    if problems:
        listing = "\n  ".join(problems[:30])
        raise BenchmarkInvalid(
            f"{phase}: {len(problems)} documents did not end as expected; "
            f"the measurement is invalid:\n  {listing}"
        )


# --- (a) clamd alone -----------------------------------------------------------------


def phase_a(corpus: Corpus, work: Path) -> PhaseResult:
    clamd, socket_path = start_clamd(work / "a-clamd")
    try:
        scanner = make_scanner(Settings(clamd_socket=socket_path))
        meter = CpuMeter({"clamd": clamd})
        problems = []
        meter.start()
        started = time.perf_counter()
        for cf in corpus.throughput:
            with cf.path.open("rb") as source:
                reply = scanner.scan(source)
            expected = ScanStatus.found if cf.reason == "infected" else ScanStatus.clean
            if reply.status is not expected:
                problems.append(f"{cf.name}: clamd said {reply.raw!r}")
        wall = time.perf_counter() - started
        cpu, foreign = meter.stop()
        fail_if_any(problems, "(a)")
    finally:
        clamd.stop()
    return PhaseResult(
        "a",
        "clamd alone",
        "ClamdScanner.scan, one file at a time",
        len(corpus.throughput),
        corpus.throughput_bytes,
        wall,
        cpu,
        foreign,
        {"foreign_top": meter.foreign_top},
    )


# --- (b) the steps in a plain loop ---------------------------------------------------


class Timed:
    """A proxy that adds the time spent in chosen methods to named buckets."""

    def __init__(
        self, inner: Any, buckets: dict[str, float], methods: dict[str, Callable[..., str]]
    ) -> None:
        self._inner = inner
        self._buckets = buckets
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        bucket_of = self._methods.get(name)
        if bucket_of is None:
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            bucket = bucket_of(*args, **kwargs)
            started = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self._buckets[bucket] = (
                    self._buckets.get(bucket, 0.0) + time.perf_counter() - started
                )

        return timed


def _named(bucket: str) -> Callable[..., str]:
    return lambda *args, **kwargs: bucket


def timed_container(container: Container, buckets: dict[str, float]) -> Container:
    def put_bucket(area: Area, *args: Any, **kwargs: Any) -> str:
        return "intake: store.put quarantine" if area is Area.quarantine else "route: store.put"

    return dataclasses.replace(
        container,
        store=Timed(
            container.store,
            buckets,
            {
                "put": put_bucket,
                "put_file": _named("route: store.put_file (sanitised copy, renamed)"),
                "delete": _named("discard quarantine"),
            },
        ),
        scanner=Timed(container.scanner, buckets, {"scan": _named("scan (clamd)")}),
        classifier=Timed(
            container.classifier, buckets, {"classify": _named("classify (libmagic)")}
        ),
        sanitiser=Timed(
            container.sanitiser, buckets, {"sanitise_pdf": _named("sanitise (pikepdf)")}
        ),
        repository=Timed(
            container.repository,
            buckets,
            {  # type: ignore[arg-type]
                "add_document": _named("intake: add_document"),
                "claim_documents": _named("claim_documents"),
                "record_outcomes": _named("record_outcomes"),
            },
        ),
    )


def _intake(container: Container, inspection_id: str, name: str, path: Path) -> Document:
    """What the API does with an upload: bytes into quarantine, a `received` row."""
    document_id = uuid.uuid4().hex
    with path.open("rb") as source:
        stored = container.store.put(Area.quarantine, f"{inspection_id}/{document_id}", source)
    now = datetime.now(UTC)
    document = Document(
        id=document_id,
        inspection_id=inspection_id,
        agency=AGENCY,
        item_number=ITEM,
        original_filename=name,
        declared_content_type="application/octet-stream",
        status=DocumentStatus.received,
        size_bytes=stored.size,
        sha256_received=stored.sha256,
        received_at=now,
        updated_at=now,
    )
    container.repository.add_document(document, "bench")
    return document


def phase_b(corpus: Corpus, work: Path, warmup_file: Path) -> PhaseResult:
    clamd, socket_path = start_clamd(work / "b-clamd")
    try:
        settings = Settings(data_dir=work / "b-data", clamd_socket=socket_path)
        buckets: dict[str, float] = {}
        container = timed_container(build(settings), buckets)
        inspection_id = ensure_demo_inspection(container)["inspection_id"]
        services = container.ingest_services()

        def one(name: str, path: Path) -> tuple[str, list[str], list[str]]:
            document = _intake(container, inspection_id, name, path)
            token = uuid.uuid4().hex
            claimed = container.repository.claim_documents([document.id], token, datetime.now(UTC))
            if len(claimed) != 1:
                raise BenchmarkInvalid(f"(b): could not claim {name}")
            result = process_document(claimed[0], token, services)
            if not result.recorded:
                raise BenchmarkInvalid(f"(b): verdict of {name} was not recorded")
            return (
                result.status.value,
                [r.value for r in result.reasons],
                [w.value for w in result.warnings],
            )

        one("warmup.pdf", warmup_file)  # imports, first connections, policy caches
        buckets.clear()
        meter = CpuMeter({"clamd": clamd})
        problems = []
        meter.start()
        started = time.perf_counter()
        for cf in corpus.throughput:
            problem = check_outcome(cf, *one(cf.name, cf.path))
            if problem:
                problems.append(problem)
        wall = time.perf_counter() - started
        cpu, foreign = meter.stop()
        fail_if_any(problems, "(b)")
    finally:
        clamd.stop()
    breakdown = dict(sorted(buckets.items(), key=lambda kv: -kv[1]))
    breakdown["other (tempdir, hashing, models, loop)"] = wall - sum(buckets.values())
    return PhaseResult(
        "b",
        "pipeline, plain loop",
        "no Prefect, no HTTP, one document at a time",
        len(corpus.throughput),
        corpus.throughput_bytes,
        wall,
        cpu,
        foreign,
        {"breakdown_s": breakdown, "foreign_top": meter.foreign_top},
    )


# --- (c) the real processes ----------------------------------------------------------


class Stack:
    """clamd + Prefect server + API + worker, as `jtai-portal up` runs them, in a temp dir."""

    def __init__(
        self,
        root: Path,
        worker_env: dict[str, str],
        worker_module: str = "portal.cli worker",
        prefect_database: str | None = None,
    ) -> None:
        self.root = root
        self.prefect_database = prefect_database
        self.worker_env = worker_env
        self.worker_module = worker_module
        self.procs: dict[str, Proc] = {}
        self.waits: dict[int, int] = {}  # requests answered 429/503 + Retry-After, by status
        self._waits_lock = threading.Lock()

    def start(self) -> None:
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        prefect_port, api_port = free_port(), free_port()
        self.prefect_url = f"http://127.0.0.1:{prefect_port}/api"
        self.api_url = f"http://127.0.0.1:{api_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JTAI_", "PREFECT_"))}
        env.update(
            {
                "JTAI_DATA_DIR": str(data),
                "JTAI_API_PORT": str(api_port),
                "JTAI_PREFECT_API_URL": self.prefect_url,
                "PREFECT_API_URL": self.prefect_url,
                "PREFECT_HOME": str(self.root / "prefect"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                **PREFECT_SERVER_TUNING,
                "PREFECT_LOGGING_LEVEL": "WARNING",  # as `jtai-portal up` runs them
                "PYTHONUNBUFFERED": "1",
            }
        )
        # An experiment's settings for the portal's processes, e.g.
        # BENCH_PORTAL_ENV="JTAI_UPLOAD_SCAN_CONNECTIONS=0 JTAI_BATCH_MAX_DOCUMENTS=16".
        for pair in os.environ.get("BENCH_PORTAL_ENV", "").split():
            name, _, value = pair.partition("=")
            env[name] = value
        # clamd as `jtai-portal up` starts it: a thread for every connection the portal's
        # processes may open (portal.cli.clamd_threads), with the experiment's settings.
        portal_settings = Settings(
            **{k[len("JTAI_") :].lower(): v for k, v in env.items() if k.startswith("JTAI_")}
        )
        self.procs["clamd"], socket_path = start_clamd(
            data / "clamd", clamd_threads(portal_settings)
        )
        env["JTAI_CLAMD_SOCKET"] = str(socket_path)
        self.env = env
        subprocess.run(
            [sys.executable, "-m", "portal.cli", "migrate"],
            env=env,
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
        prefect_env = {**env, "PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true"}
        if self.prefect_database is not None:
            prefect_env["PREFECT_API_DATABASE_CONNECTION_URL"] = _fresh_database(
                self.prefect_database, "prefect_" + self.root.name
            )
        # The server logs each request it answers 503 (SQLite locked), so they can be counted.
        prefect = Proc(
            "prefect",
            prefect_server_command(prefect_port),
            prefect_env,
            self.root / "prefect.log",
        )
        self.procs["prefect"] = prefect
        wait_for(
            lambda: httpx.get(self.prefect_url + "/health", timeout=3).is_success,
            "Prefect server",
            240,
            prefect,
        )
        container = build(Settings(data_dir=data, clamd_socket=socket_path), run_migrations=False)
        self.repository = container.repository
        demo = ensure_demo_inspection(container)
        self.inspection_id = demo["inspection_id"]
        self.headers = {"Authorization": f"Bearer {demo['tokens'][AGENCY]}"}
        api = Proc("api", [sys.executable, "-m", "portal.cli", "api"], env, self.root / "api.log")
        self.procs["api"] = api
        wait_for(
            lambda: httpx.get(self.api_url + "/healthz", timeout=3).is_success, "API", 120, api
        )
        worker = Proc(
            "worker",
            [sys.executable, "-m", *self.worker_module.split()],
            {**env, **self.worker_env},
            self.root / "worker.log",
        )
        self.procs["worker"] = worker
        wait_for(lambda: "ingest dispatcher running" in worker.log_text(), "worker", 120, worker)

    def stop(self) -> None:
        for name in ("worker", "api", "prefect", "clamd"):
            if name in self.procs:
                self.procs[name].stop()

    def upload(self, client: httpx.Client, cf_name: str, path: Path) -> str:
        def post() -> httpx.Response:
            with path.open("rb") as source:
                return client.post(
                    f"{self.api_url}/v1/inspections/{self.inspection_id}/documents",
                    headers=self.headers,
                    data={"item": ITEM},
                    files={"file": (cf_name, source, "application/octet-stream")},
                )

        response = self._politely(post)
        if response.status_code != 202:
            raise BenchmarkInvalid(
                f"upload of {cf_name}: {response.status_code} {response.text[:500]}"
            )
        document_id: str = response.json()["id"]
        return document_id

    def status(self, client: httpx.Client, document_id: str) -> dict[str, Any]:
        response = self._politely(
            lambda: client.get(f"{self.api_url}/v1/documents/{document_id}", headers=self.headers)
        )
        if response.status_code != 200:
            raise BenchmarkInvalid(
                f"status of {document_id}: {response.status_code} {response.text[:500]}"
            )
        body: dict[str, Any] = response.json()
        return body

    def wait_final(self, client: httpx.Client, document_id: str, wait: float) -> dict[str, Any]:
        """The document's status once final or after `wait` seconds, in one request:
        `POST /v1/documents/status` with `wait_seconds`, as the README tells agencies."""
        response = self._politely(
            lambda: client.post(
                f"{self.api_url}/v1/documents/status",
                headers=self.headers,
                json={"ids": [document_id], "wait_seconds": wait},
            )
        )
        if response.status_code != 200:
            raise BenchmarkInvalid(
                f"status of {document_id}: {response.status_code} {response.text[:500]}"
            )
        (body,) = response.json()["documents"]
        return body  # type: ignore[no-any-return]

    def _politely(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Send a request as a well-behaved client does under the portal's default limits:
        answered 429 (too many requests) or 503 (uploads busy) with Retry-After, wait that
        long and send it again (the waits are counted and reported)."""
        while True:
            response = send()
            retry_after = response.headers.get("Retry-After")
            if response.status_code not in (429, 503) or retry_after is None:
                return response
            with self._waits_lock:
                self.waits[response.status_code] = self.waits.get(response.status_code, 0) + 1
            time.sleep(float(retry_after))

    def flow_run_counts(self) -> dict[str, int]:
        counts = {}
        for state in ("COMPLETED", "FAILED", "CRASHED"):
            response = httpx.post(
                f"{self.prefect_url}/flow_runs/count",
                json={"flow_runs": {"state": {"type": {"any_": [state]}}}},
                timeout=30,
            )
            response.raise_for_status()
            counts[state.lower()] = int(response.json())
        response = httpx.post(f"{self.prefect_url}/flow_runs/count", json={}, timeout=30)
        response.raise_for_status()
        counts["all"] = int(response.json())
        return counts

    def log_offsets(self) -> dict[str, int]:
        return {name: len(self.procs[name].log_text()) for name in ("worker", "api", "prefect")}

    def log_counts(self, start: dict[str, int], end: dict[str, int]) -> dict[str, dict[str, int]]:
        """How often each LOG_PATTERNS entry occurs in each log between two offsets."""
        counts = {}
        for name in ("worker", "api", "prefect"):
            text = self.procs[name].log_text()[start[name] : end[name]]
            counts[name] = {
                label: len(pattern.findall(text)) for label, pattern in LOG_PATTERNS.items()
            }
        return counts


def _throttled(extra: dict[str, Any]) -> str:
    """How many requests the portal's limits made wait: in the throughput run, and with
    the latency run after it."""

    def said(waits: dict[Any, int]) -> str:
        return ", ".join(f"{n} x {status}" for status, n in sorted(waits.items())) or "none"

    text = said(extra.get("throttled", {}))
    if "throttled_with_latency" in extra:
        text += f" (with the latency run: {said(extra['throttled_with_latency'])})"
    return text


def _wait_final(
    stack: Stack, client: httpx.Client, document_id: str, timeout: float
) -> tuple[dict[str, Any], float]:
    deadline = time.monotonic() + timeout
    while True:
        body = stack.wait_final(client, document_id, min(30.0, timeout))
        if body["final"]:
            return body, time.time()
        if time.monotonic() > deadline:
            raise BenchmarkInvalid(
                f"document {document_id} not final after {timeout:.0f} s: "
                f"{body['status']} {body['reasons']}"
            )


def _decided(body_or_doc: Any) -> float:
    value = body_or_doc["decided_at"] if isinstance(body_or_doc, dict) else body_or_doc
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    stamp: float = value.timestamp()
    return stamp


def run_throughput(
    stack: Stack, files: list[CorpusFile], timeout: float
) -> tuple[float, dict[str, Any]]:
    """Upload every file (4 threads) and poll until all are final; return (wall, extra)."""
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=600)
        return local.client  # type: ignore[no-any-return]

    uploaded: dict[int, tuple[str, float, float]] = {}

    def upload(index: int, cf: CorpusFile) -> None:
        started = time.time()
        document_id = stack.upload(client(), cf.name, cf.path)
        uploaded[index] = (document_id, started, time.time())

    poller = httpx.Client(timeout=60)
    pending: list[int] = []  # in upload-completion order
    observed: dict[int, float] = {}
    seen_failed: set[int] = set()
    t0 = time.time()
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="upload") as pool:
        futures: dict[Future[None], int] = {
            pool.submit(upload, i, cf): i for i, cf in enumerate(files)
        }
        while True:
            for future in [f for f in futures if f.done()]:
                future.result()  # an upload that failed makes the run invalid
                pending.append(futures.pop(future))
            # Poll the oldest document not yet final, and the next while they are final:
            # a few requests a second, so the API process is not kept busy by the poller.
            while pending:
                index = pending[0]
                body = stack.status(poller, uploaded[index][0])
                if body["status"] == DocumentStatus.failed.value:
                    seen_failed.add(index)
                if not body["final"]:
                    break
                observed[index] = time.time()
                pending.pop(0)
            if not futures and not pending:
                break
            if time.monotonic() > deadline:
                raise BenchmarkInvalid(
                    f"throughput: {len(pending) + len(futures)} documents "
                    f"not final after {timeout:.0f} s"
                )
            time.sleep(THROUGHPUT_POLL_SECONDS)
    poller.close()
    problems, decided, attempts = [], [], []
    for index, cf in enumerate(files):
        document = stack.repository.get_document(uploaded[index][0])
        assert document is not None
        problem = check_outcome(
            cf,
            document.status.value,
            [r.value for r in document.reasons],
            [w.value for w in document.warnings],
        )
        if problem:
            problems.append(problem)
        decided.append(_decided(document.decided_at))
        attempts.append(document.attempts)
    fail_if_any(problems, "throughput")
    wall = max(decided) - t0
    batches = _batches(stack, [uploaded[i][0] for i in range(len(files))], wall)
    extra = {
        "wall_observed_by_polling_s": max(observed.values()) - t0,
        "upload_wall_s": max(end for _, _, end in uploaded.values()) - t0,
        "documents_retried": sum(1 for a in attempts if a > 1),
        "documents_seen_failed": len(seen_failed),
        "batches": batches,
    }
    return wall, extra


def _batches(stack: Stack, document_ids: list[str], wall: float) -> dict[str, Any]:
    """Batches as the dispatcher claimed them (one claim token per flow run attempt)."""
    table = DocumentRow.__table__
    with stack.repository.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.claim_token, table.c.claimed_at, table.c.decided_at).where(
                table.c.id.in_(document_ids)
            )
        ).all()
    by_token: dict[str, list[tuple[float, float]]] = {}
    for token, claimed_at, decided_at in rows:
        if claimed_at is None:  # decided at upload (clamd found a signature): no batch
            continue
        by_token.setdefault(token, []).append((_decided(claimed_at), _decided(decided_at)))
    sizes = sorted(len(v) for v in by_token.values())
    spans = [max(d for _, d in v) - min(c for c, _ in v) for v in by_token.values()]
    first = [min(d for _, d in v) - min(c for c, _ in v) for v in by_token.values()]
    return {
        "count": len(sizes),
        "sizes": sizes,
        "claim_to_first_verdict_mean_s": sum(first) / len(first) if first else 0.0,
        "busy_slots_mean": sum(spans) / wall,
    }


def run_latency(stack: Stack, files: list[CorpusFile]) -> LatencyResult:
    client = httpx.Client(timeout=120)
    samples = []
    problems = []
    for cf in files:
        started = time.time()
        document_id = stack.upload(client, cf.name, cf.path)
        posted = time.time()
        body, seen = _wait_final(stack, client, document_id, 120)
        problem = check_outcome(
            cf,
            body["status"],
            [r["code"] for r in body["reasons"]],
            [w["code"] for w in body["warnings"]],
        )
        if problem:
            problems.append(problem)
        samples.append(
            {
                "file": cf.name,
                "bytes": cf.size,
                "post_s": posted - started,
                "observed_s": seen - started,
                "decided_s": _decided(body) - started,
            }
        )
    client.close()
    fail_if_any(problems, "latency")
    return LatencyResult(samples)


def _profile(pid: int, seconds_max: float, out: Path) -> subprocess.Popen[bytes] | None:
    py_spy = os.environ.get("BENCH_PY_SPY") or shutil.which("py-spy") or "/tmp/v/bin/py-spy"
    if not Path(py_spy).exists():
        say("py-spy not found; no profile")
        return None
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "100",
            "--format",
            "raw",
            "--duration",
            str(int(seconds_max)),
            "--threads",
            "--nonblocking",
            # e.g. "--gil": only the thread holding the GIL, i.e. Python's own CPU time.
            *os.environ.get("BENCH_PY_SPY_ARGS", "").split(),
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_profile(profiler: subprocess.Popen[bytes] | None) -> None:
    """Stop a `_profile` recording: py-spy writes what it has and ends."""
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            profiler.wait(timeout=30)


def phase_c(
    key: str,
    title: str,
    config: str,
    worker_env: dict[str, str],
    worker: str,
    corpus: Corpus,
    work: Path,
    warmup_file: Path,
    latency: bool,
    profile_to: Path | None,
    timeout: float,
    prefect_database: str | None = None,
) -> tuple[PhaseResult, LatencyResult | None]:
    stack = Stack(work / key, worker_env, worker, prefect_database)
    say(f"({key}) starting clamd, Prefect server, API and worker {worker_env or ''}")
    try:
        stack.start()
        warm = httpx.Client(timeout=120)
        _wait_final(stack, warm, stack.upload(warm, "warmup.pdf", warmup_file), 120)
        warm.close()
        runs_before = stack.flow_run_counts()
        for _ in range(150):  # the warm-up run finishes after its document is final
            if runs_before["completed"] == runs_before["all"]:
                break
            time.sleep(0.2)
            runs_before = stack.flow_run_counts()
        meter = CpuMeter(stack.procs)
        profiler = (
            _profile(stack.procs["worker"].popen.pid, timeout, profile_to / f"worker-{key}.txt")
            if profile_to
            else None
        )
        say(f"({key}) uploading {len(corpus.throughput)} files with {UPLOAD_THREADS} threads")
        offsets = stack.log_offsets()
        meter.start()
        wall, extra = run_throughput(stack, corpus.throughput, timeout)
        cpu, foreign = meter.stop()
        extra["log_counts"] = stack.log_counts(offsets, stack.log_offsets())
        extra["foreign_top"] = meter.foreign_top
        _stop_profile(profiler)
        runs_after = stack.flow_run_counts()
        extra["flow_runs"] = {k: runs_after[k] - runs_before[k] for k in runs_after}
        extra["throttled"] = dict(stack.waits)
        lat = None
        if latency:
            say(f"({key}) latency: {len(corpus.latency)} single uploads, one at a time")
            lat = run_latency(stack, corpus.latency)
            extra["throttled_with_latency"] = dict(stack.waits)
    except BaseException:
        for name in ("worker", "api", "prefect"):
            if name in stack.procs:
                say(f"--- last lines of the {name} log ({stack.procs[name].log_path}) ---")
                print(stack.procs[name].log_text()[-2500:], flush=True)
        raise
    finally:
        stack.stop()
    return PhaseResult(
        key,
        title,
        config,
        len(corpus.throughput),
        corpus.throughput_bytes,
        wall,
        cpu,
        foreign,
        extra,
    ), lat


# --- report --------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    clamd_version = subprocess.run(
        ["/usr/sbin/clamd", "--version"], capture_output=True, text=True
    ).stdout.strip()
    import prefect

    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": model,
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "prefect": prefect.__version__,
        "clamd": clamd_version,
    }


def run_info(module: str, argv: list[str] | None) -> tuple[str, dict[str, Any]]:
    """A benchmark run's stamp (for its result files) and header: date, the command as
    typed, the machine, its load average before, and the code under test."""
    command = f"python -m {module} " + " ".join(argv if argv is not None else sys.argv[1:])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return stamp, {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command.strip(),
        "machine": machine(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "code": code_fingerprint(),
    }


def code_fingerprint() -> str:
    """A short hash of the code and policies under test (the tree changes while people work)."""
    digest = hashlib.sha256()
    for folder in ("portal", "flows", "policies"):
        for path in sorted((REPO_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _cpu_cell(result: PhaseResult, name: str) -> str:
    value = result.cpu.get(name)
    return "–" if value is None else f"{value:.1f}"


def render(
    results: list[PhaseResult], lat: LatencyResult | None, corpus: Corpus, info: dict[str, Any]
) -> str:
    by_key = {r.key: r for r in results}
    lines = [
        f"# Ingest benchmark, {info['date']}",
        "",
        f"Command: `{info['command']}`  ",
        f"Machine: {info['machine']['cpus']} CPUs ({info['machine']['cpu_model']}), "
        f"{info['machine']['ram']} RAM; {info['machine']['os']}; Python "
        f"{info['machine']['python']}, Prefect {info['machine']['prefect']}, "
        f"{info['machine']['clamd']}  ",
        f"Load average before / after: {info['load_before']} / {info['load_after']}; code "
        f"under test (sha256 of portal/, flows/, policies/): {info['code']} at start, "
        f"{info['code_after']} at the end  ",
        f"Corpus `{corpus.name}`: {len(corpus.throughput)} files, "
        f"{corpus.throughput_bytes / MB:.1f} MB ({info['corpus_mix']}); latency set "
        f"{len(corpus.latency)} files, {sum(f.size for f in corpus.latency) / MB:.1f} MB, "
        f"largest {max(f.size for f in corpus.latency) / MB:.1f} MB",
        "",
        "| run | what | docs | MB | wall s | docs/s | MB/s | CPU s worker | api | prefect "
        "| clamd | bench | other procs |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| ({r.key}) {r.title} | {r.config} | {r.docs} | {r.bytes / MB:.1f} | "
            f"{r.wall:.1f} | {r.docs_per_s:.2f} | {r.mb_per_s:.1f} | "
            f"{_cpu_cell(r, 'worker')} | {_cpu_cell(r, 'api')} | {_cpu_cell(r, 'prefect')} | "
            f"{_cpu_cell(r, 'clamd')} | {_cpu_cell(r, 'bench')} | {r.foreign_cpu:.1f} |"
        )
    lines += [
        "",
        "Same corpus in every run, so a ratio of docs/s equals the ratio of MB/s.",
        "",
        "| ratio | value | target |",
        "|---|--:|---|",
    ]

    def ratio(top: str, bottom: str, target: str = "") -> None:
        if top in by_key and bottom in by_key:
            value = by_key[top].docs_per_s / by_key[bottom].docs_per_s
            verdict = ""
            if target:
                verdict = f"{target}: {'met' if value >= TARGET_C_OVER_B else 'MISSED'}"
            lines.append(f"| {top}/{bottom} | {value:.2f} | {verdict} |")

    ratio("c", "b", f">= {TARGET_C_OVER_B}")
    ratio("b", "a")
    ratio("c1", "b")
    ratio("c1", "c")
    ratio("c2", "c")
    if lat is not None:
        p50, p95 = lat.quantile(0.5), lat.quantile(0.95)
        verdict = "met" if p95 <= TARGET_P95_SECONDS else "MISSED"
        lines += [
            "",
            f"Latency, default configuration, {len(lat.samples)} single uploads of "
            f"{min(s['bytes'] for s in lat.samples) / 1e3:.0f} kB to "
            f"{max(s['bytes'] for s in lat.samples) / MB:.1f} MB, one at a time, POST start "
            "to the verdict's decided_at (the client waits with `POST /v1/documents/status` "
            "and `wait_seconds`, which looks every JTAI_STATUS_WAIT_POLL_SECONDS; p95 as "
            "the client saw it in the last column):",
            "",
            "| p50 s | p95 s | max s | mean s | target p95 | p95 as seen s |",
            "|--:|--:|--:|--:|---|--:|",
            f"| {p50:.2f} | {p95:.2f} | {max(s['decided_s'] for s in lat.samples):.2f} | "
            f"{sum(s['decided_s'] for s in lat.samples) / len(lat.samples):.2f} | "
            f"<= {TARGET_P95_SECONDS:.0f} s: {verdict} | {lat.quantile(0.95, 'observed_s'):.2f} |",
        ]
    per_doc = []
    for r in results:
        if not r.key.startswith("c"):
            continue
        locked = r.extra["log_counts"]["prefect"]["503 database locked"]
        per_doc.append(
            f"| ({r.key}) | {1000 * r.cpu.get('worker', 0) / r.docs:.0f} | "
            f"{1000 * r.cpu.get('prefect', 0) / r.docs:.0f} | "
            f"{1000 * r.cpu.get('api', 0) / r.docs:.0f} | "
            f"{1000 * r.cpu.get('clamd', 0) / r.docs:.0f} | {r.extra['flow_runs']['all']} | "
            f"{locked} |"
        )
    if per_doc:
        lines += [
            "",
            "CPU per document (ms) in the Prefect runs, flow runs, and requests the "
            "Prefect server answered 503 because its SQLite database was locked (the "
            "client waits ~2 s, then sends the request again):",
            "",
            "| run | worker | prefect server | api | clamd | flow runs | 503s |",
            "|---|--:|--:|--:|--:|--:|--:|",
            *per_doc,
        ]
    if "b" in by_key:
        breakdown = by_key["b"].extra["breakdown_s"]
        lines += [
            "",
            "Where the time of (b) goes (seconds, one document at a time):",
            "",
            "| step | s | share |",
            "|---|--:|--:|",
        ]
        lines += [
            f"| {step} | {sec:.2f} | {100 * sec / by_key['b'].wall:.0f} % |"
            for step, sec in breakdown.items()
        ]
    notes = []
    for r in results:
        if r.key.startswith("c"):
            e = r.extra
            logs = (
                "; ".join(
                    f"{proc}: " + ", ".join(f"{k} x{v}" for k, v in counts.items() if v)
                    for proc, counts in e["log_counts"].items()
                    if any(counts.values())
                )
                or "no errors logged"
            )
            b = e["batches"]
            sizes = b["sizes"]
            notes.append(
                f"- ({r.key}): uploads finished at {e['upload_wall_s']:.1f} s; last document "
                f"final at {r.wall:.1f} s by decided_at ({e['wall_observed_by_polling_s']:.1f} s "
                f"as polled); {b['count']} batches claimed, sizes min/median/max "
                f"{sizes[0]}/{sizes[len(sizes) // 2]}/{sizes[-1]}, claim to first verdict "
                f"{b['claim_to_first_verdict_mean_s']:.2f} s on average, "
                f"{b['busy_slots_mean']:.2f} batches in flight on average; flow runs "
                f"{e['flow_runs']}; documents retried {e['documents_retried']}, seen failed "
                f"{e['documents_seen_failed']}; requests answered 429/503 with Retry-After "
                f"and sent again: {_throttled(e)}; logs: {logs}"
            )
    if notes:
        lines += ["", "Details:", "", *notes]
    disturbed = [
        f"({r.key}) {r.foreign_cpu / r.wall:.2f}" for r in results if r.foreign_cpu / r.wall > 0.25
    ]
    if disturbed:
        lines += [
            "",
            "**Warning: other processes on this machine used CPU during the runs "
            "(cores busy on average outside this benchmark: "
            + ", ".join(disturbed)
            + "); the wall times are pessimistic.** Busiest of them:",
            "",
        ]
        lines += [
            f"- ({r.key}): " + ("; ".join(r.extra.get("foreign_top", [])) or "short-lived")
            for r in results
        ]
    lines += [
        "",
        "CPU s are CPU seconds used by each process (and its children) during the "
        "measured window; 'other procs' is the busy CPU time of the whole machine minus "
        "those, i.e. load from processes outside this benchmark.",
    ]
    return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------------


def _warmup_file(work: Path) -> Path:
    from tests import samples

    path = work / "warmup.pdf"
    path.write_bytes(samples.pdf_of_size(31_415))
    return path


def _fresh_database(server_url: str, name: str) -> str:
    """Create database `name` on the PostgreSQL server at `server_url` (a libpq URL) and
    return its SQLAlchemy asyncpg URL, as Prefect's server wants it."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server_url.removeprefix("postgresql://").rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{base}/{name}"


@contextlib.contextmanager
def _throwaway_postgres() -> Any:
    """A PostgreSQL cluster from infra/postgres/start-throwaway, with fsync turned back on
    (the tests' clusters run without it; a benchmark of a production setting must not)."""
    lines = subprocess.run(
        [str(REPO_ROOT / "infra/postgres/start-throwaway")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = dict(re.findall(r"export (\w+)=(\S+)", lines))
    url, pgdata = found["JTAI_TEST_POSTGRES_URL"], found["JTAI_THROWAWAY_PGDATA"]
    try:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET fsync = on")
            conn.execute("SELECT pg_reload_conf()")
        yield url
    finally:
        subprocess.run([str(REPO_ROOT / "infra/postgres/stop-throwaway"), pgdata], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="~30 small files, no big ones, no (c2): a ~2 minute check",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated subset of a,b,c,c1,c2 (c includes latency)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="record the worker with py-spy during each (c*) run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--prefect-database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the Prefect server's database in (c*): SQLite as `jtai-portal up` runs it "
        "(default), or PostgreSQL as infra/scaled/prefect-server runs it",
    )
    args = parser.parse_args(argv)
    phases = ["a", "b", "c", "c1"] + ([] if args.quick else ["c2"])
    if args.only:
        phases = [p for p in args.only.split(",") if p]
    stamp, info = run_info("bench.bench_ingest", argv)
    corpus = build_corpus(args.quick, log=say)
    kinds: dict[str, int] = {}
    for f in corpus.throughput:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    info["corpus_mix"] = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    say(
        f"corpus {corpus.name}: {len(corpus.throughput)} files, "
        f"{corpus.throughput_bytes / MB:.1f} MB; latency set {len(corpus.latency)} files"
    )
    work = Path(tempfile.mkdtemp(prefix="jtai-bench-"))
    profile_to = None
    if args.profile:
        profile_to = RESULTS_DIR / f"{stamp}-profiles"
        profile_to.mkdir(parents=True, exist_ok=True)
    timeout = 300.0 if args.quick else 900.0
    warmup = _warmup_file(work)
    results: list[PhaseResult] = []
    lat: LatencyResult | None = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ok = False
    postgres = contextlib.ExitStack()
    try:
        prefect_database = (
            postgres.enter_context(_throwaway_postgres())
            if args.prefect_database == "postgresql"
            else None
        )
        worker = "portal.cli worker"
        configs = {
            "c": (
                "Prefect flow, micro-batches",
                "defaults: batches of <= 32 docs / 256 MiB, 2 flow runs at once",
                {},
                worker,
            ),
            "c1": (
                "Prefect flow, one run per document",
                "JTAI_BATCH_MAX_DOCUMENTS=1",
                {"JTAI_BATCH_MAX_DOCUMENTS": "1"},
                worker,
            ),
            "c2": (
                "Prefect flow, one run at a time",
                "JTAI_DISPATCHER_CONCURRENCY=1",
                {"JTAI_DISPATCHER_CONCURRENCY": "1"},
                worker,
            ),
        }
        for phase in phases:
            started = time.monotonic()
            if phase == "a":
                say("(a) clamd alone")
                results.append(phase_a(corpus, work))
            elif phase == "b":
                say("(b) pipeline steps in a plain loop")
                results.append(phase_b(corpus, work, warmup))
            elif phase in configs:
                title, config, env, worker_module = configs[phase]
                result, phase_lat = phase_c(
                    phase,
                    title,
                    config,
                    env,
                    worker_module,
                    corpus,
                    work,
                    warmup,
                    latency=phase == "c",
                    profile_to=profile_to,
                    timeout=timeout,
                    prefect_database=prefect_database,
                )
                results.append(result)
                lat = phase_lat or lat
            else:
                parser.error(f"unknown phase {phase!r}")
            r = results[-1]
            say(
                f"({r.key}) {r.docs} docs, {r.bytes / MB:.1f} MB in {r.wall:.1f} s: "
                f"{r.docs_per_s:.2f} docs/s, {r.mb_per_s:.1f} MB/s "
                f"(phase took {time.monotonic() - started:.0f} s)"
            )
        ok = True
    except BenchmarkInvalid as exc:
        say(f"INVALID BENCHMARK: {exc}")
        return 1
    finally:
        Proc.stop_all()
        postgres.close()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"temporary files kept in {work}")
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["code_after"] = code_fingerprint()
    report = render(results, lat, corpus, info)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{stamp}.md").write_text(report)
    raw = {
        "info": info,
        "corpus": corpus.name,
        "results": [
            {**dataclasses.asdict(r), "docs_per_s": r.docs_per_s, "mb_per_s": r.mb_per_s}
            for r in results
        ],
        "latency": lat.samples if lat else None,
    }
    (RESULTS_DIR / f"{stamp}.json").write_text(json.dumps(raw, indent=1, default=str))
    print()
    print(report)
    say(f"written to {RESULTS_DIR / f'{stamp}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
