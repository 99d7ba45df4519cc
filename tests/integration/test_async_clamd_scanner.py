"""The asyncio clamd client and the pool of upload scans, against a real clamd (and one with
a small StreamMaxLength), and against a peer that closes mid-stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.adapters.clamd_scanner import AsyncClamdScanner, ClamdScanner
from portal.adapters.clock import SystemClock
from portal.domain.errors import ScannerUnavailable
from portal.domain.scanning import ScanStatus
from portal.http.upload_scan import UploadScans
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
