"""Signature databases: what the scanner has loaded, judged for readiness and the admin's
page, and putting a new database in place (`jtai-portal signatures install DIR`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from portal.domain.errors import (
    InvalidSignatureDatabase,
    ScannerUnavailable,
    SignatureInstallFailed,
)
from portal.domain.ports import ReloadableScanner, Scanner, SignatureDirectory, SignatureValidator
from portal.domain.signatures import InstalledDatabase, SignatureState, judge_signatures

if TYPE_CHECKING:
    from portal.bootstrap import Container


def signature_state(scanner: Scanner, now: datetime, max_age: timedelta) -> SignatureState:
    """The signatures the scanner has loaded now, their age at `now` and whether they are
    fit for real documents. Raises ScannerUnavailable if the scanner does not say."""
    return judge_signatures(scanner.signatures(), now, max_age)


class ScannerStatus(BaseModel):
    """Whether the scanner answers now and, if it does, its signatures judged."""

    answers: bool
    error: str | None = None
    state: SignatureState | None = None


def scanner_status(container: Container) -> ScannerStatus:
    """The scanner's signatures now, judged against JTAI_SIGNATURES_MAX_AGE_HOURS at the
    container's clock; a scanner that does not answer is said so, not raised."""
    try:
        state = signature_state(
            container.scanner,
            container.clock.now(),
            timedelta(hours=container.settings.signatures_max_age_hours),
        )
    except ScannerUnavailable as exc:
        return ScannerStatus(answers=False, error=str(exc))
    return ScannerStatus(answers=True, state=state)


def install_signatures(
    source: Path,
    directory: SignatureDirectory,
    validator: SignatureValidator,
    scanner: ReloadableScanner | None,
    *,
    timeout_seconds: float,
    poll_seconds: float = 0.2,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> InstalledDatabase:
    """Put the signature database in `source` in use, or refuse it and change nothing.

    The database files are copied beside the version in use, with a marker naming their
    database id, and checked by loading them as clamd would; a directory that holds no
    database, or one the loader refuses, raises InvalidSignatureDatabase and nothing
    changes. Then the directory's name is switched to the new version in one step, and
    `scanner` (None: not running; it loads the new version when it starts) is told to
    reload; this returns once the scanner reports the new database id. If it does not
    within `timeout_seconds`, the previous version is put back, the scanner told to
    reload again, and SignatureInstallFailed raised. If the scanner cannot be asked, the
    new version stays in place (it loads it when it starts) and SignatureInstallFailed
    says so.
    """
    with directory.locked():
        previous = directory.current()
        staged = directory.stage(source)
        try:
            count = validator.validate(staged.path)
        except (InvalidSignatureDatabase, SignatureInstallFailed):
            directory.discard(staged)
            raise
        directory.point_at(staged.path)
        installed = InstalledDatabase(
            path=staged.path, database_id=staged.database_id, signature_count=count, loaded=None
        )
        if scanner is None:
            directory.prune([staged.path, *([previous] if previous else [])])
            return installed
        try:
            scanner.reload()
        except ScannerUnavailable as exc:
            directory.prune([staged.path, *([previous] if previous else [])])
            raise SignatureInstallFailed(
                f"database {staged.database_id} is in place, but clamd cannot be told to "
                f"load it ({exc}): it loads it when it starts"
            ) from exc
        deadline = monotonic() + timeout_seconds
        while True:
            try:
                loaded = scanner.signatures()
                if loaded.database_id == staged.database_id:
                    directory.prune([staged.path, *([previous] if previous else [])])
                    return installed.model_copy(update={"loaded": loaded})
            except ScannerUnavailable:
                pass  # clamd may not answer while it loads, without ConcurrentDatabaseReload
            if monotonic() >= deadline:
                break
            sleep(poll_seconds)
        _roll_back(directory, scanner, previous)
        raise SignatureInstallFailed(
            f"clamd did not report database {staged.database_id} within "
            f"{timeout_seconds:.0f} s; "
            + (
                "the previous database is back in place"
                if previous
                else "it stays in place, as there was none before"
            )
        )


def _roll_back(
    directory: SignatureDirectory, scanner: ReloadableScanner, previous: Path | None
) -> None:
    if previous is None:
        return
    directory.point_at(previous)
    with contextlib.suppress(ScannerUnavailable):  # it loads it when it starts
        scanner.reload()
