"""A peer on clamd's socket that misbehaves the way a dying clamd does, and a scanner that
counts the scans it is asked for."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from portal.domain.ports import Scanner
from portal.domain.scanning import ScanReply
from portal.domain.signatures import Signatures

CLOSE_AFTER_BYTES = 256 * 1024


@contextlib.contextmanager
def clamd_that_closes_mid_stream(path: Path) -> Iterator[Path]:
    """A Unix socket at `path` that answers VERSION like clamd and a short INSTREAM (the
    signatures' probe) with `stream: OK`, but closes any stream without a word once it
    has passed CLOSE_AFTER_BYTES: clamd gone mid-upload."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_answer, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield path
    finally:
        server.close()


def _answer(connection: socket.socket) -> None:
    with connection:
        command = connection.recv(10)
        if command.startswith(b"zVERSION"):
            connection.sendall(b"ClamAV 1.4.6\0")
            return
        received = 0
        while True:
            data = connection.recv(65536)
            if not data:
                return
            received += len(data)
            if received > CLOSE_AFTER_BYTES:
                return  # gone mid-stream
            if data.endswith(b"\0\0\0\0"):
                connection.sendall(b"stream: OK\0")
                return


class CountingScanner:
    """The worker's scanner (real clamd), counting the scans it is asked for."""

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.scans = 0

    def scan(self, source: BinaryIO) -> ScanReply:
        self.scans += 1
        return self.inner.scan(source)

    def check(self) -> None:
        self.inner.check()

    def signatures(self) -> Signatures:
        return self.inner.signatures()
