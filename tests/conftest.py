"""Shared fixtures: real services, started once per run, that fail (never skip) if absent.

- clamd: Debian's clamd with infra's local signature database, on a Unix socket.
- Prefect: a temporary local server (prefect_test_harness) for flow tests.
- PostgreSQL: a throwaway cluster started for the run (infra/postgres/start-throwaway), or the
  server JTAI_TEST_POSTGRES_URL names; one fresh database per run, dropped at the end. A server
  the user already runs (say on 127.0.0.1:5432) is never touched unless that variable names it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from portal.adapters.clamd_scanner import ClamdScanner
from portal.domain.errors import ScannerUnavailable
from portal.settings import REPO_ROOT, Settings

pytest_plugins = ["tests.integration.smtp_fixtures"]


@pytest.fixture(autouse=True)
def no_event_loop_left_running(request: pytest.FixtureRequest) -> None:
    """Fail clearly if an earlier test left an event loop running in this thread.

    Such a loop makes every later asyncio.run() (Prefect flows, deployments) fail far from its
    cause; sync Playwright is the usual suspect, so the browser tests are exempt while open.
    """
    if "tests/browser/" in request.node.nodeid:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    raise AssertionError(f"an event loop was left running before {request.node.nodeid}: {loop!r}")


def pytest_configure(config: pytest.Config) -> None:
    """Give the commands the tests start Ctrl-C as a terminal gives it. A shell without job
    control starts a background command (`./.ci/run &`) with SIGINT ignored, every command
    it starts inherits that, and the tests that press Ctrl-C (`up`, `logs`) would then wait
    for ever (measured: `jtai-portal logs` alive 10 minutes after its SIGINT). A signal
    this process handles is reset to its default in a command it starts; an ignored one
    stays ignored."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Under libfaketime (infra/test-any-day), end the process once pytest is done: a
    thread that waits with a timeout never wakes there (anyio's and Prefect's idle worker
    threads), so the interpreter's shutdown would wait for them for ever (measured: the
    summary printed, the process alive 8 minutes later)."""
    if "FAKETIME" in os.environ and _EXIT_STATUS in config.stash:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash[_EXIT_STATUS])


_EXIT_STATUS = pytest.StashKey[int]()


def wait_for_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    """Wait until `url` answers 2xx; fail at once if `proc` exits, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start (exit status {proc.poll()})")
        time.sleep(0.1)


