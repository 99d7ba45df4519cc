"""Signature databases the tests build with ClamAV's own formats (the machine cannot
download the official ones): body signatures in .ndb files, as infra/clamd/db is built,
and unsigned ClamAV databases (.cud: a 512-byte header naming the database version and
its date, then a gzipped tar of signature files), which clamd reports in VERSION as it
reports the official daily.cvd. And a clamd of a test's own, on a database directory that
`jtai-portal signatures install` manages."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.adapters.clamd_scanner import ClamdScanner
from portal.adapters.clamscan_validator import ClamscanValidator
from portal.adapters.signature_directory import VersionedDatabaseDirectory
from portal.services.signatures import install_signatures
from portal.settings import REPO_ROOT
from tests.conftest import ClamdProcess

LOCAL_TEST_DATABASE = REPO_ROOT / "infra/clamd/db"


def ndb_line(name: str, pattern: bytes) -> str:
    """A body signature (.ndb) that finds `pattern` anywhere in a file."""
    return f"{name}:0:*:{pattern.hex()}\n"


def unique_pattern(label: str) -> bytes:
    """Bytes no other test's signature matches."""
    return f"JTAI-TEST-{label}-{uuid.uuid4().hex}".encode()


def ndb_database(directory: Path, signatures: dict[str, bytes]) -> Path:
    """A directory holding one .ndb file with a body signature per name."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = "".join(ndb_line(name, pattern) for name, pattern in signatures.items())
    (directory / "jtai-test.ndb").write_text(lines)
    return directory


def cud_database(
    directory: Path, version: int, published: datetime, signatures: dict[str, bytes]
) -> Path:
    """A directory holding daily.cud: an unsigned ClamAV database of this version and
    publication time (what clamd's VERSION then reports), with these body signatures."""
    directory.mkdir(parents=True, exist_ok=True)
    stime = int(published.timestamp())
    built = datetime.fromtimestamp(stime, UTC).strftime("%d %b %Y %H-%M %z")
    ndb = "".join(ndb_line(name, pattern) for name, pattern in signatures.items()).encode()
    info = f"ClamAV-VDB:{built}:{version}:{len(signatures)}:216:X:X:jtai-tests:{stime}\n"
    info += f"daily.ndb:{len(ndb)}:{hashlib.sha256(ndb).hexdigest()}\n"
    members = {"COPYING": b"Test signatures of the JTAI portal.\n", "daily.info": info.encode()}
    members["daily.ndb"] = ndb
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as tar:
        for name, data in members.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
    body = gzip.compress(packed.getvalue(), mtime=0)
    header = (
        f"ClamAV-VDB:{built}:{version}:{len(signatures)}:216:"
        f"{hashlib.md5(body).hexdigest()}:X:jtai-tests:{stime}"
    ).encode()
    (directory / "daily.cud").write_bytes(header.ljust(512, b" ") + body)
    return directory


def install_quietly(source: Path, link: Path) -> None:
    """Install `source` as the database `link` names, with no clamd to tell."""
    install_signatures(
        source, VersionedDatabaseDirectory(link), ClamscanValidator(), None, timeout_seconds=5
    )


class OwnClamd:
    """A clamd of one test's own, reading the database directory `link`."""

    def __init__(self, root: Path) -> None:
        self.link = root / "signatures"
        self.process = ClamdProcess(root / "state", self.link)
        (root / "state").mkdir(parents=True, exist_ok=True)

    @property
    def socket(self) -> Path:
        return self.process.socket

    def scanner(self) -> ClamdScanner:
        return ClamdScanner(unix_socket=self.socket, timeout=30)

    def install(self, source: Path) -> None:
        """Put `source` in place, tell clamd and wait until it reports it."""
        install_signatures(
            source,
            VersionedDatabaseDirectory(self.link),
            ClamscanValidator(),
            self.scanner(),
            timeout_seconds=60,
        )


@pytest.fixture
def own_clamd(tmp_path: Path) -> Iterator[OwnClamd]:
    """A clamd of this test's own, started on the portal's local test signatures installed
    as `jtai-portal up` installs them (a symlink to a version directory)."""
    clamd = OwnClamd(tmp_path / "own-clamd")
    install_quietly(LOCAL_TEST_DATABASE, clamd.link)
    clamd.process.start()
    yield clamd
    clamd.process.stop()
