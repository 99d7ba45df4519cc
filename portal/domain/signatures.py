"""Which signatures judge a file: clamd's VERSION reply, the database its marker names, and
whether what clamd has loaded is fit for real documents. Pure rules, no I/O.

clamd says which signatures it has loaded in two ways, both over its socket:

- VERSION: `ClamAV 1.4.3/27505/Tue Dec  6 08:23:00 2026`, engine / the database version /
  that database's date. The number is that of the newest ClamAV database (.cvd, .cld or
  .cud) loaded; with local signature files only (.ndb, .hdb, ...) clamd says `ClamAV 1.4.3`
  and nothing else, so two local databases cannot be told apart by VERSION.
- The marker: every database `jtai-portal signatures install` puts in place carries one
  more signature, `Jtai.Signatures.<id>` (in `jtai-signatures.ndb`), whose id is a digest
  of the database's other files and which matches only PROBE. Scanning PROBE makes clamd
  name the database it has loaded, whatever its kind, from wherever it runs.

The version a verdict records (`Signatures.version`) joins the two: `27505`,
`27505+3fa9c1d2e4b5a6f7`, `local+3fa9c1d2e4b5a6f7`, or `local` for local signatures
without a marker (which then cannot be told apart).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from portal.domain.scanning import ScanReply, ScanStatus

_VERSION_REPLY = re.compile(r"ClamAV (?P<engine>[^\s/]+)(?:/(?P<number>[0-9]+)(?:/(?P<date>.*))?)?")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

PROBE = b"JTAI-SIGNATURE-DATABASE-PROBE-5d0f6c1e9a7b"
"""Bytes that only the marker signature of a database matches: scanned, clamd answers
with the name of the database it has loaded."""

MARKER_FILE = "jtai-signatures.ndb"
"""The file, in a database directory, that holds the marker signature."""

MARKER_PREFIX = "Jtai.Signatures."
_MARKER_NAME = re.compile(re.escape(MARKER_PREFIX) + r"([0-9a-f]{16})(?:\.UNOFFICIAL)?")

LOCAL_TEST_DATABASE_ID = "d70512f927bd6fec"
"""The id of the portal's local test database (infra/clamd/db: the EICAR test signature
and its marker). tests/unit/test_signatures.py fails if the files and this id part."""

DATABASE_EXTENSIONS = (
    ".cvd", ".cld", ".cud", ".db", ".hdb", ".hdu", ".hsb", ".hsu", ".fp", ".sfp", ".mdb",
    ".mdu", ".msb", ".msu", ".ndb", ".ndu", ".ldb", ".ldu", ".sdb", ".zmd", ".rmd", ".pdb",
    ".gdb", ".wdb", ".cbc", ".ftm", ".cfg", ".cdb", ".cat", ".crb", ".idb", ".ioc", ".info",
    ".yar", ".yara", ".pwdb", ".ign", ".ign2", ".imp",
)  # fmt: skip
"""The file name endings libclamav loads from a database directory (CLI_DBEXT in its
readdb.h); freshclam's own files (freshclam.dat, mirrors.dat) are not signatures."""


class ClamdVersion(BaseModel):
    """clamd's answer to VERSION, parsed."""

    model_config = ConfigDict(frozen=True)

    engine: str
    database_version: int | None = None
    database_date: datetime | None = None


def parse_version_reply(raw: str) -> ClamdVersion:
    """Parse clamd's VERSION reply: `ClamAV 1.4.3/27505/Tue Dec  6 08:23:00 2026`, or
    `ClamAV 1.4.3` when no ClamAV database is loaded (a number 0 counts as none).

    clamd writes the date in its own time zone, which it does not name: it is read as UTC
    (clamd's servers here run in UTC; elsewhere it is off by the zone's offset, hours
    against a threshold of days). A date that cannot be read is None; anything that is not
    a VERSION reply raises ValueError.
    """
    text = raw.rstrip("\0\n").strip()
    match = _VERSION_REPLY.fullmatch(text)
    if match is None:
        raise ValueError(f"not a clamd VERSION reply: {text[:80]!r}")
    number = int(match["number"]) if match["number"] else None
    if not number:
        return ClamdVersion(engine=match["engine"])
    return ClamdVersion(
        engine=match["engine"],
        database_version=number,
        database_date=_ctime(match["date"] or ""),
    )


