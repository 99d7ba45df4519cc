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

Before they are removed, embedded files (every /EmbeddedFile stream and every stream a
file specification's /EF or /RF points to; those of an embedded PDF too, a few levels
deep) are written out decoded, under numbered names, for the caller to scan: clamd does
not see every attachment inside a PDF itself.

A PDF that opens without a password but carries an owner password ("restrict editing")
is saved decrypted and reported `decrypted`; one that needs a password to open is
reported encrypted.

Isolation: qpdf is C++ parsing hostile bytes, so a PDF could make it run for ever, take all
memory or crash the process. Each PDF is therefore sanitised in a worker process (a fresh
interpreter, about 0.3 s to start, reused for many PDFs) whose address space is capped
with RLIMIT_AS, which gets none of the caller's environment (no credentials), and whose
answer must come within a wall-clock timeout. A worker that times out is killed; one that
runs out of memory or dies is replaced; either way the PDF is reported corrupt and the
caller carries on with the next one. Workers are replaced after `tasks_per_worker` PDFs,
so nothing a PDF left behind lasts. Measured: about 1 ms per PDF over sanitising in
process, plus a worker start every `tasks_per_worker` PDFs.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import queue
import resource
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, Protocol

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from portal.domain.errors import TransientError
from portal.domain.reasons import ReasonCode
from portal.domain.sanitising import Removed, SanitiseReport

MAX_EMBEDDED_FILES = 1000
"""More embedded files than this (counting nested PDFs') are not extracted: scan_limits."""
MAX_EMBEDDED_BYTES = 512 * 1024 * 1024
"""More decoded embedded bytes than this in one PDF are not extracted: scan_limits."""
_MAX_EMBEDDED_DEPTH = 3
"""PDFs attached to PDFs are opened for their own attachments this many levels deep."""
_PDF_HEADER_WINDOW = 1024

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

_KEYS_CLEANED: frozenset[str] = frozenset(
    {"/S", "/Type", "/A", "/Next", "/OpenAction", "/NeedsRendering", "/Annots", "/Metadata"}
    | {str(key) for key, _ in _KEYS_TO_DROP}
)
"""Every key `_clean_dictionary` reads: a dictionary holding none of them is left as it is.
Most hold none, and asking pikepdf for each key one by one was 20 of the 37 ms that
sanitising a 1 MB text PDF of ~540 objects took (measured in-process, 40 such PDFs)."""
_KEYS_EMBEDDING: frozenset[str] = frozenset({"/Type", "/EF", "/RF"})
"""Every key `_embedded_streams` reads (10 ms of those 37 when read one by one)."""

log = logging.getLogger(__name__)


class Work(Protocol):
    """What a worker runs: write a sanitised copy of `source` to `partial` and each embedded
    file, decoded, into the directory `embedded` (when given); report."""

    def __call__(
        self, source: Path, partial: Path, embedded: Path | None = None
    ) -> SanitiseReport: ...


def sanitise_in_this_process(
    source: Path, partial: Path, embedded: Path | None = None
) -> SanitiseReport:
    """Sanitise `source` into `partial` in the calling process, with no time or memory limit.

    What a worker runs (and what a benchmark compares against). With `embedded` (an
    existing directory) every embedded file is first written there, decoded. An
    encrypted PDF, or one qpdf could only open by repairing it, is reported, not raised;
    `partial` may then be left half-written for the caller to remove.
    """
    try:
        return _sanitise(source, partial, embedded)
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
        self._work = _reference(work)  # ValueError now, not on the first PDF
        self._workers = _Workers(workers, tasks_per_worker, memory_limit_bytes)
        # Idle workers stop when the sanitiser is dropped (each test builds its own).
        weakref.finalize(self, self._workers.close)

    def sanitise_pdf(
        self, source: Path, target: Path, embedded: Path | None = None
    ) -> SanitiseReport:
        """Write a copy of `source` without active content, attachments or metadata to `target`.

        Returns what was removed. With `embedded` (an empty directory), every embedded
        file the PDF carries is written there first, decoded, for the caller to scan
        (report.embedded_files counts them; more than MAX_EMBEDDED_FILES files or
        MAX_EMBEDDED_BYTES bytes is the problem scan_limits). A PDF that opens without a
        password but has an owner password is saved decrypted (report.decrypted). A PDF
        that needs a password to open, or that qpdf could only open by repairing it
        (truncated, damaged cross-reference table, missing %%EOF at the end), is reported
        as a problem and `target` is not written; so is a PDF whose worker passes the time
        or memory limit or dies (corrupt, with a detail).
        Never raises for what the PDF holds, never waits longer than the timeout for a
        worker's answer; raises TransientError (processing_error) only if no worker
        process can be started at all. `target` appears only once it is complete: the copy
        is written beside it and renamed.
        """
        if not _ends_with_eof_marker(source):
            return SanitiseReport(problem="corrupt")
        partial = target.with_name(f".{target.name}.partial")
        report = self._workers.run(self._work, source, partial, embedded, self._timeout)
        if report.problem is not None:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            return report
        os.replace(partial, target)
        return report

    def close(self) -> None:
        """Stop the workers that are idle now (one busy with a PDF finishes it first and
        is stopped by a later close, or when this process ends)."""
        self._workers.close()


