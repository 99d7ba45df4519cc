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

Isolation: qpdf is C++ parsing hostile bytes, so a PDF could make it run for ever, take all
memory or crash the process. Each PDF is therefore sanitised in a worker process (started
from a forkserver that has already imported pikepdf, so a fresh worker costs a few ms), its
address space capped with RLIMIT_AS and its wall-clock time with a timeout. A worker that
times out is killed; one that runs out of memory or dies is replaced; either way the PDF
is reported corrupt and the caller carries on with the next one. Workers are reused for
`tasks_per_worker` PDFs, then replaced, so nothing a PDF left behind lasts.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

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


log = logging.getLogger(__name__)

Work = Callable[[Path, Path], SanitiseReport]
"""What a worker runs: write a sanitised copy of the first path to the second, report."""


def sanitise_in_this_process(source: Path, partial: Path) -> SanitiseReport:
    """Sanitise `source` into `partial` in the calling process, with no time or memory limit.

    What a worker runs (and what a benchmark compares against). An encrypted PDF, or one
    qpdf could only open by repairing it, is reported, not raised; `partial` may then be
    left half-written for the caller to remove.
    """
    try:
        return _sanitise(source, partial)
    except pikepdf.PasswordError:
        return SanitiseReport(problem="encrypted")
    except pikepdf.PdfError as error:
        # qpdf opens only the standard password handler; a certificate-encrypted PDF
        # (/Adobe.PubSec) fails on its encryption dictionary and is encrypted, not damaged.
        encrypted = "encryption" in str(error).removeprefix(str(source))
        return SanitiseReport(problem="encrypted" if encrypted else "corrupt")


class PikepdfSanitiser:
    """Writes sanitised copies of PDFs with pikepdf, each in an isolated worker process.

    Safe to share between threads: at most `workers` PDFs are sanitised at once, and a
    caller waits for a free worker. `timeout_seconds` bounds the wall-clock time of one
    PDF, `memory_limit_bytes` the address space of a worker. `work` is what a worker runs
    (tests pass a slow or greedy function; it must be importable by name).
    """

    def __init__(
        self,
        *,
        timeout_seconds: float = 120.0,
        memory_limit_bytes: int = 2 * 1024 * 1024 * 1024,
        workers: int = 2,
        tasks_per_worker: int = 200,
        work: Work = sanitise_in_this_process,
    ) -> None:
        if timeout_seconds <= 0 or memory_limit_bytes <= 0 or workers < 1 or tasks_per_worker < 1:
            raise ValueError("timeout, memory limit, workers and tasks per worker must be > 0")
        self._timeout = timeout_seconds
        self._work = work
        self._workers = _Workers(workers, tasks_per_worker, memory_limit_bytes)

    def sanitise_pdf(self, source: Path, target: Path) -> SanitiseReport:
        """Write a copy of `source` without active content, attachments or metadata to `target`.

        Returns what was removed. A PDF that is encrypted in any way, or that qpdf could
        only open by repairing it (truncated, damaged cross-reference table, missing
        %%EOF at the end), is reported as a problem and `target` is not written; so is a
        PDF whose worker passes the time or memory limit or dies (corrupt, with a detail).
        Never raises for what the PDF holds, never waits longer than the timeout for a
        worker's answer. `target` appears only once it is complete: the copy is written
        beside it and renamed.
        """
        if not _ends_with_eof_marker(source):
            return SanitiseReport(problem="corrupt")
        partial = target.with_name(f".{target.name}.partial")
        report = self._workers.run(self._work, source, partial, self._timeout)
        if report.problem is not None:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            return report
        os.replace(partial, target)
        return report

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when their PDF is done)."""
        self._workers.close()


# --- worker processes -----------------------------------------------------------------------

_PRELOAD = ["portal.adapters.pdf_sanitiser"]


def _context() -> BaseContext:
    """forkserver where the platform has it (Linux), else spawn; never plain fork, which
    would copy the caller's threads' locks into the worker."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - platforms without forkserver
        return multiprocessing.get_context("spawn")
    # Only takes effect if the forkserver has not started yet; harmless otherwise.
    context.set_forkserver_preload(_PRELOAD)
    return context


def _serve(connection: Connection, memory_limit: int) -> None:
    """A worker's loop: cap the address space, then run requests until told to stop."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        work, source, partial = request
        reply: tuple[str, Any]
        try:
            reply = ("report", work(source, partial))
        except MemoryError:
            reply = ("failed", "ran out of memory")
        except Exception as error:  # noqa: BLE001
            # Hostile bytes can make pikepdf raise anything (RuntimeError, ValueError from
            # a broken object...); the parent rejects the PDF as corrupt and logs this.
            reply = ("failed", f"{type(error).__name__}: {error}"[:500])
        connection.send(reply)


class _Worker:
    def __init__(self, context: BaseContext, memory_limit: int) -> None:
        ours, theirs = context.Pipe()
        self.process = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(theirs, memory_limit), name="jtai-pdf-sanitiser", daemon=True
        )
        self.process.start()
        theirs.close()
        self.connection: Connection = ours
        self.tasks = 0

    def stop(self, *, kill: bool) -> None:
        if not kill:
            with contextlib.suppress(OSError):
                self.connection.send(None)
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


class _Workers:
    """`size` reusable worker slots; a worker is started on first use of its slot."""

    def __init__(self, size: int, tasks_per_worker: int, memory_limit: int) -> None:
        self._tasks_per_worker = tasks_per_worker
        self._memory_limit = memory_limit
        self._context: BaseContext | None = None
        self._slots: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self._slots.put(None)

    def run(self, work: Work, source: Path, partial: Path, timeout: float) -> SanitiseReport:
        worker = self._slots.get()
        try:
            worker = self._ready(worker)
            try:
                worker.connection.send((work, source, partial))
            except OSError:
                # The idle worker had died (killed from outside); that is not this PDF's doing.
                worker.stop(kill=True)
                worker = self._ready(None)
                worker.connection.send((work, source, partial))
            worker.tasks += 1
            if not worker.connection.poll(timeout):
                worker.stop(kill=True)
                worker = None
                return _failed(source, f"took longer than {timeout:g} s")
            try:
                kind, value = worker.connection.recv()
            except (EOFError, OSError):
                code = worker.process.exitcode
                worker.stop(kill=True)
                worker = None
                return _failed(source, f"the worker died (exit code {code})")
            if kind != "report":
                worker.stop(kill=True)  # whatever failed may have left it unusable
                worker = None
                return _failed(source, str(value))
            report: SanitiseReport = value
            return report
        finally:
            self._slots.put(worker)

    def _ready(self, worker: _Worker | None) -> _Worker:
        if worker is not None and (
            worker.tasks >= self._tasks_per_worker or not worker.process.is_alive()
        ):
            worker.stop(kill=False)
            worker = None
        if worker is None:
            if self._context is None:
                self._context = _context()
            worker = _Worker(self._context, self._memory_limit)
        return worker

    def close(self) -> None:
        stopped: list[None] = []
        while True:
            try:
                worker = self._slots.get_nowait()
            except queue.Empty:
                break
            if worker is not None:
                worker.stop(kill=False)
            stopped.append(None)
        for _ in stopped:
            self._slots.put(None)


def _failed(source: Path, why: str) -> SanitiseReport:
    log.warning("PDF %s rejected as corrupt: its sanitiser %s", source.name, why)
    return SanitiseReport(problem="corrupt", problem_detail=f"the PDF could not be processed: {why}")


def _sanitise(source: Path, partial: Path) -> SanitiseReport:
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
