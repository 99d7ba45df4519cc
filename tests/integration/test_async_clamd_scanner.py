"""The asyncio clamd client and the pool of upload scans, against a real clamd (and one with
a small StreamMaxLength), and against a peer that closes mid-stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.adapters.clamd_scanner import AsyncClamdScanner, ClamdScanner
from portal.adapters.clock import SettableClock, SystemClock
from portal.domain.errors import ScannerUnavailable
from portal.domain.ports import ScanStream
from portal.domain.scanning import ScanStatus
from portal.domain.signatures import Signatures
from portal.http.upload_scan import SIGNATURES_REUSE_SECONDS, UploadScans
from tests import samples
from tests.clamd_peers import clamd_that_closes_mid_stream
from tests.conftest import ClamdProcess


def _scanner(path: Path) -> AsyncClamdScanner:
    return AsyncClamdScanner(unix_socket=path, timeout=10, chunk_size=64 * 1024)


async def _scan_in_pieces(scanner: AsyncClamdScanner, data: bytes, piece: int) -> ScanStatus:
    stream = await scanner.open_stream()
    for start in range(0, len(data), piece):
        await stream.feed(data[start : start + piece])
    return (await stream.finish()).status


def test_bytes_fed_as_they_arrive_get_the_exact_clean_reply(running_clamd: ClamdProcess) -> None:
    data = samples.pdf_text_pages(5)
    status = asyncio.run(_scan_in_pieces(_scanner(running_clamd.socket), data, 1000))
    assert status is ScanStatus.clean


def test_eicar_split_across_pieces_and_past_the_first_chunk_is_found(
    running_clamd: ClamdProcess,
) -> None:
    data = b"a," * 300_000 + samples.eicar() + b"\n"
    status = asyncio.run(_scan_in_pieces(_scanner(running_clamd.socket), data, 77_777))
    assert status is ScanStatus.found


def test_the_async_client_names_the_signatures_the_blocking_one_names(
    running_clamd: ClamdProcess,
) -> None:
    asked = asyncio.run(_scanner(running_clamd.socket).signatures())
    assert asked == ClamdScanner(unix_socket=running_clamd.socket).signatures()
    assert asked.database_id is not None


def test_a_missing_clamd_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ScannerUnavailable):
        asyncio.run(_scanner(tmp_path / "missing.sock").open_stream())


@pytest.fixture
def small_stream_clamd(tmp_path: Path) -> Iterator[ClamdProcess]:
    """A clamd that takes streams of at most 1 MiB."""
    process = ClamdProcess(tmp_path / "small-clamd", config={"StreamMaxLength": "1M"})
    process.state_dir.mkdir()
    process.start()
    yield process
    process.stop()


def test_a_stream_past_clamds_limit_gives_no_clean_reply(
    small_stream_clamd: ClamdProcess,
) -> None:
    async def scan() -> ScanStatus | None:
        try:
            return await _scan_in_pieces(
                _scanner(small_stream_clamd.socket), b"x" * (3 * 1024 * 1024), 1024 * 1024
            )
        except ScannerUnavailable:
            return None

    assert asyncio.run(scan()) in (None, ScanStatus.unusable)


@pytest.fixture
def closes_mid_stream(tmp_path: Path) -> Iterator[Path]:
    """A Unix socket that answers like clamd until a stream passes 256 KiB, then closes."""
    with clamd_that_closes_mid_stream(tmp_path / "closing.sock") as path:
        yield path


def test_a_pool_gives_no_more_scans_than_its_connections_and_takes_each_back(
    running_clamd: ClamdProcess,
) -> None:
    async def run() -> list[object]:
        scans = UploadScans(_scanner(running_clamd.socket), 1, SystemClock())
        first = await scans.start()
        second = await scans.start()  # while the first is open
        seen: list[object] = [first.live, second.live, await second.result()]
        await first.feed(samples.pdf_text_pages(1))
        verdict = await first.result()
        seen.append(verdict.reply.status if verdict else None)
        third = await scans.start()
        seen += [third.live, scans.free]
        third.abort()
        seen.append(scans.free)
        return seen

    assert asyncio.run(run()) == [True, False, None, ScanStatus.clean, True, 0, 1]


def test_a_scan_whose_clamd_closes_mid_stream_gives_nothing_and_frees_its_connection(
    closes_mid_stream: Path,
) -> None:
    async def run() -> tuple[object, str, int]:
        scans = UploadScans(_scanner(closes_mid_stream), 1, SystemClock())
        scan = await scans.start()
        assert scan.live
        for _ in range(8):
            await scan.feed(b"y" * 128 * 1024)
        return await scan.result(), scan.why_not, scans.free

    result, why_not, free = asyncio.run(run())
    assert result is None
    assert why_not
    assert free == 1


def test_a_pool_of_none_scans_nothing(running_clamd: ClamdProcess) -> None:
    async def run() -> bool:
        scan = await UploadScans(_scanner(running_clamd.socket), 0, SystemClock()).start()
        await scan.feed(b"z")
        return scan.live or await scan.result() is not None

    assert not asyncio.run(run())


class _CountingScanner:
    """A real AsyncClamdScanner that counts how often its signatures are read, and can be
    made to fail that reading."""

    def __init__(self, inner: AsyncClamdScanner, clock: SettableClock) -> None:
        self.inner = inner
        self.clock = clock
        self.asked = 0
        self.failing = False
        self.reading_takes = timedelta(0)

    async def open_stream(self) -> ScanStream:
        return await self.inner.open_stream()

    async def signatures(self) -> Signatures:
        self.asked += 1
        if self.failing:
            raise ScannerUnavailable("clamd did not answer VERSION (a test)")
        signatures = await self.inner.signatures()
        self.clock.advance(self.reading_takes)  # a busy clamd's slow answer
        return signatures


def test_uploads_starting_within_a_second_share_one_reading_of_the_signatures(
    running_clamd: ClamdProcess,
) -> None:
    """One reading serves the uploads of the next SIGNATURES_REUSE_SECONDS by the clock;
    then, or when the clock was set back, or after a failed reading, clamd is asked again."""
    clock = SettableClock(datetime(2027, 3, 2, 16, 59, tzinfo=UTC))
    scanner = _CountingScanner(_scanner(running_clamd.socket), clock)
    reuse = timedelta(seconds=SIGNATURES_REUSE_SECONDS)

    async def upload() -> str | None:
        scan = await scans.start()
        await scan.feed(samples.pdf_text_pages(1))
        verdict = await scan.result()
        return verdict.scanned.signatures.version if verdict else None

    async def run() -> list[object]:
        together = await asyncio.gather(upload(), upload(), upload())
        seen: list[object] = [scanner.asked, len(set(together)), together[0] is not None]
        clock.advance(reuse - timedelta(milliseconds=1))
        await upload()
        seen.append(scanner.asked)  # still within the reading's second
        clock.advance(timedelta(milliseconds=1))
        await upload()
        seen.append(scanner.asked)  # its second over: read again
        clock.advance(-timedelta(seconds=5))
        await upload()
        seen.append(scanner.asked)  # the clock set back: never reused
        clock.advance(reuse)
        scanner.failing = True
        failed = await scans.start()
        seen += [failed.live, scanner.asked]
        scanner.failing = False
        await upload()
        seen.append(scanner.asked)  # nothing was kept from the failed reading
        return seen

    scans = UploadScans(scanner, 3, clock)
    assert asyncio.run(run()) == [1, 1, True, 1, 2, 3, False, 4, 5]


def test_uploads_waiting_on_a_slow_reading_take_its_answer_rather_than_asking_again(
    running_clamd: ClamdProcess,
) -> None:
    """A reading that takes longer than SIGNATURES_REUSE_SECONDS still serves the uploads
    that arrived while it was asked: they do not ask clamd one after another."""
    clock = SettableClock(datetime(2027, 3, 2, 16, 59, tzinfo=UTC))
    scanner = _CountingScanner(_scanner(running_clamd.socket), clock)
    scanner.reading_takes = timedelta(seconds=3 * SIGNATURES_REUSE_SECONDS)
    scans = UploadScans(scanner, 3, clock)

    async def run() -> list[bool]:
        started = await asyncio.gather(scans.start(), scans.start(), scans.start())
        live = [scan.live for scan in started]
        for scan in started:
            scan.abort()
        return live

    assert asyncio.run(run()) == [True, True, True]
    assert scanner.asked == 1
