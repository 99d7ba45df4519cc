"""Putting a signature database in place: a complete version beside the one in use, one
atomic switch, the previous version kept and put back if clamd will not report the new
one. Here with a scanner and a loader that a test drives; tests/integration has clamd."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import pytest

from portal.adapters.signature_directory import VersionedDatabaseDirectory
from portal.domain.errors import (
    InvalidSignatureDatabase,
    ScannerUnavailable,
    SignatureInstallFailed,
)
from portal.domain.scanning import ScanReply
from portal.domain.signatures import (
    MARKER_FILE,
    MARKER_PREFIX,
    InstalledDatabase,
    Signatures,
    marker_line,
)
from portal.services.signatures import install_signatures


class Loader:
    """A SignatureValidator that accepts every database, or refuses as told."""

    def __init__(self, refusal: str = "") -> None:
        self.refusal = refusal

    def validate(self, directory: Path) -> int:
        if self.refusal:
            raise InvalidSignatureDatabase(self.refusal)
        return len(list(directory.iterdir()))


class Clamd:
    """A scanner that, told to reload, loads what the link points at (unless told it
    cannot), and reports the database id of its marker, as clamd does."""

    def __init__(self, link: Path, *, loads: bool = True, answers: bool = True) -> None:
        self.link = link
        self.loads = loads
        self.answers = answers
        self.reloads = 0
        self.loaded = self._marker() if link.exists() else None

    def _marker(self) -> str:
        line = (self.link / MARKER_FILE).read_text()
        return line.split(":")[0].removeprefix(MARKER_PREFIX)

    def reload(self) -> None:
        if not self.answers:
            raise ScannerUnavailable("no clamd")
        self.reloads += 1
        if self.loads:
            self.loaded = self._marker()

    def signatures(self) -> Signatures:
        return Signatures(engine="1.4.6", database_id=self.loaded)

    def check(self) -> None:
        pass

    def scan(self, source: BinaryIO) -> ScanReply:
        raise AssertionError("installing scans nothing")


class Ticks:
    """A monotonic clock that moves a second each time it is read; sleeping does nothing."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _database(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "local.ndb").write_text(text)
    (folder / "freshclam.dat").write_text("freshclam's own state")
    return folder


def _install(
    source: Path, link: Path, clamd: Clamd | None = None, loader: Loader | None = None
) -> InstalledDatabase:
    return install_signatures(
        source,
        VersionedDatabaseDirectory(link),
        loader or Loader(),
        clamd,
        timeout_seconds=5,
        monotonic=Ticks(),
        sleep=lambda _: None,
    )


def test_a_database_is_copied_with_its_marker_and_the_name_points_at_it(tmp_path: Path) -> None:
    link = tmp_path / "clamd" / "signatures"
    installed = _install(_database(tmp_path / "one", "A:0:*:41\n"), link)

    assert link.is_symlink() and link.resolve() == installed.path
    assert sorted(p.name for p in installed.path.iterdir()) == ["jtai-signatures.ndb", "local.ndb"]
    assert (installed.path / MARKER_FILE).read_text() == marker_line(installed.database_id)
    assert not os.path.isabs(os.readlink(link)), "a relative link survives moving the folder"


def test_clamd_is_told_and_the_install_returns_once_it_reports_the_new_database(
    tmp_path: Path,
) -> None:
    link = tmp_path / "signatures"
    first = _install(_database(tmp_path / "one", "A:0:*:41\n"), link)
    clamd = Clamd(link)
    second = _install(_database(tmp_path / "two", "B:0:*:42\n"), link, clamd)

    assert clamd.reloads == 1
    assert second.loaded is not None and second.loaded.database_id == second.database_id
    assert second.database_id != first.database_id


def test_an_install_clamd_does_not_report_in_time_puts_the_previous_database_back(
    tmp_path: Path,
) -> None:
    link = tmp_path / "signatures"
    first = _install(_database(tmp_path / "one", "A:0:*:41\n"), link)
    clamd = Clamd(link, loads=False)  # keeps what it has

    with pytest.raises(SignatureInstallFailed, match="previous database is back in place"):
        _install(_database(tmp_path / "two", "B:0:*:42\n"), link, clamd)

    assert link.resolve() == first.path
    assert clamd.reloads == 2  # the new database, then the previous one again


def test_a_refused_database_changes_nothing_and_leaves_nothing_behind(tmp_path: Path) -> None:
    link = tmp_path / "signatures"
    first = _install(_database(tmp_path / "one", "A:0:*:41\n"), link)
    clamd = Clamd(link)

    with pytest.raises(InvalidSignatureDatabase, match="Malformed database"):
        _install(
            _database(tmp_path / "two", "not a signature\n"),
            link,
            clamd,
            Loader(refusal="Malformed database"),
        )

    assert link.resolve() == first.path
    assert [p.name for p in (tmp_path / "signatures.versions").iterdir()] == [first.path.name]
    assert clamd.reloads == 0


@pytest.mark.parametrize("contents", [{}, {"README.txt": "hello"}, {"freshclam.dat": "x"}])
def test_a_directory_without_database_files_is_refused(
    tmp_path: Path, contents: dict[str, str]
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name, text in contents.items():
        (source / name).write_text(text)
    with pytest.raises(InvalidSignatureDatabase, match="holds no ClamAV database file"):
        _install(source, tmp_path / "signatures")
    assert not (tmp_path / "signatures").exists()


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidSignatureDatabase, match="is not a directory"):
        _install(tmp_path / "nowhere", tmp_path / "signatures")


def test_only_the_database_in_use_and_the_one_before_it_are_kept(tmp_path: Path) -> None:
    link = tmp_path / "signatures"
    installed = [_install(_database(tmp_path / str(n), f"S{n}:0:*:4{n}\n"), link) for n in range(3)]
    kept = sorted(p.name for p in (tmp_path / "signatures.versions").iterdir())
    assert kept == sorted([installed[1].path.name, installed[2].path.name])
    assert link.resolve() == installed[2].path


def test_a_real_directory_where_the_link_should_be_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "signatures"
    link.mkdir()
    with pytest.raises(SignatureInstallFailed, match="not a symlink"):
        _install(_database(tmp_path / "one", "A:0:*:41\n"), link)


def test_a_clamd_that_cannot_be_told_leaves_the_new_database_for_its_next_start(
    tmp_path: Path,
) -> None:
    link = tmp_path / "signatures"
    with pytest.raises(SignatureInstallFailed, match="it loads it when it starts"):
        _install(_database(tmp_path / "one", "A:0:*:41\n"), link, Clamd(link, answers=False))
    assert link.is_symlink()
