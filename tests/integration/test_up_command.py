"""`jtai-portal up` as a newcomer runs it: the real command, its real children (clamd, the
Prefect server, the API, the worker, the scheduler), driven only through what it prints.

One `up` serves the module; the last test stops it with Ctrl-C.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from portal.settings import REPO_ROOT, Settings
from tests import samples
from tests.api_process import free_port

JTAI_PORTAL = REPO_ROOT / ".venv" / "bin" / "jtai-portal"
WELCOME_END = "=" * 74


@dataclass
class Up:
    """The running `up` command, what it printed, and where its data is."""

    proc: subprocess.Popen[str]
    data: Path
    api: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def welcome(self) -> str:
        return "".join(self.stdout)

    def token(self, label: str) -> str:
        found = re.search(rf"{label} token:\s+(jtai_\S+)", self.welcome())
        assert found, f"no {label} token in the welcome:\n{self.welcome()}"
        return found.group(1)

    def pasted(self, command: str) -> subprocess.CompletedProcess[str]:
        """Run a command exactly as printed, in a shell with nothing of the test's setup."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("JTAI_", "PREFECT_"))}
        return subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            timeout=120,
            env=clean,
            cwd="/",
        )


def _pump(stream: object, into: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.append(line)


def _children_of(data: Path) -> dict[str, int]:
    """The pids of `up`'s children, by name, read from /proc."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"JTAI_DATA_DIR={data}".encode() not in environ and str(data) not in cmdline:
            continue
        for name, marker in (
            ("clamd", "/usr/sbin/clamd"),
            ("prefect", "prefect server start"),
            ("api", "portal.cli api"),
            ("worker", "portal.cli worker"),
            ("scheduler", "portal.cli scheduler"),
        ):
            if marker in cmdline:
                found[name] = int(entry.name)
    return found


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    data = tmp_path_factory.mktemp("up") / "data"
    api_port, prefect_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JTAI_", "PREFECT_", "CLAMD_"))}
    env |= {
        "JTAI_DATA_DIR": str(data),
        "JTAI_API_PORT": str(api_port),
        "JTAI_PREFECT_PORT": str(prefect_port),
    }
    proc = subprocess.Popen(
        [str(JTAI_PORTAL), "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    running = Up(proc, data, f"http://127.0.0.1:{api_port}")
    for stream, into in ((proc.stdout, running.stdout), (proc.stderr, running.stderr)):
        threading.Thread(target=_pump, args=(stream, into), daemon=True).start()
    deadline = time.monotonic() + 300
    while not (WELCOME_END in running.welcome() and running.welcome().count(WELCOME_END) >= 2):
        assert proc.poll() is None, f"up exited: {''.join(running.stderr)[-3000:]}"
        assert time.monotonic() < deadline, f"no welcome: {''.join(running.stderr)[-3000:]}"
        time.sleep(0.2)
    try:
        yield running
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in _children_of(data).values():
            os.killpg(pid, signal.SIGKILL)


def _commands(welcome: str) -> list[str]:
    """The commands the welcome prints, each joined across its continuation lines."""
    commands, current = [], ""
    for line in welcome.splitlines():
        text = line.strip()
        if current:
            current += " " + text.removesuffix("\\").strip()
            if not text.endswith("\\"):
                commands.append(current)
                current = ""
        elif text.startswith(("curl ", "/", "JTAI_")) and " " in text:
            current = text.removesuffix("\\").strip()
            if not text.endswith("\\"):
                commands.append(current)
                current = ""
    return commands


def test_every_command_the_welcome_prints_works_when_pasted(up: Up) -> None:
    """At once, as a newcomer would: nothing it offers may still be starting."""
    commands = _commands(up.welcome())
    upload = next(c for c in commands if "-F file=@" in c)
    wait = next(c for c in commands if "/v1/documents/status" in c)
    retention = next(c for c in commands if "/v1/retention/runs" in c)
    deployment = next(c for c in commands if "prefect deployment run" in c)

    sent = up.pasted(upload)
    assert sent.returncode == 0, sent.stderr
    status_url = re.search(r'"status_url":"([^"]+)"', sent.stdout)
    assert status_url and status_url.group(1).startswith(f"{up.api}/v1/documents/"), sent.stdout
    document_id = re.search(r'"id":"([0-9a-f]{32})"', sent.stdout)
    assert document_id, sent.stdout
    # The wait line, with the upload's id in place of "<id>", as the welcome says; asked
    # again while the verdict is pending (each call waits up to 30 s for it).
    for _ in range(4):
        waited = up.pasted(wait.replace("<id>", document_id.group(1)))
        assert waited.returncode == 0, waited.stderr
        answer = json.loads(waited.stdout)
        if not answer["pending"]:
            break
    assert [(d["id"], d["status"]) for d in answer["documents"]] == [
        (document_id.group(1), "accepted")
    ], answer

    previewed = up.pasted(retention)
    assert previewed.returncode == 0 and '"dry_run":true' in previewed.stdout, previewed

    ran = up.pasted(deployment)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Created flow run" in ran.stdout, ran.stdout


def test_up_says_plainly_that_clamd_runs_the_local_test_signatures(up: Up) -> None:
    assert (
        "Signatures     the local test signatures only: they find the EICAR test file, "
        "nothing else" in up.welcome()
    )
    link = up.data / "clamd" / "signatures"
    assert link.is_symlink() and (link / "jtai-signatures.ndb").is_file()
    assert f"DatabaseDirectory {link}\n" in (up.data / "clamd" / "clamd.conf").read_text()


def test_up_gives_clamd_a_thread_for_every_connection_its_processes_may_open(up: Up) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    connections = (
        defaults.upload_scan_connections + defaults.clamd_connections + defaults.rescan_connections
    )
    assert connections > 4  # more than start-clamd's own default
    assert f"MaxThreads {connections}\n" in (up.data / "clamd" / "clamd.conf").read_text()


def test_up_prints_its_welcome_last_and_keeps_the_processes_logs_in_files(up: Up) -> None:
    time.sleep(2)  # a child that printed to the terminal would show by now
    printed = [line for line in up.stdout if line.strip()]
    assert printed[-1].startswith("="), f"printed after the welcome: {printed[-1]}"
    assert "Prefect" not in "".join(up.stderr), "a child's output reached the terminal"
    logs = up.data / "logs"
    assert {p.name for p in logs.glob("*.log")} >= {
        "clamd.log",
        "prefect.log",
        "api.log",
        "worker.log",
        "scheduler.log",
    }
    assert f"{logs}/" in up.welcome()
    with subprocess.Popen(
        [str(JTAI_PORTAL), "logs", "api"],
        env={**os.environ, "JTAI_DATA_DIR": str(up.data)},
        stdout=subprocess.PIPE,
        text=True,
    ) as logs_proc:
        time.sleep(3)
        logs_proc.send_signal(signal.SIGINT)
        out, _ = logs_proc.communicate(timeout=10)
    assert "      api | " in out and "Uvicorn running" in out


def test_a_killed_clamd_is_restarted_while_the_api_keeps_taking_uploads(up: Up) -> None:
    clamd = _children_of(up.data)["clamd"]
    os.kill(clamd, signal.SIGKILL)
    token = up.token("local authority uploader")
    inspection = re.search(r"Demo inspection (\S+)", up.welcome())
    assert inspection
    url = f"{up.api}/v1/inspections/{inspection.group(1)}/documents"
    accepted_for_checking = []
    for n in range(10):
        response = httpx.post(
            url,
            headers={"Authorization": f"Bearer {token}"},
            data={"item": "1.1"},
            files={
                "file": (
                    f"outage-{n}.pdf",
                    samples.pdf_of_size(30_000 + 2_000 * n),
                    "application/pdf",
                )
            },
            timeout=30,
        )
        assert response.status_code == 202, response.text
        accepted_for_checking.append(response.json()["status_url"])
    deadline = time.monotonic() + 120
    while httpx.get(f"{up.api}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, httpx.get(f"{up.api}/readyz", timeout=10).text
        time.sleep(0.5)
    assert _children_of(up.data)["clamd"] != clamd
    assert "clamd stopped" in "".join(up.stderr)
    for status_url in accepted_for_checking:
        deadline = time.monotonic() + 180
        while True:
            status = httpx.get(
                status_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
            ).json()
            if status["final"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert status["status"] == "accepted", status


def test_a_killed_worker_is_restarted_and_checks_what_arrived_meanwhile(up: Up) -> None:
    worker = _children_of(up.data)["worker"]
    os.kill(worker, signal.SIGKILL)
    token = up.token("local authority uploader")
    inspection = re.search(r"Demo inspection (\S+)", up.welcome())
    assert inspection
    response = httpx.post(
        f"{up.api}/v1/inspections/{inspection.group(1)}/documents",
        headers={"Authorization": f"Bearer {token}"},
        data={"item": "1.1"},
        files={"file": ("while-down.pdf", samples.pdf_of_size(90_000), "application/pdf")},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 180
    while True:
        status = httpx.get(
            response.json()["status_url"], headers={"Authorization": f"Bearer {token}"}
        ).json()
        if status["final"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status["status"] == "accepted", status
    assert _children_of(up.data)["worker"] != worker
    assert "worker stopped" in "".join(up.stderr)


def test_ctrl_c_stops_every_process_within_seconds_and_cleanly(up: Up) -> None:
    children = _children_of(up.data)
    assert set(children) == {"clamd", "prefect", "api", "worker", "scheduler"}
    up.proc.send_signal(signal.SIGINT)
    up.proc.wait(timeout=15)
    deadline = time.monotonic() + 5
    while _children_of(up.data) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _children_of(up.data) == {}
    scheduler_log = (up.data / "logs" / "scheduler.log").read_text()
    assert "never awaited" not in scheduler_log
    assert "stopped" in "".join(up.stderr)
