"""Work functions a PikepdfSanitiser worker can be told to run in tests, standing in for a
PDF that makes qpdf hang, eat memory or crash. Module-level, so a worker can import them.
Nothing here imports pytest."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from portal.adapters.pdf_sanitiser import sanitise_in_this_process
from portal.domain.sanitising import SanitiseReport


def hang_on_slow_pdfs(source: Path, partial: Path, embedded: Path | None = None) -> SanitiseReport:
    """Sanitise as usual, except a file named slow*.pdf: write half a copy, then hang."""
    if source.name.startswith("slow"):
        partial.write_bytes(b"%PDF-1.7\n% half written")
        time.sleep(3600)
    return sanitise_in_this_process(source, partial, embedded)


def exhaust_memory_on_greedy_pdfs(
    source: Path, partial: Path, embedded: Path | None = None
) -> SanitiseReport:
    """Sanitise as usual, except a file named greedy*.pdf: keep allocating until refused."""
    if source.name.startswith("greedy"):
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
    return sanitise_in_this_process(source, partial, embedded)


def crash_on_fatal_pdfs(
    source: Path, partial: Path, embedded: Path | None = None
) -> SanitiseReport:
    """Sanitise as usual, except a file named fatal*.pdf: die of SIGSEGV, as a C++ bug would."""
    if source.name.startswith("fatal"):
        os.kill(os.getpid(), signal.SIGSEGV)
    return sanitise_in_this_process(source, partial, embedded)


def raise_on_odd_pdfs(source: Path, partial: Path, embedded: Path | None = None) -> SanitiseReport:
    """Sanitise as usual, except a file named odd*.pdf: raise what pikepdf never documents."""
    if source.name.startswith("odd"):
        raise RuntimeError("unexpected object type in a broken dictionary")
    return sanitise_in_this_process(source, partial, embedded)


def report_worker_pid(source: Path, partial: Path, embedded: Path | None = None) -> SanitiseReport:
    """Sanitise as usual and say which process did it (in problem_detail, as a test aid)."""
    report = sanitise_in_this_process(source, partial, embedded)
    return report.model_copy(update={"problem_detail": str(os.getpid())})


def report_environment(source: Path, partial: Path, embedded: Path | None = None) -> SanitiseReport:
    """Sanitise as usual and list the worker's environment variable names (a test aid)."""
    report = sanitise_in_this_process(source, partial, embedded)
    return report.model_copy(update={"problem_detail": " ".join(sorted(os.environ))})