def _ctime(text: str) -> datetime | None:
    """C's ctime() format, `Tue Dec  6 08:23:00 2026`, as UTC (not locale-dependent)."""
    parts = text.split()
    if len(parts) != 5 or parts[1] not in _MONTHS:
        return None
    try:
        hour, minute, second = (int(p) for p in parts[3].split(":"))
        return datetime(
            int(parts[4]), _MONTHS.index(parts[1]) + 1, int(parts[2]), hour, minute, second,
            tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None


def marker_line(database_id: str) -> str:
    """The marker signature (one .ndb line) of the database with this id."""
    return f"{MARKER_PREFIX}{database_id}:0:*:{PROBE.hex()}\n"


def database_id_of(reply: ScanReply) -> str | None:
    """The database id clamd named when it scanned PROBE, or None if no marker matched
    (a database without one). Raises ValueError for a reply that is no verdict."""
    if reply.status is ScanStatus.unusable:
        raise ValueError(f"clamd gave no verdict on the probe: {reply.raw[:80]!r}")
    if reply.status is ScanStatus.clean:
        return None
    match = _MARKER_NAME.fullmatch(reply.signature or "")
    return match[1] if match else None


def is_database_file(name: str) -> bool:
    """Whether libclamav loads a file of this name from a database directory."""
    return not name.startswith(".") and name.lower().endswith(DATABASE_EXTENSIONS)


def database_id(files: Mapping[str, str]) -> str:
    """The id of a database: a digest of its files' names and sha256 digests (name ->
    hex digest), the marker file left out, so a database and its installed copy have the
    same id and any change of content gives another."""
    digest = hashlib.sha256()
    for name in sorted(files):
        if name != MARKER_FILE:
            digest.update(f"{name}\0{files[name]}\n".encode())
    return digest.hexdigest()[:16]


class SignatureKind(StrEnum):
    """What clamd has loaded."""

    official = "official"  # a ClamAV database: VERSION names its number and date
    local = "local"  # local signature files only: no known virus beyond them is found
    test = "test"  # only the portal's local test signatures (the EICAR test file)


class Signatures(BaseModel):
    """The signatures clamd has loaded now, as it says over its socket."""

    model_config = ConfigDict(frozen=True)

    engine: str
    database_version: int | None = None
    database_date: datetime | None = None
    database_id: str | None = None

    @property
    def version(self) -> str:
        """What a verdict records as the signatures that judged it: the ClamAV database's
        number, and the marker's database id when there is one. Two databases with the
        same version are the same files, except that two local databases without a marker
        are both `local`."""
        number = str(self.database_version) if self.database_version is not None else "local"
        return f"{number}+{self.database_id}" if self.database_id else number

    @property
    def kind(self) -> SignatureKind:
        """Official once a ClamAV database is loaded; else the portal's test database if
        its marker says so; else local."""
        if self.database_version is not None:
            return SignatureKind.official
        if self.database_id == LOCAL_TEST_DATABASE_ID:
            return SignatureKind.test
        return SignatureKind.local


class ScannedWith(BaseModel):
    """Which signatures judged a file, and when clamd was asked: what its verdict records."""

    model_config = ConfigDict(frozen=True)

    signatures: Signatures
    at: datetime


class StagedDatabase(BaseModel):
    """A complete copy of a signature database beside the one in use, with its marker,
    not yet in use."""

    model_config = ConfigDict(frozen=True)

    path: Path
    database_id: str
    files: tuple[str, ...]


class InstalledDatabase(BaseModel):
    """A database put in place, and what the scanner then reports."""

    model_config = ConfigDict(frozen=True)

    path: Path
    database_id: str
    signature_count: int
    loaded: Signatures | None
    """What the scanner reports after loading it; None if it was not asked (not running)."""


def is_local_test_version(version: str) -> bool:
    """Whether a recorded signatures version (Signatures.version) is that of the portal's
    local test signatures alone."""
    return version == f"local+{LOCAL_TEST_DATABASE_ID}"


def signatures_of(version: ClamdVersion, database: str | None) -> Signatures:
    """The signatures clamd has loaded, from its VERSION reply and the database its marker
    names (None: no marker)."""
    return Signatures(
        engine=version.engine,
        database_version=version.database_version,
        database_date=version.database_date,
        database_id=database,
    )


class DegradedBecause(StrEnum):
    """Why the signatures make the portal report itself degraded."""

    test_signatures_only = "test_signatures_only"
    no_official_signatures = "no_official_signatures"
    signatures_stale = "signatures_stale"
    signatures_age_unknown = "signatures_age_unknown"


class SignatureState(BaseModel):
    """The signatures clamd has loaded, judged: their age and whether they are fit for
    real documents."""

    model_config = ConfigDict(frozen=True)

    signatures: Signatures
    age: timedelta | None
    max_age: timedelta
    degraded_because: DegradedBecause | None
    warning: str

    @property
    def degraded(self) -> bool:
        """True when files are scanned with signatures not fit for real documents."""
        return self.degraded_because is not None


INSTALL_HELP = "Install the official ClamAV signatures (infra/RUNBOOK.md, “Signatures”)."


def judge_signatures(signatures: Signatures, now: datetime, max_age: timedelta) -> SignatureState:
    """How old the signatures are at `now`, and why (if at all) they are not fit for real
    documents: the portal's test signatures only, local signatures only, no date, or a
    date more than `max_age` before `now`."""
    age = max(now - signatures.database_date, timedelta(0)) if signatures.database_date else None
    kind = signatures.kind
    because: DegradedBecause | None = None
    warning = ""
    if kind is SignatureKind.test:
        because = DegradedBecause.test_signatures_only
        warning = (
            "Only the portal's local test signatures are loaded. They find the EICAR test "
            "file and nothing else: a real virus would not be found. " + INSTALL_HELP
        )
    elif kind is SignatureKind.local:
        because = DegradedBecause.no_official_signatures
        warning = (
            "No official ClamAV signature database is loaded, only local signature files: "
            "a virus they do not name would not be found. " + INSTALL_HELP
        )
    elif age is None:
        because = DegradedBecause.signatures_age_unknown
        warning = "clamd does not say when its signatures were published."
    elif age > max_age:
        because = DegradedBecause.signatures_stale
        warning = (
            f"The signatures are {age_words(age)} old, older than the {age_words(max_age)} "
            "allowed: their updates have stopped. Files are still scanned, with these "
            "signatures."
        )
    return SignatureState(
        signatures=signatures, age=age, max_age=max_age, degraded_because=because, warning=warning
    )


def age_words(age: timedelta) -> str:
    """An age in days and hours: `3 days 4 hours`, `1 day`, `5 hours`, `less than an hour`."""
    hours = int(age.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((days, "day"), (hours, "hour"))]
    words = " ".join(p for p, n in zip(parts, (days, hours), strict=True) if n)
    return words or "less than an hour"
