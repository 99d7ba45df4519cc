"""The clamd adapter against a real clamd, and against peers that misbehave."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.adapters.clamd_scanner import ClamdScanner
from portal.domain.errors import ScannerUnavailable
from portal.domain.scanning import ScanStatus
from tests import samples
from tests.conftest import ClamdProcess


@pytest.fixture
def scanner(running_clamd: ClamdProcess) -> ClamdScanner:
    return ClamdScanner(unix_socket=running_clamd.socket, timeout=30)


def test_clean_bytes_get_the_exact_clean_reply(scanner: ClamdScanner) -> None:
    reply = scanner.scan(io.BytesIO(samples.pdf_text_pages(3)))
    assert reply.status is ScanStatus.clean
    assert reply.raw == "stream: OK"


@pytest.mark.parametrize(
    "make", [samples.eicar, samples.eicar_zip, samples.eicar_nested_zip, samples.eicar_pdf]
)
def test_eicar_is_found_in_text_zips_and_pdf_attachments(
    scanner: ClamdScanner, make: object
) -> None:
    reply = scanner.scan(io.BytesIO(make()))  # type: ignore[operator]
    assert reply.status is ScanStatus.found


def test_eicar_past_the_first_chunk_is_found(scanner: ClamdScanner) -> None:
    data = b"a," * 300_000 + samples.eicar() + b"\n"
    assert scanner.scan(io.BytesIO(data)).status is ScanStatus.found


def test_chunks_smaller_than_64_kib_are_refused() -> None:
    with pytest.raises(ValueError):
        ClamdScanner(unix_socket=Path("/nonexistent"), chunk_size=1024)


def test_a_stopped_clamd_is_unavailable_not_clean(tmp_path: Path) -> None:
    scanner = ClamdScanner(unix_socket=tmp_path / "missing.sock", timeout=2)
    with pytest.raises(ScannerUnavailable):
        scanner.scan(io.BytesIO(b"hello"))
    with pytest.raises(ScannerUnavailable):
        scanner.check()


@pytest.fixture
def misbehaving_peer() -> Iterator[tuple[str, int, list[str]]]:
    """A TCP server that, per connection, follows the next behaviour in the list."""
    behaviours: list[str] = []
    server = socket.create_server(("127.0.0.1", 0))
    host, port = server.getsockname()

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            behaviour = behaviours.pop(0) if behaviours else "close"
            with connection:
                connection.recv(16)
                if behaviour == "size_limit":
                    connection.sendall(b"INSTREAM size limit exceeded. ERROR\0")
                elif behaviour == "silent":
                    threading.Event().wait(3)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield host, port, behaviours
    server.close()


def test_an_empty_reply_is_unavailable(misbehaving_peer: tuple[str, int, list[str]]) -> None:
    host, port, behaviours = misbehaving_peer
    behaviours.append("close")
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(host=host, port=port, timeout=2).scan(io.BytesIO(b"x" * 1_000_000))


def test_a_timeout_is_unavailable(misbehaving_peer: tuple[str, int, list[str]]) -> None:
    host, port, behaviours = misbehaving_peer
    behaviours.append("silent")
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(host=host, port=port, timeout=0.5).scan(io.BytesIO(b"x" * 100))


def test_a_size_limit_reply_mid_stream_is_returned_not_clean(
    misbehaving_peer: tuple[str, int, list[str]],
) -> None:
    host, port, behaviours = misbehaving_peer
    behaviours.append("size_limit")
    reply = ClamdScanner(host=host, port=port, timeout=5).scan(io.BytesIO(b"x" * 20_000_000))
    assert reply.status is ScanStatus.unusable
    assert "size limit" in reply.raw
