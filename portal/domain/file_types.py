"""What an uploaded file is, and whether the portal accepts that kind of file.

The facts come from the file's bytes (a Classifier adapter runs libmagic and lists the
members of zip-based containers); the filename only supplies the extension that the
contents must agree with. `decide_file_type` is pure: the same facts and policy always
give the same verdict.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.domain.containers import (
    ContainerEntry,
    ContainerFinding,
    ContainerLimits,
    check_limits,
    is_document_package,
    reason_for,
)
from portal.domain.documents import Verdict
from portal.domain.reasons import ReasonCode

_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", re.IGNORECASE)


class FileFacts(BaseModel):
    """What a classifier found out about one file from its bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filename: str
    extension: str = Field(pattern=r"^[a-z0-9]*$")
    size_bytes: int = Field(ge=0)
    mime_type: str
    description: str
    container_members: tuple[str, ...] = ()
    encrypted_container: bool = False
    unreadable_container: bool = False
    """Zip-based by its signature, but its list of members could not be read."""
    container_entries: tuple[ContainerEntry, ...] = ()
    """A zip's members with their declared sizes (embedded packages' members included)."""
    container_finding: ContainerFinding | None = None
    """The first problem a zip inspection found before any parser opened the file."""
    also_zip: bool = False
    """Not zip-based by its signature, yet a zip reader opens it and finds members (a zip
    appended to, or embedded near the end of, e.g. a PDF: a polyglot)."""


class AllowedFileType(BaseModel):
    """One kind of file the portal accepts: a code, libmagic's MIME types for it, its extensions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    mime_types: tuple[str, ...] = Field(min_length=1)
    extensions: tuple[str, ...] = Field(min_length=1)
    is_pdf: bool = False

    @model_validator(mode="after")
    def _well_formed(self) -> AllowedFileType:
        bad_mimes = [m for m in self.mime_types if not _MIME.match(m) or m != m.lower()]
        if bad_mimes:
            raise ValueError(
                f"file type {self.code}: MIME types must be lowercase type/subtype: {bad_mimes}"
            )
        bad_extensions = [e for e in self.extensions if not re.fullmatch(r"[a-z0-9]+", e)]
        if bad_extensions:
            raise ValueError(
                f"file type {self.code}: extensions must be lowercase letters and digits, "
                f"no dot: {bad_extensions}"
            )
        return self


class FileTypePolicy(BaseModel):
    """Which kinds of file are accepted, and which known-dangerous kinds get their own reason.

    Anything not listed in `allowed` (executables, scripts, HTML, SVG, legacy Office ...)
    is simply not allowed; archives and macro-enabled documents are named separately so
    the uploader is told exactly what to do.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed: tuple[AllowedFileType, ...] = Field(min_length=1)
    archive_mime_types: tuple[str, ...]
    macro_mime_types: tuple[str, ...]
    macro_member_markers: tuple[str, ...]
    """Members of a zip-based document that mean macros: a name ("vbaProject.bin") matches
    a member of that name in any folder; a folder ("Basic/") matches every member under a
    top-level folder of that name. Case is ignored."""
    container_limits: ContainerLimits = ContainerLimits()
    """How much a zip-based file may hold (entries, inflated size, compression ratio)."""

    @model_validator(mode="after")
    def _consistent(self) -> FileTypePolicy:
        codes = [t.code for t in self.allowed]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"file type codes repeated: {repeated}")
        owners: dict[str, str] = {}
        for allowed in self.allowed:
            for extension in allowed.extensions:
                if extension in owners:
                    raise ValueError(
                        f"extension {extension!r} belongs to both "
                        f"{owners[extension]} and {allowed.code}"
                    )
                owners[extension] = allowed.code
        bad_mimes = [
            m
            for m in self.archive_mime_types + self.macro_mime_types
            if not _MIME.match(m) or m != m.lower()
        ]
        if bad_mimes:
            raise ValueError(f"MIME types must be lowercase type/subtype: {bad_mimes}")
        allowed_mimes = {m for t in self.allowed for m in t.mime_types}
        clash = sorted(allowed_mimes & (set(self.archive_mime_types) | set(self.macro_mime_types)))
        if clash:
            raise ValueError(f"MIME types both allowed and refused: {clash}")
        return self

    def types_for_mime(self, mime_type: str) -> tuple[AllowedFileType, ...]:
        """The allowed types a file of `mime_type` can be; several only for CSV and plain text."""
        wanted = mime_type.lower()
        return tuple(t for t in self.allowed if wanted in t.mime_types)

    def type_by_code(self, code: str) -> AllowedFileType | None:
        """The allowed type with this code, or None if the policy does not allow it."""
        return next((t for t in self.allowed if t.code == code), None)

    def has_macro_member(self, members: tuple[str, ...]) -> str | None:
        """The first container member that marks macros, or None if there is none."""
        for member in members:
            name = member.lower().lstrip("/")
            for marker in self.macro_member_markers:
                wanted = marker.lower()
                if wanted.endswith("/"):
                    if name.startswith(wanted):
                        return member
                elif name == wanted or name.endswith("/" + wanted):
                    return member
        return None


