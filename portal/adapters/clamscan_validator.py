"""Checks a signature database with ClamAV's own loader: `clamscan --database=DIR` on an
empty file loads every database file there as clamd would (and checks the digital
signature of .cvd files), then reports how many signatures it loaded.

clamscan is in Debian's `clamav` package (infra/install installs it). Loading the official
databases takes clamscan a minute and about a gigabyte of memory, as it takes clamd.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from portal.domain.errors import InvalidSignatureDatabase, SignatureInstallFailed

_KNOWN = re.compile(r"^Known viruses: ([0-9]+)$", re.MULTILINE)


class ClamscanValidator:
    """A SignatureValidator that runs clamscan."""

    def __init__(self, clamscan: str = "clamscan", timeout_seconds: float = 900.0) -> None:
        self.clamscan = clamscan
        self.timeout_seconds = timeout_seconds

    def validate(self, directory: Path) -> int:
        """How many signatures clamscan loads from `directory`; InvalidSignatureDatabase
        with clamscan's own errors if it loads none or refuses a file."""
        with tempfile.NamedTemporaryFile(prefix="jtai-empty-") as empty:
            try:
                done = subprocess.run(
                    [self.clamscan, f"--database={directory}", "--stdout", empty.name],
                    capture_output=True,
                    text=True,
                    timeout=self.timeout_seconds,
                    check=False,
                )
            except FileNotFoundError as exc:
                raise SignatureInstallFailed(
                    f"cannot check the database: {self.clamscan} is not installed "
                    "(Debian's clamav package; infra/install installs it)"
                ) from exc
            except subprocess.TimeoutExpired as exc:
                raise SignatureInstallFailed(
                    f"clamscan took longer than {self.timeout_seconds:.0f} s to load {directory}"
                ) from exc
        known = _KNOWN.search(done.stdout)
        count = int(known[1]) if known else 0
        if done.returncode in (0, 1) and count > 0:
            return count
        errors = [
            line.removeprefix("LibClamAV Error: ").strip()
            for line in (done.stderr + done.stdout).splitlines()
            if "Error" in line or line.startswith("ERROR")
        ]
        raise InvalidSignatureDatabase(
            "; ".join(dict.fromkeys(errors)) or f"no signature loads from {directory}"
        )
