"""Zip-based uploads (DOCX, XLSX, ODT, ODS, or a plain zip): the rules their shape must keep.

An adapter (portal/adapters/zip_containers.py) reads a zip's central directory and local
headers and inflates its members; every rule it applies is a pure function here, so the
same entries and limits always give the same finding. The limits are deployment data
(`container_limits` in policies/file_types.yaml).

A finding is one problem, named by a `ContainerProblem`; `reason_for` turns it into the
reason code the uploader sees. Details name the problem and, at most, a member's name made
printable (`printable`); never the upload's own filename.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.domain.reasons import ReasonCode

_MIB = 1024 * 1024


class ContainerLimits(BaseModel):
    """How much a zip-based upload may hold before it is refused unopened.

    The defaults are what policies/file_types.yaml ships; they leave room for any real
    document (the upload limit is 300 MB, and images, the bulk of a big document, barely
    compress) while refusing zip bombs long before a parser or clamd spends real work.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_entries: int = Field(default=5000, ge=1)
    """Members in the container, embedded packages' members included."""
    max_total_uncompressed_bytes: int = Field(default=512 * _MIB, ge=1)
    """What all members together inflate to."""
    max_entry_uncompressed_bytes: int = Field(default=256 * _MIB, ge=1)
    """What any one member inflates to."""
    max_compression_ratio: float = Field(default=100.0, ge=1.0)
    """Inflated size over stored size, for one member and for the whole container."""
    ratio_grace_bytes: int = Field(default=1 * _MIB, ge=0)
    """A member (or container) that inflates to no more than this is not ratio-checked:
    small XML parts of repetitive markup legitimately compress a few hundred times."""
    embedded_package_folders: tuple[str, ...] = (
        "word/embeddings/",
        "xl/embeddings/",
        "ppt/embeddings/",
    )
    """Folders where Office keeps embedded workbooks and documents (a chart's data is an
    .xlsx inside the .docx). A zip there is looked inside, one level deep, under the same
    limits; a zip anywhere else, or deeper, is a nested archive."""
    max_embedded_package_bytes: int = Field(default=64 * _MIB, ge=0)
    """An embedded package larger than this (inflated) is refused as a nested archive."""

    @model_validator(mode="after")
    def _consistent(self) -> ContainerLimits:
        if self.max_entry_uncompressed_bytes > self.max_total_uncompressed_bytes:
            raise ValueError(
                "max_entry_uncompressed_bytes cannot be above max_total_uncompressed_bytes"
            )
        bad = [f for f in self.embedded_package_folders if not f.endswith("/") or f.startswith("/")]
        if bad:
            raise ValueError(f"embedded_package_folders must be relative and end in '/': {bad}")
        return self


class ContainerProblem(StrEnum):
    """What can be wrong with a zip-based upload, before any parser opens it."""

    unreadable = "unreadable"
    """No end-of-central-directory record, or a central directory that cannot be parsed."""
    inconsistent_directory = "inconsistent_directory"
    """The central directory disagrees with the local headers (name, sizes, offsets,
    method), entries overlap or leave gaps, or bytes sit before or after the archive."""
    unsafe_name = "unsafe_name"
    """A member name that is absolute, climbs out with '..', or holds control characters."""
    duplicate_name = "duplicate_name"
    """Two members with the same name (ignoring case, as Office part names do)."""
    unsupported_compression = "unsupported_compression"
    """A compression method other than stored or deflate (Office and OpenDocument use only
    those two)."""
    damaged_data = "damaged_data"
    """A member does not inflate to its declared size and checksum."""
    xml_entities = "xml_entities"
    """An XML part with a DTD internal subset (entity declarations: a billion-laughs bomb)
    or a DTD fetched from a URL (external entities)."""
    encrypted_entry = "encrypted_entry"
    """A member encrypted with a zip password."""
    too_many_entries = "too_many_entries"
    too_large_unpacked = "too_large_unpacked"
    compression_ratio = "compression_ratio"
    """A member, or the whole container, inflates far more than any real document does."""
    nested_archive = "nested_archive"
    """A zip, 7z, rar, gzip, ... inside, other than an embedded Office package."""
    polyglot = "polyglot"
    """The zip's first bytes also start a PDF: one file that is two types."""


