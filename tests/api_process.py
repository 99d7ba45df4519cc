"""The API as it runs in production: `python -m portal.cli api` in a process of its own,
on a free port of 127.0.0.1, over a test's data directory (migrated by the test first)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from portal.settings import Settings
from tests.conftest import wait_for_http


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (at the moment it is asked)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def api_process(settings: Settings, log: Path, **env: str) -> Iterator[str]:
    """Run `python -m portal.cli api` over `settings`' data directory and clamd, with
    `env` (JTAI_* variables) on top and no other JTAI_* or FORWARDED_ALLOW_IPS from this
    environment; yields its base URL and stops it at the end. Its output goes to `log`."""
    port = free_port()
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JTAI_") and k != "FORWARDED_ALLOW_IPS"
    }
    environment = {
        **inherited,
        "JTAI_DATA_DIR": str(settings.data_dir),
        "JTAI_DATABASE_URL": settings.resolved_database_url,
        "JTAI_CLAMD_SOCKET": str(settings.resolved_clamd_socket),
        "JTAI_API_HOST": "127.0.0.1",
        "JTAI_API_PORT": str(port),
        **env,
    }
    with log.open("ab") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "api"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz", proc, "the API process")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
