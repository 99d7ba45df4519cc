"""The Sanitiser port over pikepdf (qpdf): a copy of a PDF without scripts, attachments or metadata.

Every object in the file is visited, not only the places a viewer usually looks, so an
action hidden in an unusual slot is found too. What is removed:

- JavaScript (actions, /JS entries, the /Names /JavaScript tree), /OpenAction actions,
  /AA additional actions everywhere, /Launch actions and other actions that reach outside
  the document (/SubmitForm, /ImportData, /GoToE, /GoToR, /Rendition, /RichMediaExecute,
  /Movie, /Sound): an action dictionary of those kinds is emptied in place, so whatever
  pointed to it now points to an action that does nothing;
- /XFA forms, multimedia annotations (RichMedia, Screen, Movie, Sound, 3D);
- embedded files: /Names /EmbeddedFiles, associated files (/AF), /EF in file
  specifications, embedded file streams, FileAttachment annotations;
- the /Info dictionary and every XMP /Metadata stream (they carry people's names).

An /OpenAction that is a plain destination (open at page 1) is kept: it runs nothing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from portal.domain.sanitising import Removed, SanitiseReport

# Acrobat looks for %%EOF within the last 1024 bytes (PDF 32000-1 implementation note);
# an upload cut short has none there, while qpdf would quietly rebuild what survived.
_EOF_WINDOW = 1024

_ACTION_CATEGORY: dict[str, Removed] = {
    "/JavaScript": Removed.javascript,
    "/Launch": Removed.launch_action,
    "/SubmitForm": Removed.unsafe_actions,
    "/ImportData": Removed.unsafe_actions,
    "/GoToE": Removed.unsafe_actions,
    "/GoToR": Removed.unsafe_actions,
    "/Rendition": Removed.unsafe_actions,
    "/RichMediaExecute": Removed.unsafe_actions,
    "/Movie": Removed.unsafe_actions,
    "/Sound": Removed.unsafe_actions,
}
_MULTIMEDIA_ANNOTATIONS = frozenset({"/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"})
_KEYS_TO_DROP: tuple[tuple[Name, Removed], ...] = (
    (Name.AA, Removed.additional_actions),
    (Name.JS, Removed.javascript),
    (Name.JavaScript, Removed.javascript),  # the /Names tree of document-level scripts
    (Name.XFA, Removed.xfa),
    (Name.EmbeddedFiles, Removed.embedded_files),
    (Name.AF, Removed.embedded_files),  # associated files (PDF 2.0, PDF/A-3)
    (Name.EF, Removed.embedded_files),  # the embedded stream of a file specification
    (Name.RF, Removed.embedded_files),  # related files of a file specification
)


class PikepdfSanitiser:
    """Writes sanitised copies of PDFs with pikepdf."""

    def sanitise_pdf(self, source: Path, target: Path) -> SanitiseReport:
        """Write a copy of `source` without active content, attachments or metadata to `target`.

        Returns what was removed. A PDF that is encrypted in any way, or that qpdf could
        only open by repairing it (truncated, damaged cross-reference table, missing
        %%EOF at the end), is reported as a problem and `target` is not written. `target`
        appears only once it is complete: the copy is written beside it and renamed.
        """
        if not _ends_with_eof_marker(source):
            return SanitiseReport(problem="corrupt")
        partial = target.with_name(f".{target.name}.partial")
        try:
            report = self._sanitise(source, partial)
        except pikepdf.PasswordError:
            return SanitiseReport(problem="encrypted")
        except pikepdf.PdfError as error:
            # qpdf opens only the standard password handler; a certificate-encrypted PDF
            # (/Adobe.PubSec) fails on its encryption dictionary and is encrypted, not damaged.
            encrypted = "encryption" in str(error).removeprefix(str(source))
            report = SanitiseReport(problem="encrypted" if encrypted else "corrupt")
        if report.problem is not None:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            return report
        os.replace(partial, target)
        return report

    def _sanitise(self, source: Path, partial: Path) -> SanitiseReport:
        # attempt_recovery=False: qpdf must not rebuild a damaged file into something the
        # agency never sent; a damaged cross-reference table raises PdfError instead.
        with pikepdf.open(source, attempt_recovery=False, conversion_mode="explicit") as pdf:
            # Owner-password-only PDFs (they open with an empty user password) count as
            # encrypted too. Saving would silently drop the restrictions the agency chose,
            # and an /Encrypt dictionary is the clearest rule to explain; the agency is
            # asked to save the file without protection.
            if pdf.is_encrypted:
                return SanitiseReport(problem="encrypted")
            if pdf.get_warnings():
                return SanitiseReport(problem="corrupt")
            removed, metadata_stripped = _strip(pdf)
            pdf.save(
                partial,
                fix_metadata_version=False,
                deterministic_id=True,  # the same upload always gives the same bytes
            )
            # qpdf warns, rather than fails, when it meets a damaged object while writing.
            if pdf.get_warnings():
                return SanitiseReport(problem="corrupt")
        return SanitiseReport(removed=tuple(removed), metadata_stripped=metadata_stripped)


def _ends_with_eof_marker(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - _EOF_WINDOW))
        return b"%%EOF" in handle.read()


def _strip(pdf: pikepdf.Pdf) -> tuple[set[Removed], bool]:
    """Remove active content, attachments and metadata from `pdf` in place."""
    removed: set[Removed] = set()
    metadata_stripped = False
    info = pdf.trailer.get(Name.Info)
    if info is not None:
        metadata_stripped = isinstance(info, Dictionary) and len(info.keys()) > 0
        del pdf.trailer[Name.Info]
    for obj in pdf.objects:
        # Direct objects nested inside this one are walked here; indirect ones come up
        # in pdf.objects themselves.
        stack = [obj]
        while stack:
            node = stack.pop()
            if isinstance(node, (Dictionary, Stream)):
                metadata_stripped |= _clean_dictionary(node, removed)
                children = [value for _, value in node.items()]
            elif isinstance(node, Array):
                children = list(node)
            else:
                continue
            stack.extend(
                c for c in children if isinstance(c, (Dictionary, Array)) and not c.is_indirect
            )
    return removed, metadata_stripped


def _clean_dictionary(node: pikepdf.Object, removed: set[Removed]) -> bool:
    """Clean one dictionary or stream dictionary; True if it held metadata that was removed."""
    category = _action_category(node)
    if category is not None:
        for name in list(node.keys()):
            if name != "/Length":
                del node[name]
        if isinstance(node, Stream):
            node.write(b"")
        removed.add(category)
        return False
    _unhook_actions(node, removed)
    open_action = node.get(Name.OpenAction)
    if open_action is not None and not isinstance(open_action, Array):
        del node[Name.OpenAction]
        removed.add(Removed.open_action)
    for key, what in _KEYS_TO_DROP:
        if key in node:
            del node[key]
            removed.add(what)
    if Name.NeedsRendering in node:
        del node[Name.NeedsRendering]  # it only means "render the XFA", which is gone
    if isinstance(node, Stream) and node.get(Name.Type) == Name.EmbeddedFile:
        node.write(b"")
        removed.add(Removed.embedded_files)
    annots = node.get(Name.Annots)
    if isinstance(annots, Array):
        _drop_annotations(annots, removed)
    return _drop_metadata(node)


def _unhook_actions(node: pikepdf.Object, removed: set[Removed]) -> None:
    """Delete /A and /Next entries that hold an action that is (or will be) emptied.

    So no link or bookmark is left holding an action with nothing in it. Actions that
    other slots point to are emptied in place when pdf.objects reaches them.
    """
    for slot in (Name.A, Name.Next):
        action = node.get(slot)
        if isinstance(action, Dictionary):
            category = _action_category(action)
            if category is not None or len(action.keys()) == 0:
                del node[slot]
                if category is not None:
                    removed.add(category)


def _drop_metadata(node: pikepdf.Object) -> bool:
    metadata = node.get(Name.Metadata)
    if metadata is None:
        return False
    del node[Name.Metadata]
    return not isinstance(metadata, Stream) or len(metadata.read_raw_bytes()) > 0


def _action_category(node: pikepdf.Object) -> Removed | None:
    subtype = node.get(Name.S)
    if not isinstance(subtype, Name) or str(subtype) not in _ACTION_CATEGORY:
        return None
    kind = node.get(Name.Type)
    # Structure elements and other dictionaries also use /S; an action has no other /Type.
    if kind is not None and kind != Name.Action:
        return None
    return _ACTION_CATEGORY[str(subtype)]


def _drop_annotations(annots: pikepdf.Object, removed: set[Removed]) -> None:
    keep = []
    for annot in annots:
        subtype = annot.get(Name.Subtype) if isinstance(annot, Dictionary) else None
        if subtype == Name.FileAttachment:
            removed.add(Removed.file_attachment_annotations)
        elif isinstance(subtype, Name) and str(subtype) in _MULTIMEDIA_ANNOTATIONS:
            removed.add(Removed.multimedia_annotations)
        else:
            keep.append(annot)
    if len(keep) != len(annots):
        for index in reversed(range(len(annots))):
            del annots[index]
        annots.extend(keep)