# --- worker processes -----------------------------------------------------------------------
#
# A worker is `python -m portal.adapters.pdf_sanitiser FD LIMIT`: a fresh interpreter (so
# nothing of the caller's threads, locks or __main__ is copied or re-run), talking over a
# socket pair in JSON frames. JSON, not pickle: the worker parses hostile bytes, and what
# it sends back must not be able to run code in the caller.


def _serve(connection: Connection, memory_limit: int) -> None:
    """A worker's loop: cap the address space, then run requests until told to stop.

    It stops when its caller closes the connection or when its caller's process dies.
    """
    _die_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    connection.send_bytes(_READY)
    while True:
        try:
            request = json.loads(connection.recv_bytes())
        except EOFError:
            return
        if request is None:
            return
        reply: dict[str, str]
        try:
            work = _import_work(request["work"])
            embedded = request.get("embedded")
            report = work(
                Path(request["source"]),
                Path(request["partial"]),
                Path(embedded) if embedded else None,
            )
            reply = {"report": report.model_dump_json()}
        except MemoryError:
            reply = {"failed": "ran out of memory"}
        except Exception as error:
            # Hostile bytes can make pikepdf raise anything (RuntimeError, ValueError from
            # a broken object...); the caller rejects the PDF as corrupt and logs this.
            reply = {"failed": f"{type(error).__name__}: {error}"[:500]}
        connection.send_bytes(json.dumps(reply).encode())


def _die_with_parent() -> None:
    """Exit when the process that started this worker has gone (it is re-parented).

    Not PR_SET_PDEATHSIG: that fires when the *thread* that started the worker ends, and
    ingest runs start workers from threads that end with their run, which killed workers
    another run was still using (a clean PDF was then rejected). A watchdog thread polls
    instead; a request in progress is also bounded by the caller's time limit and
    RLIMIT_AS.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    if parent == 1:  # the caller died before we got here
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _import_work(reference: str) -> Work:
    module, _, name = reference.partition(":")
    work: Work = getattr(importlib.import_module(module), name)
    return work


def _reference(work: Work) -> str:
    qualname = str(getattr(work, "__qualname__", "<unnamed>"))
    reference = f"{work.__module__}:{qualname}"
    if work.__module__ == "__main__" or "<" in qualname:
        raise ValueError(f"a worker cannot import {reference}; pass a module-level function")
    return reference


_READY = b'"ready"'
_MAX_REPLY_BYTES = 64 * 1024
_STARTUP_SECONDS = 60.0


class _Worker:
    """One worker process. Starting it waits until it is ready, so a PDF's time limit
    never includes the interpreter's start-up; a worker that cannot start is the portal's
    problem, not the PDF's: TransientError (processing_error)."""

    def __init__(self, memory_limit: int) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            # Nothing of the caller's environment (database URLs, tokens) reaches the
            # process that parses hostile bytes; it imports what the caller can (the
            # portal, a test's hooks) through PYTHONPATH.
            environment = {
                "PATH": os.environ.get("PATH", os.defpath),
                "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
                "PYTHONUTF8": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "portal.adapters.pdf_sanitiser",
                    str(theirs.fileno()),
                    str(memory_limit),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=environment,
            )
        self.connection = Connection(ours.detach())
        self.tasks = 0
        try:
            ready = self.connection.poll(_STARTUP_SECONDS) and self.connection.recv_bytes()
        except (EOFError, OSError):
            ready = False
        if ready != _READY:
            self.stop(kill=True)
            raise TransientError(
                f"the PDF sanitiser's worker did not start (exit status {self.process.returncode})",
                reason=ReasonCode.processing_error,
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, *, kill: bool) -> None:
        if not kill:
            with contextlib.suppress(OSError):
                self.connection.send_bytes(b"null")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        if self.alive:
            self.process.kill()
            self.process.wait()
        self.connection.close()