class FileTypeDecision(BaseModel):
    """The classify step's verdict, and the accepted type's code when it proceeds."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    file_type: str | None = None


def decide_file_type(facts: FileFacts, policy: FileTypePolicy) -> FileTypeDecision:
    """Decide whether a file of this kind may go on, and as which allowed type.

    Checked in this order, the first match rejecting: an empty file (empty_file); a
    problem in a zip's shape (see below); a password-protected container (encrypted); a
    zip whose member list cannot be read (corrupt); a macro-enabled MIME type
    (macros_not_allowed); an archive that is not an allowed document
    (archive_not_allowed); a member that marks macros (macros_not_allowed); a MIME type
    no allowed type has (file_type_not_allowed); an allowed type whose bytes are also a
    zip (type_mismatch: a polyglot is two files in one); an extension that is not one of
    that type's extensions (type_mismatch). Only a file passing all of them proceeds, with
    `file_type` set to the allowed type's code. The detail names what the contents are,
    never the filename.

    A zip's shape: the inspector's finding, or else the declared entries checked against
    the policy's container_limits. A damaged or malformed zip is corrupt whatever it
    claims to be. Any other problem in a zip that is neither a declared Office or
    OpenDocument package nor typed as an allowed kind of file is archive_not_allowed (it
    would be refused as an archive anyway, and that advice helps); in a document, the
    problem's own reason (container_limits_exceeded, embedded_archive_not_allowed,
    encrypted, type_mismatch for a PDF/zip polyglot).
    """
    mime_type = facts.mime_type.lower()  # MIME types are case-insensitive (RFC 2045)
    what = f"{facts.description} ({mime_type})"
    if facts.size_bytes == 0:
        return _reject(ReasonCode.empty_file, "the file has no bytes")
    found = facts.container_finding or check_limits(
        facts.container_entries, policy.container_limits
    )
    if found is not None:
        package = is_document_package(facts.container_members) or bool(
            policy.types_for_mime(mime_type)
        )
        if found.damaged or package:
            return _reject(reason_for(found.problem), f"{found.detail}: {what}")
        return _reject(ReasonCode.archive_not_allowed, f"archive ({found.detail}): {what}")
    if facts.encrypted_container:
        return _reject(ReasonCode.encrypted, f"password-protected: {what}")
    if facts.unreadable_container:
        return _reject(ReasonCode.corrupt, f"the list of files inside could not be read: {what}")
    if mime_type in policy.macro_mime_types:
        return _reject(ReasonCode.macros_not_allowed, f"macro-enabled document: {what}")
    candidates = policy.types_for_mime(mime_type)
    # A plain archive is refused as an archive even if some member looks like a macro:
    # "upload the files one by one" is the advice that helps.
    if not candidates and mime_type in policy.archive_mime_types:
        return _reject(ReasonCode.archive_not_allowed, f"archive: {what}")
    marker = policy.has_macro_member(facts.container_members)
    if marker is not None:
        return _reject(ReasonCode.macros_not_allowed, f"contains macros ({marker}): {what}")
    if not candidates:
        return _reject(ReasonCode.file_type_not_allowed, f"not an allowed kind of file: {what}")
    if facts.also_zip:
        return _reject(
            ReasonCode.type_mismatch,
            f"the file is {what} and also a zip archive (a zip is joined to it)",
        )
    chosen = next((t for t in candidates if facts.extension in t.extensions), None)
    if chosen is None:
        expected = sorted({f".{e}" for t in candidates for e in t.extensions})
        named = f"ends in .{facts.extension}" if facts.extension else "has no extension"
        return _reject(
            ReasonCode.type_mismatch,
            f"contents are {what}, which ends in {' or '.join(expected)}; the name {named}",
        )
    return FileTypeDecision(verdict=Verdict.proceed(), file_type=chosen.code)


def extension_of(filename: str) -> str:
    """The lowercase extension of `filename` without the dot, or "" if it has none.

    Only the last path segment counts, and a leading dot (".bashrc") is not an extension.
    """
    base = re.split(r"[\\/]", filename)[-1]
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]+", extension):
        return ""
    return extension.lower()


def _reject(reason: ReasonCode, detail: str) -> FileTypeDecision:
    return FileTypeDecision(verdict=Verdict.reject(reason, detail=detail))