_REASONS: dict[ContainerProblem, ReasonCode] = {
    ContainerProblem.unreadable: ReasonCode.corrupt,
    ContainerProblem.inconsistent_directory: ReasonCode.corrupt,
    ContainerProblem.unsafe_name: ReasonCode.corrupt,
    ContainerProblem.duplicate_name: ReasonCode.corrupt,
    ContainerProblem.unsupported_compression: ReasonCode.corrupt,
    ContainerProblem.damaged_data: ReasonCode.corrupt,
    ContainerProblem.xml_entities: ReasonCode.corrupt,
    ContainerProblem.encrypted_entry: ReasonCode.encrypted,
    ContainerProblem.too_many_entries: ReasonCode.container_limits_exceeded,
    ContainerProblem.too_large_unpacked: ReasonCode.container_limits_exceeded,
    ContainerProblem.compression_ratio: ReasonCode.container_limits_exceeded,
    ContainerProblem.nested_archive: ReasonCode.embedded_archive_not_allowed,
    ContainerProblem.polyglot: ReasonCode.type_mismatch,
}


def reason_for(problem: ContainerProblem) -> ReasonCode:
    """The reason code an uploader is given for a container problem (every problem has one)."""
    return _REASONS[problem]


class ContainerFinding(BaseModel):
    """One problem found in a container, with a detail for support staff."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    problem: ContainerProblem
    detail: str

    @property
    def damaged(self) -> bool:
        """True when the container is damaged or malformed (reason corrupt)."""
        return reason_for(self.problem) is ReasonCode.corrupt


class ContainerEntry(BaseModel):
    """One member as the central directory declares it (sizes verified when inflated)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    compressed_size: int = Field(ge=0)
    uncompressed_size: int = Field(ge=0)


class ContainerInspection(BaseModel):
    """What an inspector found: the members (embedded packages' under '<package>/'), and
    the first problem, if any. With a problem, `entries` may be incomplete."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: tuple[ContainerEntry, ...] = ()
    finding: ContainerFinding | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The member names, in central-directory order."""
        return tuple(entry.name for entry in self.entries)


def finding(problem: ContainerProblem, detail: str) -> ContainerFinding:
    """A finding of `problem` with `detail` cut to 300 characters."""
    return ContainerFinding(problem=problem, detail=detail[:300])


def printable(name: str, limit: int = 80) -> str:
    """A member name safe to show: control and format characters escaped, at most `limit`."""
    out = "".join(
        ch if unicodedata.category(ch)[0] not in "CZ" or ch == " " else f"\\u{ord(ch):04x}"
        for ch in name
    )
    return out if len(out) <= limit else out[: limit - 1] + "…"


# --- names ---------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def check_names(names: Iterable[str]) -> ContainerFinding | None:
    """The first unsafe or duplicated member name, or None.

    Unsafe: empty; absolute ('/x', '\\x', 'C:x'); a '..' segment (split on '/' and '\\');
    any control, format (bidi overrides, zero-width) or unassigned character. Duplicates
    are compared ignoring case (Office part names are case-insensitive, ISO/IEC 29500-2),
    so 'Word/Document.xml' and 'word/document.xml' clash.
    """
    seen: set[str] = set()
    for name in names:
        problem = _unsafe(name)
        if problem:
            return finding(
                ContainerProblem.unsafe_name, f"member name {printable(name)!r} {problem}"
            )
        key = unicodedata.normalize("NFC", name).casefold()
        if key in seen:
            return finding(
                ContainerProblem.duplicate_name, f"member {printable(name)!r} appears twice"
            )
        seen.add(key)
    return None


def _unsafe(name: str) -> str:
    if not name:
        return "is empty"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "is absolute"
    if ".." in re.split(r"[\\/]", name):
        return "climbs out of the archive with '..'"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        return "holds control or invisible characters"
    return ""


# --- sizes ---------------------------------------------------------------------------------


