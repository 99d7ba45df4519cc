"""Scanning an upload while it arrives: the API streams the file's bytes to clamd as it
reads them, over a bounded pool of INSTREAM connections per process.

Best effort, never in the uploader's way: an upload that finds every connection busy, or
whose scan fails (clamd down, gone or too slow mid-upload, its StreamMaxLength passed),
is received unscanned, exactly as before, and the worker scans it. Only a reply that
decides something (exactly clean, or a signature found) is kept: see
portal.domain.upload_scan. No thread is held while clamd reads or thinks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from portal.domain.errors import ScannerUnavailable
from portal.domain.ports import Clock, ScanStream, StreamingScanner
from portal.domain.signatures import ScannedWith, Signatures
from portal.domain.upload_scan import ScannedAtUpload

log = logging.getLogger(__name__)

START_SECONDS = 10.0
"""The longest an upload waits for clamd to name its signatures and take a stream before
its body is read; a clamd slower than this leaves the upload to the worker. Generous: on
a busy machine clamd's VERSION and probe can take seconds, and a hung clamd costs each
upload this once (its client meanwhile waits, its bytes in the socket's buffers)."""

SIGNATURES_REUSE_SECONDS = 1.0
"""How long one reading of clamd's signatures (its VERSION and the probe scan, three
connections and a scan of their own) serves the uploads that start after it. A verdict
then names signatures read at most this long before its scan began: never newer than
those that judged it, as a worker's batch names signatures read before its first scan
(seconds before its last). A reload inside the second makes the next uploads name the
older database, so a rescan may scan them again; it never lets one pass unscanned.
Measured (bench.agency_burst, 300 uploads): asking before every upload cost the API
about 1 ms of CPU an upload and clamd a probe scan each."""
_REUSE = timedelta(seconds=SIGNATURES_REUSE_SECONDS)


class UploadScans:
    """The upload scans this API process runs at once: at most `connections` (0: none)."""

    def __init__(
        self,
        scanner: StreamingScanner | None,
        connections: int,
        clock: Clock,
    ) -> None:
        self._scanner = scanner
        self._free = connections if scanner is not None else 0
        self._clock = clock
        self._reading: tuple[Signatures, datetime] | None = None
        self._renewing = asyncio.Lock()

    @property
    def free(self) -> int:
        """Connections no upload is using now."""
        return self._free

    async def start(self) -> UploadScan:
        """A scan for the upload about to be read: a live one if a connection is free and
        clamd answers, else one that scans nothing (the worker will). Never raises."""
        if self._scanner is None or self._free <= 0:
            why = "no upload scan connection free"
            if self._scanner is not None:
                log.info("upload not scanned on arrival (the worker scans it): %s", why)
            return UploadScan(None, None, release=_nothing, why_not=why)
        # Taken before the first await: the event loop runs one upload's code at a time.
        self._free -= 1
        try:
            async with asyncio.timeout(START_SECONDS):
                # Read before the scan opens, as a worker reads before a batch's: a
                # verdict never records newer signatures than those that judged it.
                signatures = await self._signatures(self._scanner)
                scanned = ScannedWith(signatures=signatures, at=self._clock.now())
                stream = await self._scanner.open_stream()
        except (ScannerUnavailable, TimeoutError) as exc:
            self._release()
            why = str(exc) or f"clamd did not answer within {START_SECONDS:g} s"
            log.info("upload not scanned on arrival (the worker scans it): %s", why)
            return UploadScan(None, None, release=_nothing, why_not=why)
        return UploadScan(stream, scanned, release=self._release)

    async def _signatures(self, scanner: StreamingScanner) -> Signatures:
        """Signatures clamd had loaded at most SIGNATURES_REUSE_SECONDS (by the clock)
        before this upload asked: the last reading, or a new one. One upload asks at a
        time; those that arrived meanwhile take its answer, however long it took (it was
        read before any of their scans opens). Raises ScannerUnavailable as the scanner
        does; nothing is kept then."""
        earliest = self._clock.now() - _REUSE
        if (fresh := self._reading_since(earliest)) is not None:
            return fresh
        async with self._renewing:
            if (fresh := self._reading_since(earliest)) is not None:
                return fresh
            asked_at = self._clock.now()  # the reading's age counts from before it was asked
            signatures = await scanner.signatures()
            self._reading = (signatures, asked_at)
            return signatures

    def _reading_since(self, earliest: datetime) -> Signatures | None:
        """The last reading if it was asked after `earliest`; none if it was asked after
        now (a clock set back: read again, never reuse)."""
        if self._reading is None:
            return None
        signatures, asked_at = self._reading
        return signatures if earliest < asked_at <= self._clock.now() else None

    def _release(self) -> None:
        self._free += 1


def _nothing() -> None:
    return None


class UploadScan:
    """One upload's scan: fed the file's bytes as they arrive, then asked for its result.
    Once it fails it scans nothing more; it gives its connection back exactly once (on its
    result, or `abort`)."""

    def __init__(
        self,
        stream: ScanStream | None,
        scanned: ScannedWith | None,
        *,
        release: Callable[[], None],
        why_not: str = "",
    ) -> None:
        self._stream = stream
        self._scanned = scanned
        self._release = release
        self.why_not = why_not
        """Why the upload was not scanned as it arrived ('' while it is, or was)."""

    @property
    def live(self) -> bool:
        """Whether bytes fed now still reach clamd."""
        return self._stream is not None

    async def feed(self, data: bytes) -> None:
        """Send the next file bytes to clamd; a failure ends this scan (never raises)."""
        if self._stream is None or not data:
            return
        try:
            await self._stream.feed(data)
        except ScannerUnavailable as exc:
            self._give_up(f"clamd stopped taking the upload: {exc}")

    async def result(self) -> ScannedAtUpload | None:
        """clamd's verdict on every byte fed, if it decides something (exactly clean, or a
        signature found); None if the upload was not scanned (never raises)."""
        stream, scanned = self._stream, self._scanned
        if stream is None or scanned is None:
            return None
        try:
            reply = await stream.finish()
        except ScannerUnavailable as exc:
            self._give_up(f"no verdict from clamd: {exc}")
            return None
        self._end()
        result = ScannedAtUpload(reply=reply, scanned=scanned)
        if not result.counts:
            self.why_not = f"clamd's reply decides nothing: {reply.raw[:120]!r}"
            log.info("upload not scanned on arrival (the worker scans it): %s", self.why_not)
            return None
        return result

    def abort(self) -> None:
        """Drop the scan, if still live (the upload failed, or was refused)."""
        if self._stream is not None:
            self._stream.abort()
            self._end()

    def _give_up(self, why: str) -> None:
        self.why_not = why
        log.info("upload not scanned on arrival (the worker scans it): %s", why)
        if self._stream is not None:
            self._stream.abort()
        self._end()

    def _end(self) -> None:
        self._stream = None
        release, self._release = self._release, _nothing
        release()