class _Workers:
    """`size` reusable worker slots; a worker is started on first use of its slot."""

    def __init__(self, size: int, tasks_per_worker: int, memory_limit: int) -> None:
        self._tasks_per_worker = tasks_per_worker
        self._memory_limit = memory_limit
        self._slots: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self._slots.put(None)

    def run(
        self, work: str, source: Path, partial: Path, embedded: Path | None, timeout: float
    ) -> SanitiseReport:
        """Have a worker run `work` ("module:function") on `source`.

        Never raises for what the PDF does to the worker (that is a corrupt report); raises
        TransientError only if no worker can be started.
        """
        request = json.dumps(
            {
                "work": work,
                "source": str(source),
                "partial": str(partial),
                "embedded": str(embedded) if embedded else None,
            }
        )
        worker = self._slots.get()
        try:
            worker = self._ready(worker)
            if not _send(worker, request.encode()):
                # The idle worker had died (killed from outside): not this PDF's doing.
                worker.stop(kill=True)
                worker = self._ready(None)
                if not _send(worker, request.encode()):
                    raise TransientError(
                        "the PDF sanitiser's worker stopped at once",
                        reason=ReasonCode.processing_error,
                    )
            worker.tasks += 1
            answer = _answer(worker, timeout)
        except BaseException:
            if worker is not None:
                worker.stop(kill=True)
            self._slots.put(None)
            raise
        if isinstance(answer, str):
            worker.stop(kill=True)  # whatever happened may have left it unusable
            self._slots.put(None)
            return _failed(source, answer)
        self._slots.put(worker)
        return answer

    def _ready(self, worker: _Worker | None) -> _Worker:
        if worker is not None and (worker.tasks >= self._tasks_per_worker or not worker.alive):
            worker.stop(kill=False)
            worker = None
        return worker or _Worker(self._memory_limit)

    def close(self) -> None:
        idle: list[_Worker | None] = []
        while True:
            try:
                idle.append(self._slots.get_nowait())
            except queue.Empty:
                break
        for worker in idle:
            if worker is not None:
                worker.stop(kill=False)
            self._slots.put(None)


def _send(worker: _Worker, request: bytes) -> bool:
    try:
        worker.connection.send_bytes(request)
    except OSError:
        return False
    return True


def _answer(worker: _Worker, timeout: float) -> SanitiseReport | str:
    """The worker's report, or why there is none. Its reply is validated, never trusted."""
    if not worker.connection.poll(timeout):
        return f"took longer than {timeout:g} s"
    try:
        reply = json.loads(worker.connection.recv_bytes(_MAX_REPLY_BYTES))
        if "report" in reply:
            return SanitiseReport.model_validate_json(reply["report"])
        return str(reply.get("failed", "gave no report"))[:500]
    except (EOFError, OSError):
        worker.process.poll()
        return f"stopped the worker (exit status {worker.process.returncode})"
    except (ValueError, TypeError, AttributeError):
        return "got an answer from the worker that is not a report"


def _failed(source: Path, why: str) -> SanitiseReport:
    log.warning("PDF %s rejected as corrupt: its sanitiser %s", source.name, why)
    return SanitiseReport(
        problem="corrupt", problem_detail=f"the PDF could not be processed: {why}"
    )


FLATE_LEVEL: Final = 1
"""zlib's level for the streams the sanitiser compresses (streams already Flate are
copied as they are). Measured on the burst corpus's PDFs (80 files, 78.5 MB, mostly
unfiltered text streams), five runs of each, alternating: zlib's default level (6) wrote
8.9 MB; level 1 wrote 9.3 MB and took 4-6 ms less CPU a PDF (e.g. 15.2 against 21.4 ms
on the same machine minutes apart). 4% more bytes stored for a quarter less CPU."""