def check_limits(
    entries: Iterable[ContainerEntry], limits: ContainerLimits
) -> ContainerFinding | None:
    """The first limit the declared entries pass, or None.

    In order: the number of entries; any one entry's inflated size; the total inflated
    size; any entry's compression ratio (only entries inflating beyond ratio_grace_bytes);
    the whole container's ratio (only when it inflates beyond ratio_grace_bytes).
    """
    listed = list(entries)
    if len(listed) > limits.max_entries:
        return finding(
            ContainerProblem.too_many_entries,
            f"{len(listed)} members; at most {limits.max_entries} are accepted",
        )
    for entry in listed:
        if entry.uncompressed_size > limits.max_entry_uncompressed_bytes:
            return finding(
                ContainerProblem.too_large_unpacked,
                f"member {printable(entry.name)!r} inflates to {entry.uncompressed_size} bytes; "
                f"at most {limits.max_entry_uncompressed_bytes} are accepted",
            )
    total = sum(entry.uncompressed_size for entry in listed)
    if total > limits.max_total_uncompressed_bytes:
        return finding(
            ContainerProblem.too_large_unpacked,
            f"the members inflate to {total} bytes; "
            f"at most {limits.max_total_uncompressed_bytes} are accepted",
        )
    for entry in listed:
        if entry.uncompressed_size > limits.ratio_grace_bytes:
            ratio = entry.uncompressed_size / max(entry.compressed_size, 1)
            if ratio > limits.max_compression_ratio:
                return finding(
                    ContainerProblem.compression_ratio,
                    f"member {printable(entry.name)!r} inflates {ratio:.0f} times; "
                    f"at most {limits.max_compression_ratio:g} is accepted",
                )
    if total > limits.ratio_grace_bytes:
        ratio = total / max(sum(entry.compressed_size for entry in listed), 1)
        if ratio > limits.max_compression_ratio:
            return finding(
                ContainerProblem.compression_ratio,
                f"the members inflate {ratio:.0f} times; "
                f"at most {limits.max_compression_ratio:g} is accepted",
            )
    return None


# --- what members are ----------------------------------------------------------------------

_PACKAGE_DECLARATIONS = ("[content_types].xml", "mimetype", "meta-inf/manifest.xml")


def is_document_package(names: Iterable[str]) -> bool:
    """True if the members declare an Office Open XML or OpenDocument package.

    ([Content_Types].xml, or `mimetype` or META-INF/manifest.xml at the top level.)
    """
    return any(name.casefold() in _PACKAGE_DECLARATIONS for name in names)


def in_embedding_folder(name: str, limits: ContainerLimits) -> bool:
    """True if `name` sits directly in one of the limits' embedded package folders."""
    lowered = name.casefold()
    for folder in limits.embedded_package_folders:
        prefix = folder.casefold()
        if lowered.startswith(prefix) and "/" not in lowered[len(prefix) :]:
            return True
    return False


_ARCHIVE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x5d\x00\x00", "lzma"),
    (b"MSCF", "cab"),
    (b"\x60\xea", "arj"),
    (b"!<arch>\n", "ar"),
    (b"\xed\xab\xee\xdb", "rpm"),
    (b"xar!", "xar"),
    (b"LZIP", "lzip"),
    (b"\x04\x22\x4d\x18", "lz4"),
)
ARCHIVE_SNIFF_BYTES = 512
"""How many leading bytes of a member `archive_kind` needs (tar's magic is at 257)."""


def archive_kind(head: bytes) -> str | None:
    """The kind of archive a member's first bytes start, or None if they start none."""
    for signature, kind in _ARCHIVE_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[257:262] == b"ustar":
        return "tar"
    return None


XML_SNIFF_BYTES = 64 * 1024
"""How many leading bytes of an XML part `xml_declares_entities` looks at."""
_DOCTYPE = re.compile(rb"<!DOCTYPE\b([^>]*)(>|$)", re.IGNORECASE)


def is_xml_part(name: str) -> bool:
    """True for the package's own XML parts (.xml, .rels), which Office parses."""
    return name.casefold().endswith((".xml", ".rels"))


def xml_declares_entities(head: bytes) -> bool:
    """True if the first bytes of an XML part open a DTD a parser could expand or fetch.

    That is a DOCTYPE with an internal subset ('[': where entities are declared), one whose
    identifiers name a URL ('://' or 'file:'), one not closed within `head`, or an
    <!ENTITY anywhere. A plain DOCTYPE naming a local DTD (OpenOffice 1.x wrote one in its
    manifest) is allowed. NUL bytes are dropped first, so UTF-16 and UTF-32 text is read
    as its ASCII letters.
    """
    text = head.replace(b"\x00", b"")
    if b"<!ENTITY" in text.upper():
        return True
    for match in _DOCTYPE.finditer(text):
        declaration, closed = match.group(1), match.group(2)
        if not closed or b"[" in declaration:
            return True
        lowered = declaration.lower()
        if b"://" in lowered or b"file:" in lowered:
            return True
    return False