class ClamdProcess:
    """A clamd daemon the tests own: they can stop and start it mid-test."""

    def __init__(
        self,
        state_dir: Path,
        database_dir: Path | None = None,
        config: dict[str, str] | None = None,
    ) -> None:
        self.state_dir = state_dir
        # Default: infra's local test signatures (infra/clamd/start-clamd's own default).
        self.database_dir = database_dir
        # Options that replace the template's (e.g. a small StreamMaxLength).
        self.config = config or {}
        self.socket = state_dir / "clamd.sock"
        self.log = state_dir / "clamd.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start clamd and wait until it answers PING."""
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT)
        scanner = ClamdScanner(unix_socket=self.socket, timeout=5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                scanner.check()
                return
            except ScannerUnavailable as exc:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    log = self.log.read_text()[-2000:]
                    raise RuntimeError(f"clamd did not start: {log}") from exc
                time.sleep(0.1)

    def start_in_background(self, after_seconds: float) -> None:
        """Start clamd `after_seconds` from now, without waiting for it: a separate process
        sleeps first (a thread here would not do: its timed waits never end under
        libfaketime, see infra/test-any-day). `start()` waits for it if called later."""
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    "sh",
                    "-c",
                    f'sleep {after_seconds}; exec "$0" "$@"',
                    str(REPO_ROOT / "infra/clamd/start-clamd"),
                    *self._arguments(),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _command(self) -> list[str]:
        """infra/clamd/start-clamd; with options of the test's own, clamd itself on the
        template rendered as start-clamd renders it, those options replaced."""
        if not self.config:
            return [str(REPO_ROOT / "infra/clamd/start-clamd"), *self._arguments()]
        (self.state_dir / "tmp").mkdir(parents=True, exist_ok=True)
        database = self.database_dir or REPO_ROOT / "infra/clamd/db"
        lines = []
        template = (REPO_ROOT / "infra/clamd/clamd.conf.template").read_text()
        for line in template.splitlines():
            option = line.split(" ", 1)[0]
            if option in self.config:
                line = f"{option} {self.config[option]}"
            lines.append(line)
        rendered = "\n".join(lines) + "\n"
        rendered = rendered.replace("@STATE_DIR@", str(self.state_dir.resolve()))
        rendered = rendered.replace("@DATABASE_DIR@", str(database.resolve()))
        rendered = rendered.replace("@MAX_THREADS@", "4")  # start-clamd's default
        assert "@" not in rendered.replace(str(self.state_dir.resolve()), ""), (
            "clamd.conf.template has a placeholder this renderer does not fill"
        )
        conf = self.state_dir / "clamd.conf"
        conf.write_text(rendered)
        self.socket.unlink(missing_ok=True)
        return ["/usr/sbin/clamd", f"--config-file={conf}"]

    def _arguments(self) -> list[str]:
        database = [str(self.database_dir)] if self.database_dir else []
        return [str(self.state_dir), *database]

    def stop(self) -> None:
        """Stop clamd; its socket then refuses connections."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
        self._proc = None

    def kill(self) -> None:
        """Kill clamd at once (SIGKILL), as if it died: open streams break mid-way."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=30)
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdProcess]:
    """A running clamd for the whole run (a test that stops it must start it again)."""
    process = ClamdProcess(tmp_path_factory.mktemp("clamd"))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def running_clamd(clamd: ClamdProcess) -> ClamdProcess:
    """clamd, restarted first if an earlier test left it stopped."""
    if not clamd.running:
        clamd.start()
    return clamd


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect server for the run, tuned as `jtai-portal up` tunes its own
    (PREFECT_SERVER_TUNING, which its subprocess reads from the environment); flows
    called in tests report to it. Untuned, its task-run recorder's writes collide with
    flow runs' on SQLite: the server answers 503 and a client can back off for a minute."""
    from prefect.testing.utilities import prefect_test_harness

    from portal.cli import PREFECT_SERVER_TUNING

    with pytest.MonkeyPatch.context() as patch:
        for name, value in PREFECT_SERVER_TUNING.items():
            patch.setenv(name, value)
        with prefect_test_harness(server_startup_timeout=120):
            yield


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server the tests may create databases on: the one
    JTAI_TEST_POSTGRES_URL names, else a throwaway cluster started here and deleted after."""
    named = os.environ.get("JTAI_TEST_POSTGRES_URL")
    if named:
        yield named
        return
    started = subprocess.run(
        [str(REPO_ROOT / "infra/postgres/start-throwaway")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 0, f"no throwaway PostgreSQL cluster: {started.stderr[-2000:]}"
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines()
    )
    try:
        yield exports["JTAI_TEST_POSTGRES_URL"]
    finally:
        subprocess.run(
            [str(REPO_ROOT / "infra/postgres/stop-throwaway"), exports["JTAI_THROWAWAY_PGDATA"]],
            check=False,
        )


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this run, dropped at the end."""
    admin_url = postgres_server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"jtai_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    yield f"{base}/{name}"
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, clamd: ClamdProcess) -> Settings:
    """Embedded-default settings in a private data directory, pointing at the test clamd."""
    return Settings(
        data_dir=tmp_path / "data",
        clamd_socket=clamd.socket,
        clamd_timeout_seconds=10,
        retry_delay_seconds=0,
        flow_retries=0,
        batch_max_documents=100,
        _env_file=None,  # type: ignore[call-arg]
    )