def _sanitise(source: Path, partial: Path, embedded: Path | None = None) -> SanitiseReport:
    # attempt_recovery=False: qpdf must not rebuild a damaged file into something the
    # agency never sent; a damaged cross-reference table raises PdfError instead.
    # A PDF that needs a password to open raises PasswordError here (encrypted); one with
    # only an owner password ("restrict editing") opens with the empty user password,
    # and is saved decrypted: its restrictions cannot stop anyone, and inspectors must
    # be able to read and annotate it.
    with pikepdf.open(source, attempt_recovery=False, conversion_mode="explicit") as pdf:
        decrypted = pdf.is_encrypted
        if warnings := pdf.get_warnings():  # qpdf hands each warning out once
            return _damaged(source, warnings)
        nodes = _nodes_to_read(pdf)
        extracted = 0
        if embedded is not None:
            budget = _Budget()
            try:
                _extract_embedded(pdf, embedded, budget, depth=0, nodes=nodes)
            except _OverBudget as over:
                return SanitiseReport(problem="scan_limits", problem_detail=str(over))
            except pikepdf.PdfError as error:
                # An attachment that cannot be decoded cannot be scanned: fail closed.
                detail = f"an embedded file could not be decoded to be scanned: {error}"
                return SanitiseReport(problem="corrupt", problem_detail=detail[:300])
            extracted = budget.files
        removed, metadata_stripped = _strip(pdf, nodes)
        pikepdf.settings.set_flate_compression_level(FLATE_LEVEL)  # process-wide in qpdf
        pdf.save(
            partial,
            fix_metadata_version=False,
            deterministic_id=True,  # the same upload always gives the same bytes
            encryption=False,  # an owner-password-only PDF is written decrypted
            # qpdf's defaults stay: LZW and ASCII streams are decoded and written as
            # Flate (no viewer meets those decoders; one that cannot be decoded makes
            # qpdf warn, and the PDF is rejected as corrupt), and unfiltered streams are
            # compressed (the stored copy is a tenth of such an upload), at FLATE_LEVEL.
        )
        # qpdf warns, rather than fails, when it meets a damaged object (or runs out of
        # memory reading one) while writing.
        if warnings := pdf.get_warnings():
            return _damaged(source, warnings)
    return SanitiseReport(
        removed=tuple(removed),
        metadata_stripped=metadata_stripped,
        embedded_files=extracted,
        decrypted=decrypted,
    )


class _OverBudget(Exception):
    """More embedded files, or bytes, than a scan of them may take."""


class _Budget:
    """What has been extracted from one upload so far, against the limits."""

    def __init__(self) -> None:
        self.files = 0
        self.bytes = 0

    def take(self, size: int) -> int:
        """Count one more file of `size` bytes; its number. Raises _OverBudget past a limit."""
        self.files += 1
        self.bytes += size
        if self.files > MAX_EMBEDDED_FILES:
            raise _OverBudget(f"more than {MAX_EMBEDDED_FILES} embedded files")
        if self.bytes > MAX_EMBEDDED_BYTES:
            raise _OverBudget(f"more than {MAX_EMBEDDED_BYTES} bytes of embedded files")
        return self.files


def _extract_embedded(
    pdf: pikepdf.Pdf,
    directory: Path,
    budget: _Budget,
    depth: int,
    nodes: list[Any] | None = None,
) -> None:
    """Write every embedded file stream of `pdf`, decoded, to `directory` as NNNN.bin.

    Names come from a counter, never from the PDF. An embedded PDF that opens without a
    password has its own embedded files written too, up to _MAX_EMBEDDED_DEPTH levels.
    `nodes`: `_nodes_to_read(pdf)`, if the caller has it.
    """
    for stream in _embedded_streams(_nodes_to_read(pdf) if nodes is None else nodes):
        data = stream.read_bytes()
        number = budget.take(len(data))
        (directory / f"{number:04d}.bin").write_bytes(data)
        if depth + 1 < _MAX_EMBEDDED_DEPTH and b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
            try:
                inner = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
            except pikepdf.PdfError:
                continue  # its bytes as they are are scanned; nothing of it is kept
            with inner:
                _extract_embedded(inner, directory, budget, depth + 1)


def _nodes_to_read(pdf: pikepdf.Pdf) -> list[Any]:
    """Every dictionary and stream of `pdf`, indirect or nested, that holds a key cleaning
    or finding embedded files reads, in the order pdf.objects reaches them (each object,
    then what is nested in it directly, parents before their children: indirect ones come
    up in pdf.objects themselves): the one walk over the whole PDF. Found before anything
    is changed, so both see every such node (cleaning one that an earlier cleaning cut
    loose changes nothing that is written; it may add what it held to the report). Two
    walks were 10 of the 21 ms of CPU a 1 MB text PDF of the benchmark took (measured
    in-process, 40 such PDFs); one plain loop, without a generator per object, took 1.8
    ms a PDF where the generator took 2.4-2.9 (60 PDFs of the burst corpus)."""
    keys = _KEYS_CLEANED | _KEYS_EMBEDDING
    found: list[Any] = []
    for obj in pdf.objects:
        stack = [obj]
        while stack:
            node = stack.pop()
            if isinstance(node, Array):
                children: Iterable[Any] = node
            elif isinstance(node, (Dictionary, Stream)):
                if not keys.isdisjoint(node.keys()):
                    found.append(node)
                children = node.values()
            else:
                continue
            for child in children:
                if isinstance(child, (Dictionary, Array)) and not child.is_indirect:
                    stack.append(child)
    return found


