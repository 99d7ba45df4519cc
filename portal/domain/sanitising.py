"""What sanitising a PDF found and removed, and what that means for the document.

A Sanitiser adapter writes a safe copy and returns a SanitiseReport; `decide_sanitise`
turns the report into a verdict. Removing content is not a rejection: the document
goes on, and the uploader is told what was taken out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from portal.domain.documents import Verdict
from portal.domain.reasons import ReasonCode, WarningCode


class Removed(StrEnum):
    """The names a sanitiser uses for what it removed; the audit trail stores them as text."""

    javascript = "javascript"
    """JavaScript actions, /JS entries and the document-level JavaScript name tree."""
    open_action = "open_action"
    """The catalog's /OpenAction, run when the document is opened."""
    additional_actions = "additional_actions"
    """/AA dictionaries on the catalog, pages, annotations and form fields."""
    launch_action = "launch_action"
    """/Launch actions, which start programs or open files."""
    unsafe_actions = "unsafe_actions"
    """Other actions that reach outside the document or run media: /SubmitForm, /ImportData,
    /GoToE, /GoToR, /Rendition, /RichMediaExecute, /Movie, /Sound."""
    xfa = "xfa"
    """The AcroForm's XFA form (scriptable XML forms)."""
    multimedia_annotations = "multimedia_annotations"
    """RichMedia, Screen, Movie, Sound and 3D annotations."""
    embedded_files = "embedded_files"
    """The /EmbeddedFiles name tree, associated files (/AF) and embedded file streams."""
    file_attachment_annotations = "file_attachment_annotations"
    """FileAttachment annotations, which carry a file on a page."""


ACTIVE_CONTENT: frozenset[Removed] = frozenset(
    {
        Removed.javascript,
        Removed.open_action,
        Removed.additional_actions,
        Removed.launch_action,
        Removed.unsafe_actions,
        Removed.xfa,
        Removed.multimedia_annotations,
    }
)
EMBEDDED_FILES: frozenset[Removed] = frozenset(
    {Removed.embedded_files, Removed.file_attachment_annotations}
)


class SanitiseReport(BaseModel):
    """What the sanitiser found: a problem that stops the document, or what it removed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    problem: Literal["encrypted", "corrupt", "scan_limits"] | None = None
    problem_detail: str = ""
    """Why, when the PDF could not be processed at all (time or memory limit, a crash), or
    its embedded files were too many or too large to be scanned (scan_limits)."""
    removed: tuple[str, ...] = ()
    """Names from `Removed`, each once, in sorted order."""
    metadata_stripped: bool = False
    """The document information dictionary or XMP metadata held something and was removed."""
    embedded_files: int = 0
    """How many embedded files were written out, decoded, for the caller to scan."""
    decrypted: bool = False
    """The PDF opened without a password but had an owner password; the copy is decrypted."""

    @field_validator("removed")
    @classmethod
    def _known_names(cls, removed: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(removed) - set(Removed))
        if unknown:
            raise ValueError(f"unknown removed content {unknown}; use the names in Removed")
        return tuple(sorted(set(removed)))


def decide_sanitise(report: SanitiseReport) -> Verdict:
    """Turn a sanitise report into a verdict.

    A PDF that needs a password to open is rejected as encrypted and an unparseable or
    damaged one as corrupt (so is one whose sanitising passed its time or memory limit or
    crashed, or one with an embedded file that cannot be decoded; the report's
    problem_detail then says which); one whose embedded files are too many or too large to
    scan as scan_limits_exceeded. Otherwise the document proceeds, warned
    active_content_removed if any script or action was removed, embedded_files_removed if
    attached files were, metadata_stripped if metadata was, and edit_restrictions_removed
    if it was decrypted (it had only an owner password); the detail lists what was
    removed. Whether the embedded files are clean is for the caller to scan.
    """
    if report.problem == "encrypted":
        return Verdict.reject(ReasonCode.encrypted, detail="the PDF needs a password to open")
    if report.problem == "scan_limits":
        return Verdict.reject(
            ReasonCode.scan_limits_exceeded,
            detail=report.problem_detail or "too many embedded files to scan",
        )
    if report.problem == "corrupt":
        return Verdict.reject(
            ReasonCode.corrupt, detail=report.problem_detail or "the PDF is damaged or incomplete"
        )
    removed = {Removed(name) for name in report.removed}
    warnings: list[WarningCode] = []
    if removed & ACTIVE_CONTENT:
        warnings.append(WarningCode.active_content_removed)
    if removed & EMBEDDED_FILES:
        warnings.append(WarningCode.embedded_files_removed)
    if report.metadata_stripped:
        warnings.append(WarningCode.metadata_stripped)
    if report.decrypted:
        warnings.append(WarningCode.edit_restrictions_removed)
    detail = f"removed: {', '.join(report.removed)}" if report.removed else ""
    return Verdict.proceed(*warnings, detail=detail)