def _embedded_streams(nodes: list[Any]) -> list[Stream]:
    """Every stream that holds an embedded file: /Type /EmbeddedFile, or reached from a
    file specification's /EF (or /RF related files), each once (`nodes`: _nodes_to_read)."""
    found: dict[tuple[int, int], Stream] = {}

    def add(candidate: object) -> None:
        if isinstance(candidate, Stream):
            found.setdefault(candidate.objgen, candidate)

    for node in nodes:
        if _KEYS_EMBEDDING.isdisjoint(node.keys()):
            continue
        if isinstance(node, Stream) and node.get(Name.Type) == Name.EmbeddedFile:
            add(node)
        for slot in (Name.EF, Name.RF):
            files = node.get(slot)
            if isinstance(files, Dictionary):
                for _, value in files.items():
                    add(value)
                    if isinstance(value, Array):
                        for item in value:
                            add(item)
    return list(found.values())


def _damaged(source: Path, warnings: list[str]) -> SanitiseReport:
    first = str(warnings[0]).replace(str(source), "the PDF")
    return SanitiseReport(problem="corrupt", problem_detail=f"qpdf: {first}"[:300])


def _ends_with_eof_marker(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - _EOF_WINDOW))
        return b"%%EOF" in handle.read()


def _strip(pdf: pikepdf.Pdf, nodes: list[Any]) -> tuple[set[Removed], bool]:
    """Remove active content, attachments and metadata from `pdf` in place (`nodes`:
    _nodes_to_read(pdf), read before any change)."""
    removed: set[Removed] = set()
    metadata_stripped = False
    info = pdf.trailer.get(Name.Info)
    if info is not None:
        metadata_stripped = isinstance(info, Dictionary) and len(info.keys()) > 0
        del pdf.trailer[Name.Info]
    for node in nodes:
        metadata_stripped |= _clean_dictionary(node, removed)
    return removed, metadata_stripped


def _clean_dictionary(node: pikepdf.Object, removed: set[Removed]) -> bool:
    """Clean one dictionary or stream dictionary; True if it held metadata that was removed.

    Its keys are read once and every check asks that set first: most dictionaries here
    hold only /Type (pages, fonts), and asking pikepdf for each entry was 3 of the 12 ms
    a 1 MB text PDF of the benchmark took to sanitise (measured in-process, 60 PDFs)."""
    keys = set(node.keys())
    if _KEYS_CLEANED.isdisjoint(keys):
        return False
    category = _action_category(node, keys)
    if category is not None:
        for name in keys:
            if name != "/Length":
                del node[name]
        if isinstance(node, Stream):
            node.write(b"")
        removed.add(category)
        return False
    _unhook_actions(node, keys, removed)
    open_action = node.get(Name.OpenAction) if "/OpenAction" in keys else None
    if open_action is not None and not isinstance(open_action, Array):
        del node[Name.OpenAction]
        removed.add(Removed.open_action)
    for key, what in _KEYS_TO_DROP:
        if str(key) in keys:
            del node[key]
            removed.add(what)
    if "/NeedsRendering" in keys:
        del node[Name.NeedsRendering]  # it only means "render the XFA", which is gone
    if "/Type" in keys and isinstance(node, Stream) and node.get(Name.Type) == Name.EmbeddedFile:
        node.write(b"")
        removed.add(Removed.embedded_files)
    if "/Annots" in keys and isinstance(annots := node.get(Name.Annots), Array):
        _drop_annotations(annots, removed)
    return "/Metadata" in keys and _drop_metadata(node)


def _unhook_actions(node: pikepdf.Object, keys: set[str], removed: set[Removed]) -> None:
    """Delete /A and /Next entries that hold an action that is (or will be) emptied.

    So no link or bookmark is left holding an action with nothing in it. Actions that
    other slots point to are emptied in place when pdf.objects reaches them.
    """
    for slot in (Name.A, Name.Next):
        if str(slot) not in keys:
            continue
        action = node.get(slot)
        if isinstance(action, Dictionary):
            action_keys = set(action.keys())
            category = _action_category(action, action_keys)
            if category is not None or not action_keys:
                del node[slot]
                if category is not None:
                    removed.add(category)


def _drop_metadata(node: pikepdf.Object) -> bool:
    metadata = node.get(Name.Metadata)
    if metadata is None:
        return False
    del node[Name.Metadata]
    return not isinstance(metadata, Stream) or len(metadata.read_raw_bytes()) > 0


def _action_category(node: pikepdf.Object, keys: set[str]) -> Removed | None:
    if "/S" not in keys:
        return None
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


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
