"""Burst at a deadline: thousands of uploads in the last minutes before 5pm, on the scaled layout.

    .venv/bin/python -m bench.burst --documents 5000 --workers 1,2     # the full run
    .venv/bin/python -m bench.burst --documents 200 --workers 1        # a quick smoke run

One run:

1. builds (or reuses, from bench/.corpus/burst-*) a seeded corpus of N documents for
   several inspections of the theme domestic-abuse/sept-2024, each from one of its five
   agencies and valid for that agency: text PDFs for Annex A items (mostly small, a few
   large), Word and Excel documents, CSV child lists (`list:<key>`, the local authority's,
   with the columns the theme asks for; some with formula cells), PDFs with active content,
   and EICAR files (plain and inside a PDF). Each document has a simulated arrival time in
   the 10 minutes before the 5pm deadline, bunched towards 5pm; every file's bytes differ;
2. times clamd alone over the same bytes: a fresh clamd (infra/clamd/start-clamd) and
   ClamdScanner.scan of every file in arrival order, one at a time, then again with a
   fresh clamd and 2 scanning threads (this machine has 2 cores);
3. for each worker count (e.g. 1, then 2), brings up a fresh scaled layout with the
   runbook's scripts (tests/scaled_layout.py: moto S3 with SSE-KMS, PostgreSQL, Prefect
   server on PostgreSQL, setup, API, the workers each with its own clamd), warms it up,
   then replays the arrivals in order as fast as the API takes them (8 client threads,
   one token per agency and inspection) and waits until every document is final.
   Measured: first to last upload, last upload to the last decision, throughput, latency
   from each upload's start to its document's decided_at (p50/p95), CPU seconds and peak
   RSS (psutil, every 0.5 s, each process with its children) of the API, each worker and
   its clamd, the Prefect server, moto, PostgreSQL and this client; batches and flow runs.
   Every document's final status, reason and expected warning are checked against the
   corpus: any mismatch prints INVALID BENCHMARK and exits 1 (the report is still
   written, the mismatches at its top).

The dev S3 server (moto) runs with infra/scaled/dev-s3's patch unless --moto-as-is: moto's
ListObjectVersions copies the whole bucket on every call, which would make moto, not the
portal, the thing measured.

The report is printed and written to bench/results/<UTC stamp>-burst.md (+ .json).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import io
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import psutil  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import corpus as bench_corpus
from bench.bench_ingest import (
    RESULTS_DIR,
    BenchmarkInvalid,
    Proc,
    code_fingerprint,
    run_info,
    say,
    start_clamd,
)
from portal.adapters.db.tables import DocumentRow
from portal.adapters.policy_files import load_themes
from portal.bootstrap import build, make_scanner
from portal.domain.access import Role
from portal.domain.scanning import ScanStatus
from portal.services.identities import issue_token
from portal.settings import REPO_ROOT, Settings
from tests import samples
from tests.scaled_layout import Layout, scaled_layout

THEME = "domestic-abuse/sept-2024"
GENERATOR_VERSION = 1
CACHE_DIR = bench_corpus.CACHE_DIR
MB = 1_000_000
WINDOW_SECONDS = 600.0  # the simulated 10 minutes before the deadline
DEADLINE = "17:00"
INSPECTIONS = 6
AGENCY_SHARE = {
    "local_authority": 0.30,
    "masa": 0.15,
    "police": 0.20,
    "health": 0.20,
    "probation": 0.15,
}
# Share of the documents by kind; PDFs take the rest.
KIND_SHARE = {
    "docx": 0.08,
    "xlsx": 0.06,
    "list": 0.012,
    "active_pdf": 0.02,
    "eicar": 0.003,
    "eicar_pdf": 0.002,
}
DA_FIELD = "Has the child been a victim of domestic abuse? (Y/N)"
TARGET_AFTER_LAST_UPLOAD_S = 15 * 60.0
TARGET_OVER_CLAMD = 1.5
SAMPLE_SECONDS = 0.5
FINAL = ("accepted", "rejected")


# --- the corpus ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Doc:
    """One upload of the burst: what, by whom, for what, when, and what must become of it."""

    index: int  # upload order (by simulated arrival)
    name: str
    kind: str  # pdf | docx | xlsx | list | active_pdf | eicar | eicar_pdf
    size: int  # target size; the file's real size is `bytes`
    inspection: int
    agency: str
    item: str
    dated: bool  # the item has a look-back in months: the upload gives document_date
    arrival_s: float  # simulated seconds after 16:50
    expected: str = "accepted"
    reason: str | None = None
    warning: str | None = None
    path: str = ""  # relative to the corpus directory, once generated
    bytes: int = 0
    sha256: str = ""


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


@cache
def _annex_items() -> dict[str, list[tuple[str, bool]]]:
    """Per agency, its Annex A items and whether each needs a document date. Items whose
    look-back is "the N most recent" are left out: whether an upload gets the
    more_than_requested warning would depend on the order concurrent runs finish in."""
    theme = load_themes(REPO_ROOT / "policies" / "themes")[THEME]
    return {
        agency.code: [
            (item.number, item.lookback is not None and item.lookback.months is not None)
            for item in agency.items
            if item.lookback is None or item.lookback.most_recent is None
        ]
        for agency in theme.agencies
    }


@cache
def _list_keys() -> list[tuple[str, bool, int | None]]:
    """The theme's child lists: key, whether it needs the domestic-abuse column, max rows."""
    theme = load_themes(REPO_ROOT / "policies" / "themes")[THEME]
    return [
        (
            c.key,
            any(f.name == DA_FIELD for f in c.extra_fields),
            c.max_children,
        )
        for c in theme.child_lists
        if c.agency == "local_authority"
    ]


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How big the files of a corpus are (log-uniform between the bounds, in bytes)."""

    pdf_tiers: tuple[tuple[float, int, int], ...]  # (up to this share, low, high)
    docx: tuple[int, int]
    xlsx: tuple[int, int]


SIZES = {
    # The 10 minutes before a deadline: mostly small files (mean ~92 kB).
    "deadline": Sizes(
        pdf_tiers=(
            (0.003, 3_000_000, 8_000_000),
            (0.043, 160_000, 1_600_000),
            (1.0, 8_000, 160_000),
        ),
        docx=(15_000, 600_000),
        xlsx=(8_000, 300_000),
    ),
    # Issue 18's reference corpus: 300 documents of ~267 MB (mean ~0.9 MB), PDFs, Office
    # files and lists: bytes, not per-document overhead, dominate.
    "reference": Sizes(
        pdf_tiers=((1.0, 50_000, 4_500_000),),
        docx=(20_000, 1_000_000),
        xlsx=(10_000, 500_000),
    ),
}


def plan(n: int, seed: int, inspections: int = INSPECTIONS, sizes: str = "deadline") -> list[Doc]:
    """The N uploads, in arrival order (deterministic for given arguments)."""
    rng = random.Random(seed)
    size = SIZES[sizes]
    counts = {kind: max(1, round(n * share)) for kind, share in KIND_SHARE.items()}
    counts["pdf"] = n - sum(counts.values())
    if counts["pdf"] < 1:
        raise SystemExit(f"--documents {n} is too few for the mix; use at least 100")
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    rng.shuffle(kinds)
    # Arrivals: a quarter spread evenly over the 10 minutes, the rest bunched towards 5pm
    # (density growing with the square of the time: half of them in the last 2 minutes).
    arrivals = sorted(
        WINDOW_SECONDS * (rng.random() if rng.random() < 0.25 else rng.random() ** (1 / 3))
        for _ in range(n)
    )
    items = _annex_items()
    lists = _list_keys()
    agencies = list(AGENCY_SHARE)
    weights = list(AGENCY_SHARE.values())
    docs = []
    list_turn = 0
    for index, (kind, arrival) in enumerate(zip(kinds, arrivals, strict=True)):
        inspection = rng.randrange(inspections)
        warning = reason = None
        expected = "accepted"
        if kind == "list":
            key, _da, _max = lists[list_turn % len(lists)]
            list_turn += 1
            agency, item, dated = "local_authority", f"list:{key}", False
            if list_turn % 4 == 0:
                warning = "formula_cells_neutralised"
            name, file_size = f"{key}-{index:05d}.csv", _list_size(rng, key, lists)
        else:
            agency = rng.choices(agencies, weights)[0]
            item, dated = rng.choice(items[agency])
            stem = f"{agency}-{item}-{index:05d}"
            if kind == "pdf":
                tier = rng.random()
                low, high = next((lo, hi) for share, lo, hi in size.pdf_tiers if tier < share)
                file_size, name = _log_uniform(rng, low, high), f"{stem}.pdf"
            elif kind == "docx":
                file_size, name = _log_uniform(rng, *size.docx), f"{stem}.docx"
            elif kind == "xlsx":
                file_size, name = _log_uniform(rng, *size.xlsx), f"{stem}.xlsx"
            elif kind == "active_pdf":
                file_size, name, warning = 0, f"{stem}.pdf", "active_content_removed"
            elif kind == "eicar":
                file_size, name, expected, reason = 0, f"{stem}.txt", "rejected", "infected"
            else:  # eicar_pdf
                file_size, name, expected, reason = 0, f"{stem}.pdf", "rejected", "infected"
        docs.append(
            Doc(
                index=index,
                name=name,
                kind=kind,
                size=file_size,
                inspection=inspection,
                agency=agency,
                item=item,
                dated=dated,
                arrival_s=round(arrival, 3),
                expected=expected,
                reason=reason,
                warning=warning,
            )
        )
    return docs


def _list_size(rng: random.Random, key: str, lists: list[tuple[str, bool, int | None]]) -> int:
    max_rows = next(m for k, _, m in lists if k == key)
    if max_rows is not None:
        return 0  # up to 10 children: a few hundred bytes
    if key.startswith(("ilacs_list_1", "ilacs_list_2", "ilacs_list_3", "ilacs_list_5")):
        return _log_uniform(rng, 50_000, 1_500_000)  # all contacts, referrals...: long
    return _log_uniform(rng, 10_000, 300_000)


# --- generators (each file's bytes differ from every other's) ---------------------------


def _pdf(doc: Doc) -> bytes:
    """samples.pdf_of_size with a title naming the document, so no two are the same."""
    with pikepdf.open(io.BytesIO(samples.pdf_of_size(doc.size))) as pdf:
        pdf.docinfo.Title = pikepdf.String(f"Case notes {doc.index:05d}")
        out = io.BytesIO()
        pdf.save(
            out,
            compress_streams=False,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            deterministic_id=True,
        )
        return out.getvalue()


def _spec(doc: Doc) -> bench_corpus.Spec:
    return bench_corpus.Spec(doc.name, doc.kind, doc.size)


def _eicar(doc: Doc) -> bytes:
    # Trailing whitespace keeps the file an EICAR test file (up to 128 bytes).
    return samples.eicar() + b" " * (doc.index % 60)


def _eicar_pdf(doc: Doc) -> bytes:
    """samples.eicar_pdf with its own title, re-saved the way samples saves it."""
    with pikepdf.open(io.BytesIO(samples.eicar_pdf())) as pdf:
        pdf.docinfo.Title = pikepdf.String(f"Attachment {doc.index:05d}")
        out = io.BytesIO()
        pdf.save(
            out,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            deterministic_id=True,
        )
        return out.getvalue()


_TEAMS = ("Front door", "Assessment", "Child in need", "Child protection", "Early help")
_STATUSES = ("Child in need", "Child protection plan", "Child in care")
_AGENCY_SETS = ("Police; Health", "Police; Probation", "Health; Education", "Police; Health; LA")


def _child_list(doc: Doc) -> bytes:
    """A list of children as the theme asks for it: unique IDs, no names, the domestic-abuse
    Y/N column where the list needs it; every fourth with a formula cell to neutralise."""
    key = doc.item.removeprefix("list:")
    _, needs_da, max_rows = next(entry for entry in _list_keys() if entry[0] == key)
    rng = random.Random(f"list-{doc.index}")
    formula = doc.warning == "formula_cells_neutralised"
    if max_rows is not None:
        header = ["Child ID", "Agencies involved", "Status"]
        rows = [
            [f"DA{doc.index:05d}{r:03d}", rng.choice(_AGENCY_SETS), rng.choice(_STATUSES)]
            for r in range(1, rng.randint(6, max_rows) + 1)
        ]
        if formula:
            rows[0][1] = '=HYPERLINK("http://example.invalid")'
        return _csv([header, *rows])
    header = ["Child ID", "Start date", "Team name", "Outcome"]
    if needs_da:
        header.append(DA_FIELD)
    header.append("Notes")
    lines = [_csv_line(header)]
    size = len(lines[0])
    row = 0
    while size < doc.size:
        row += 1
        cells = [
            f"C{doc.index:05d}{row:07d}",
            f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            rng.choice(_TEAMS),
            rng.choice(("NFA", "CIN", "CP", "EH")),
        ]
        if needs_da:
            cells.append(rng.choice("YN"))
        cells.append(
            '=HYPERLINK("http://example.invalid")'
            if formula and row == 2
            else rng.choice(("visit completed", "strategy meeting held", "", "school informed"))
        )
        line = _csv_line(cells)
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()


def _csv_line(cells: list[str]) -> str:
    return ",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' if "," in c or '"' in c else c
                    for c in cells) + "\r\n"  # fmt: skip


def _csv(rows: list[list[str]]) -> bytes:
    return "".join(_csv_line(r) for r in rows).encode()


def _generate(doc: Doc) -> bytes:
    if doc.kind == "pdf":
        return _pdf(doc)
    if doc.kind == "list":
        return _child_list(doc)
    if doc.kind == "eicar":
        return _eicar(doc)
    if doc.kind == "eicar_pdf":
        return _eicar_pdf(doc)
    generator = {
        "docx": bench_corpus._docx,
        "xlsx": bench_corpus._xlsx,
        "active_pdf": bench_corpus._active_pdf,
    }[doc.kind]
    return generator(_spec(doc), doc.index)


def _write(directory: Path, doc: Doc) -> Doc:
    data = _generate(doc)
    relative = f"files/{doc.index:05d}-{doc.name}"
    partial = directory / (relative + ".partial")
    partial.write_bytes(data)
    os.replace(partial, directory / relative)
    return dataclasses.replace(
        doc, path=relative, bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


@dataclasses.dataclass
class BurstCorpus:
    name: str
    directory: Path
    docs: list[Doc]

    def path(self, doc: Doc) -> Path:
        return self.directory / doc.path

    @property
    def total_bytes(self) -> int:
        return sum(d.bytes for d in self.docs)

    def mix(self) -> str:
        kinds = Counter(d.kind for d in self.docs)
        sizes = {k: sum(d.bytes for d in self.docs if d.kind == k) for k in kinds}
        return ", ".join(
            f"{kinds[k]} {k} ({sizes[k] / MB:.1f} MB)"
            for k in sorted(kinds, key=lambda k: -kinds[k])
        )


def build_corpus(
    n: int, seed: int, inspections: int = INSPECTIONS, sizes: str = "deadline"
) -> BurstCorpus:
    """Generate the burst corpus once (two processes) into bench/.corpus and reuse it."""
    docs = plan(n, seed, inspections, sizes)
    key = hashlib.sha256(
        json.dumps([GENERATOR_VERSION, [dataclasses.asdict(d) for d in docs]]).encode()
    ).hexdigest()[:10]
    name = f"burst-{n}-{key}" if sizes == "deadline" else f"burst-{sizes}-{n}-{key}"
    directory = CACHE_DIR / name
    manifest = directory / "manifest.json"
    if manifest.exists():
        built = [Doc(**entry) for entry in json.loads(manifest.read_text())]
        if all((directory / d.path).is_file() for d in built):
            return BurstCorpus(name, directory, built)
    (directory / "files").mkdir(parents=True, exist_ok=True)
    say(f"generating corpus {name} ({n} files) in {directory}; reused by later runs")
    started = time.monotonic()
    with ProcessPoolExecutor(2) as pool:
        built = list(pool.map(_write, [directory] * len(docs), docs, chunksize=20))
    hashes = Counter(d.sha256 for d in built if d.expected == "accepted")
    repeated = [h for h, count in hashes.items() if count > 1]
    if repeated:
        raise RuntimeError(f"{len(repeated)} files would repeat another file's bytes")
    manifest.write_text(json.dumps([dataclasses.asdict(d) for d in built], indent=0))
    say(f"corpus generated in {time.monotonic() - started:.0f} s")
    return BurstCorpus(name, directory, built)


# --- the dev S3 server -----------------------------------------------------------------

# infra/scaled/dev-s3 patches moto's quadratic ListObjectVersions (see
# infra/scaled/dev-s3-patch/sitecustomize.py); --moto-as-is runs it unpatched.


# --- measuring processes -------------------------------------------------------------


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_split_of_tree(pid: int) -> tuple[float, float]:
    """(user, kernel) CPU seconds of a process, its reaped children and live descendants."""
    user = kernel = 0.0
    for n, proc in enumerate(_tree(pid)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            user += times.user + (times.children_user if n == 0 else 0.0)
            kernel += times.system + (times.children_system if n == 0 else 0.0)
    return user, kernel


def _rss_of_tree(pid: int) -> tuple[int, int]:
    """(RSS of the process alone, RSS of the process with its descendants)."""
    own = total = 0
    for n, proc in enumerate(_tree(pid)):
        with contextlib.suppress(psutil.NoSuchProcess):
            rss = proc.memory_info().rss
            total += rss
            if n == 0:
                own = rss
    return own, total


def _system_busy() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0))


class Monitor:
    """Samples RSS of named process trees every 0.5 s; CPU seconds between start and stop."""

    def __init__(self, pids: dict[str, int], own: dict[str, int] | None = None) -> None:
        """`pids`: measured with their descendants; `own`: without (e.g. this process,
        whose children are the layout's processes)."""
        self.pids = pids
        self.own = own or {}
        self.peak_rss: dict[str, int] = dict.fromkeys([*pids, *self.own], 0)
        self.peak_rss_own: dict[str, int] = dict.fromkeys([*pids, *self.own], 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cpu(self) -> dict[str, float]:
        snap: dict[str, float] = {}
        for name, pid in self.pids.items():
            user, kernel = _cpu_split_of_tree(pid)
            snap[name], snap[f"_kernel:{name}"] = user + kernel, kernel
        for name, pid in self.own.items():
            times = psutil.Process(pid).cpu_times()
            snap[name], snap[f"_kernel:{name}"] = times.user + times.system, times.system
        snap["_system"] = _system_busy()
        return snap

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for name, pid in self.pids.items():
                own, total = _rss_of_tree(pid)
                self.peak_rss[name] = max(self.peak_rss[name], total)
                self.peak_rss_own[name] = max(self.peak_rss_own[name], own)
            for name, pid in self.own.items():
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss = psutil.Process(pid).memory_info().rss
                    self.peak_rss[name] = max(self.peak_rss[name], rss)
                    self.peak_rss_own[name] = max(self.peak_rss_own[name], rss)

    def start(self) -> None:
        self._cpu_start = self._cpu()
        self._load_start = os.getloadavg()
        self._thread.start()

    def stop(self) -> None:
        self._cpu_end = self._cpu()
        self._load_end = os.getloadavg()
        self._stop.set()
        self._thread.join()

    def cpu(self) -> dict[str, float]:
        return {
            name: self._cpu_end[name] - self._cpu_start[name]
            for name in self._cpu_start
            if not name.startswith("_")
        }

    def kernel_cpu(self) -> dict[str, float]:
        """Of cpu(), the seconds each spent in the kernel (system calls: sockets, files)."""
        return {
            name: self._cpu_end[f"_kernel:{name}"] - self._cpu_start[f"_kernel:{name}"]
            for name in self.cpu()
        }

    def other_cpu(self) -> float:
        """Busy CPU seconds of the machine outside the processes watched here."""
        system = self._cpu_end["_system"] - self._cpu_start["_system"]
        return max(0.0, system - sum(self.cpu().values()))


# --- clamd alone ---------------------------------------------------------------------


def clamd_alone(corpus: BurstCorpus, work: Path, threads: int) -> dict[str, Any]:
    """Every file through ClamdScanner.scan on a fresh clamd, with `threads` threads."""
    clamd, socket_path = start_clamd(work / f"clamd-alone-{threads}")
    try:
        scanner = make_scanner(Settings(clamd_socket=socket_path))
        monitor = Monitor({"clamd": clamd.popen.pid}, own={"bench": os.getpid()})
        problems: list[str] = []
        lock = threading.Lock()
        queue = iter(corpus.docs)

        def scan_all() -> None:
            while True:
                with lock:
                    doc = next(queue, None)
                if doc is None:
                    return
                with corpus.path(doc).open("rb") as source:
                    reply = scanner.scan(source)
                expected = ScanStatus.found if doc.reason == "infected" else ScanStatus.clean
                if reply.status is not expected:
                    problems.append(f"{doc.name}: clamd said {reply.raw!r}")

        monitor.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(scan_all) for _ in range(threads)]:
                future.result()
        wall = time.perf_counter() - started
        monitor.stop()
        if problems:
            raise BenchmarkInvalid(f"clamd alone: {len(problems)} wrong verdicts: {problems[:10]}")
    finally:
        clamd.stop()
    return {
        "threads": threads,
        "wall_s": wall,
        "cpu_s": monitor.cpu(),
        "other_cpu_s": monitor.other_cpu(),
        "peak_rss": monitor.peak_rss,
        "load": [monitor._load_start, monitor._load_end],
    }


# --- the pipeline on the scaled layout -----------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]  # nearest rank


def _stamp(value: datetime | None) -> float:
    assert value is not None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class Portal:
    """The inspections and uploader tokens of one run, and the upload call."""

    def __init__(self, layout: Layout, inspections: int = INSPECTIONS) -> None:
        self.layout = layout
        self.container = build(layout.settings(), run_migrations=False)
        _p, admin = issue_token(self.container, Role.admin, label="burst benchmark")
        self.client = httpx.Client(base_url=layout.api_url, timeout=120)
        headers = {"Authorization": f"Bearer {admin}"}
        self.inspections: list[str] = []
        self.notification: list[date] = []
        self.tokens: dict[tuple[int, str], str] = {}
        for n in range(inspections):
            created = self.client.post(
                "/v1/inspections",
                headers=headers,
                json={
                    "theme": THEME,
                    "area_name": f"Burst area {n}",
                    "fieldwork_start": "2027-03-01",
                    "agencies": list(AGENCY_SHARE),
                },
            )
            if created.status_code != 201:
                raise BenchmarkInvalid(f"inspection: {created.status_code} {created.text}")
            inspection_id = created.json()["id"]
            shown = self.client.get(f"/v1/inspections/{inspection_id}", headers=headers).json()
            self.inspections.append(inspection_id)
            self.notification.append(date.fromisoformat(shown["notification_date"]))
            for agency in AGENCY_SHARE:
                issued = self.client.post(
                    f"/v1/inspections/{inspection_id}/tokens",
                    headers=headers,
                    json={"role": "agency_uploader", "agency": agency, "label": "burst"},
                )
                if issued.status_code != 201:
                    raise BenchmarkInvalid(f"token: {issued.status_code} {issued.text}")
                self.tokens[(n, agency)] = issued.json()["token"]

    def upload(self, client: httpx.Client, doc: Doc, path: Path) -> tuple[str, int]:
        """POST the document; returns its id and how many 429s were waited out first."""
        data = {"item": doc.item}
        if doc.dated:
            data["document_date"] = (
                self.notification[doc.inspection] - timedelta(days=60)
            ).isoformat()
        throttled = 0
        while True:
            with path.open("rb") as source:
                response = client.post(
                    f"{self.layout.api_url}/v1/inspections/{self.inspections[doc.inspection]}/documents",
                    headers={
                        "Authorization": f"Bearer {self.tokens[(doc.inspection, doc.agency)]}"
                    },
                    data=data,
                    files={"file": (doc.name, source, "application/octet-stream")},
                )
            if response.status_code == 429:
                throttled += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code != 202:
                raise BenchmarkInvalid(
                    f"upload of {doc.name}: {response.status_code} {response.text[:500]}"
                )
            return str(response.json()["id"]), throttled

    def final_count(self) -> tuple[int, int]:
        """(documents final, documents seen failed) in the whole database."""
        table = DocumentRow.__table__
        with self.container.repository.engine.connect() as connection:
            final = connection.execute(
                select(func.count()).select_from(table).where(table.c.status.in_(FINAL))
            ).scalar_one()
            failed = connection.execute(
                select(func.count()).select_from(table).where(table.c.status == "failed")
            ).scalar_one()
        return int(final), int(failed)

    def rows(self, ids: list[str]) -> dict[str, DocumentRow]:
        with Session(self.container.repository.engine) as session:
            found = session.scalars(select(DocumentRow).where(DocumentRow.id.in_(ids))).all()
            session.expunge_all()
        return {row.id: row for row in found}


def _warm_up(portal: Portal, workers: int) -> None:
    """A few small uploads per worker (imports, connections, first flow runs)."""
    ids = []
    for n in range(3 * workers):
        inspection = n % len(portal.inspections)
        doc = Doc(n, f"warmup-{n}.pdf", "pdf", 0, inspection, "police", "3.1", False, 0.0)
        path = Path(tempfile.mkdtemp(prefix="jtai-burst-warm-")) / doc.name
        path.write_bytes(samples.pdf_of_size(30_000 + 997 * n))
        ids.append(portal.upload(portal.client, doc, path)[0])
        shutil.rmtree(path.parent, ignore_errors=True)
    deadline = time.monotonic() + 180
    while portal.final_count()[0] < len(ids):
        if time.monotonic() > deadline:
            raise BenchmarkInvalid("the warm-up documents were not final within 180 s")
        time.sleep(0.5)


def _prefect_post(url: str, body: dict[str, Any]) -> Any:
    response = httpx.post(url, json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def _prefect_all(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = _prefect_post(url, {**body, "limit": 200, "offset": len(found)})
        found += page
        if len(page) < 200:
            return found


def _flow_runs_and_artifacts(prefect_api: str, since: float) -> dict[str, Any]:
    """Ingest flow runs started during the burst, their time, and the table artifacts'
    per-document milliseconds (portal.ingest.process_document, scan to record)."""
    after = datetime.fromtimestamp(since, UTC).isoformat()
    runs = _prefect_all(
        f"{prefect_api}/flow_runs/filter",
        {"flow_runs": {"start_time": {"after_": after}}},
    )
    states = Counter(r["state_type"] for r in runs)
    run_seconds = sum(float(r.get("total_run_time") or 0) for r in runs)
    artifacts = _prefect_all(
        f"{prefect_api}/artifacts/filter",
        {"artifacts": {"key": {"any_": ["ingest-batch"]}}},
    )
    ms: list[int] = []
    for artifact in artifacts:
        if artifact.get("created") and _stamp(datetime.fromisoformat(artifact["created"])) < since:
            continue
        data = artifact["data"]
        rows = json.loads(data) if isinstance(data, str) else data
        ms += [int(row["ms"]) for row in rows]
    return {
        "flow_runs": len(runs),
        "flow_run_states": dict(states),
        "flow_run_seconds": run_seconds,
        "artifact_documents": len(ms),
        "process_document_s": sum(ms) / 1000,
        "process_document_p50_ms": _quantile([float(m) for m in ms], 0.5) if ms else None,
        "process_document_p95_ms": _quantile([float(m) for m in ms], 0.95) if ms else None,
    }


def _batches(rows: dict[str, DocumentRow], wall: float) -> dict[str, Any]:
    by_token: dict[str, list[DocumentRow]] = {}
    for row in rows.values():
        if row.claimed_at is not None:  # else decided at upload (a signature found): no batch
            by_token.setdefault(row.claim_token or "?", []).append(row)
    sizes = sorted(len(v) for v in by_token.values())
    spans = [
        max(_stamp(r.decided_at) for r in v) - min(_stamp(r.claimed_at) for r in v)
        for v in by_token.values()
    ]
    return {
        "count": len(sizes),
        "size_min": sizes[0],
        "size_median": sizes[len(sizes) // 2],
        "size_max": sizes[-1],
        "busy_slots_mean": sum(spans) / wall,
    }


def run_pipeline(
    corpus: BurstCorpus,
    workers: int,
    work: Path,
    threads: int,
    timeout: float,
    pace: float,
    moto_as_is: bool = False,
) -> dict[str, Any]:
    """One fresh layout with `workers` workers; the burst replayed; every document final."""
    say(f"[{workers} worker(s)] bringing up the scaled layout")
    started_layout = time.monotonic()
    s3_env = {"JTAI_DEV_S3_AS_IS": "1"} if moto_as_is else {}
    with scaled_layout(workers, work_dir=work, print_logs=False, s3_env=s3_env) as layout:
        try:
            return _run_on(layout, corpus, workers, threads, timeout, pace, started_layout)
        except BaseException:
            for name in layout.processes:
                say(f"--- end of the {name} log ({layout.log_path(name)}) ---")
                print(layout.log(name)[-2000:], flush=True)
            raise


def _run_on(
    layout: Layout,
    corpus: BurstCorpus,
    workers: int,
    threads: int,
    timeout: float,
    pace: float,
    started_layout: float,
) -> dict[str, Any]:
    layout.wait_for_workers()
    portal = Portal(layout)
    say(f"[{workers} worker(s)] layout up in {time.monotonic() - started_layout:.0f} s; warming up")
    _warm_up(portal, workers)
    warm_final = portal.final_count()[0]
    pids = {name: proc.pid for name, proc in layout.processes.items()}
    postmaster = layout.postmaster_pid()
    if postmaster is not None:
        pids["postgres"] = postmaster
    monitor = Monitor(pids, own={"bench": os.getpid()})
    docs = corpus.docs
    uploaded: dict[int, tuple[str, float, float, int]] = {}
    lock = threading.Lock()
    queue = iter(docs)
    progress: list[tuple[float, int, int]] = []
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=600)
        return local.client  # type: ignore[no-any-return]

    def upload_loop() -> None:
        while True:
            with lock:
                doc = next(queue, None)
            if doc is None:
                return
            if pace > 0:  # replay the simulated arrival times, `pace` times faster
                delay = t0 + doc.arrival_s / pace - time.time()
                if delay > 0:
                    time.sleep(delay)
            begun = time.time()
            document_id, throttled = portal.upload(client(), doc, corpus.path(doc))
            uploaded[doc.index] = (document_id, begun, time.time(), throttled)

    say(f"[{workers} worker(s)] uploading {len(docs)} documents with {threads} threads")
    monitor.start()
    t0 = time.time()
    pool = ThreadPoolExecutor(threads, thread_name_prefix="upload")
    futures = [pool.submit(upload_loop) for _ in range(threads)]
    last_said = time.monotonic()
    uploads_done_at: float | None = None
    all_final_at: float | None = None
    failed_seen = 0
    while True:
        final, failed = portal.final_count()
        final -= warm_final
        failed_seen = max(failed_seen, failed)
        now = time.time()
        progress.append((now - t0, len(uploaded), final))
        if uploads_done_at is None and all(f.done() for f in futures):
            for future in futures:
                future.result()  # a failed upload makes the run invalid
            uploads_done_at = now
            say(f"[{workers} worker(s)] uploads done in {now - t0:.0f} s; {final} final so far")
        if uploads_done_at is not None and final >= len(docs):
            all_final_at = now
            break
        if uploads_done_at is not None and now - uploads_done_at > timeout:
            break
        if time.monotonic() - last_said > 30:
            say(f"[{workers} worker(s)] {now - t0:.0f} s: {len(uploaded)} uploaded, {final} final")
            last_said = time.monotonic()
        time.sleep(1.0)
    monitor.stop()
    pool.shutdown()
    if all_final_at is None:
        raise BenchmarkInvalid(
            f"[{workers} worker(s)] not every document final {timeout:.0f} s after the last "
            f"upload ({progress[-1][2]} of {len(docs)})"
        )
    say(f"[{workers} worker(s)] all final; checking every document")
    ids = [uploaded[d.index][0] for d in docs]
    rows = portal.rows(ids)
    problems = []
    for doc in docs:
        row = rows[uploaded[doc.index][0]]
        if row.status != doc.expected:
            problems.append(f"{doc.name}: {row.status} {row.reasons} {row.detail[:120]}")
        elif doc.reason and doc.reason not in row.reasons:
            problems.append(f"{doc.name}: reasons {row.reasons}, expected {doc.reason}")
        elif doc.warning and doc.warning not in row.warnings:
            problems.append(f"{doc.name}: warnings {row.warnings}, expected {doc.warning}")
    if problems:  # measured all the same, reported as invalid (main exits 1)
        say(
            f"[{workers} worker(s)] INVALID: {len(problems)} documents did not end as the "
            "corpus says:" + "".join(f"\n  {p}" for p in problems[:30])
        )
    first_start = min(begun for _, begun, _, _ in uploaded.values())
    last_upload = max(end for _, _, end, _ in uploaded.values())
    decided = {doc.index: _stamp(rows[uploaded[doc.index][0]].decided_at) for doc in docs}
    last_decided = max(decided.values())
    latency = [decided[d.index] - uploaded[d.index][1] for d in docs]
    post = [uploaded[d.index][2] - uploaded[d.index][1] for d in docs]
    wall = last_decided - first_start
    cpu = monitor.cpu()
    result = {
        "workers": workers,
        "documents": len(docs),
        "bytes": corpus.total_bytes,
        "upload_wall_s": last_upload - first_start,
        "after_last_upload_s": last_decided - last_upload,
        "wall_s": wall,
        "docs_per_s": len(docs) / wall,
        "mb_per_s": corpus.total_bytes / MB / wall,
        "upload_docs_per_s": len(docs) / (last_upload - first_start),
        "final_when_uploads_done": next(
            (f for t, u, f in progress if u >= len(docs)), progress[-1][2]
        ),
        "latency_p50_s": _quantile(latency, 0.5),
        "latency_p95_s": _quantile(latency, 0.95),
        "latency_max_s": max(latency),
        "post_p50_s": _quantile(post, 0.5),
        "post_p95_s": _quantile(post, 0.95),
        "throttled_429": sum(t for _, _, _, t in uploaded.values()),
        "documents_retried": sum(1 for r in rows.values() if r.attempts > 1),
        "failed_seen": failed_seen,
        "statuses": dict(Counter(r.status for r in rows.values())),
        "warnings": dict(Counter(w for r in rows.values() for w in r.warnings)),
        "cpu_s": cpu,
        "other_cpu_s": monitor.other_cpu(),
        "peak_rss": monitor.peak_rss,
        "peak_rss_own": monitor.peak_rss_own,
        "load": [monitor._load_start, monitor._load_end],
        "batches": _batches(rows, wall),
        "progress": progress,
        "problems": problems,
    }
    try:
        result.update(_flow_runs_and_artifacts(layout.env["JTAI_PREFECT_API_URL"], first_start))
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        say(f"could not read flow runs and artifacts: {exc}")
    say(
        f"[{workers} worker(s)] {len(docs)} docs in {wall:.0f} s ({result['docs_per_s']:.1f}/s); "
        f"uploads {result['upload_wall_s']:.0f} s; then {result['after_last_upload_s']:.0f} s; "
        f"p50/p95 {result['latency_p50_s']:.0f}/{result['latency_p95_s']:.0f} s"
    )
    return result


# --- report --------------------------------------------------------------------------


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f}"


def _arrival_histogram(docs: list[Doc]) -> str:
    per_minute = Counter(min(9, int(d.arrival_s // 60)) for d in docs)
    return ", ".join(f"16:5{m}: {per_minute[m]}" for m in range(10))


def render(
    corpus: BurstCorpus,
    clamd: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    info: dict[str, Any],
) -> str:
    m = info["machine"]
    lines = [
        f"# Burst at a deadline, {info['date']}",
        "",
    ]
    for r in runs:
        if r["problems"]:
            lines += [
                f"**INVALID BENCHMARK: with {r['workers']} worker(s), {len(r['problems'])} "
                "documents did not end as the corpus says:**",
                "",
                *(f"- {p}" for p in r["problems"][:30]),
                "",
            ]
    lines += [
        f"Command: `{info['command']}`  ",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['ram']} RAM; {m['os']}; Python "
        f"{m['python']}, Prefect {m['prefect']}, {m['clamd']}  ",
        f"Load average (1, 5, 15 min) at start / end: {info['load_before']} / "
        f"{info['load_after']}; code under test {info['code']} at start, {info['code_after']} "
        "at the end  ",
        f"Corpus `{corpus.name}`: {len(corpus.docs)} documents, "
        f"{corpus.total_bytes / MB:.1f} MB: {corpus.mix()}  ",
        f"Simulated arrivals per minute before {DEADLINE}: {_arrival_histogram(corpus.docs)}",
        "",
        "clamd alone (fresh clamd, ClamdScanner.scan of every file in arrival order):",
        "",
        "| threads | wall s | docs/s | MB/s | clamd CPU s | other procs CPU s |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    n = len(corpus.docs)
    mb = corpus.total_bytes / MB
    for c in clamd:
        lines.append(
            f"| {c['threads']} | {c['wall_s']:.1f} | {n / c['wall_s']:.1f} | "
            f"{mb / c['wall_s']:.1f} | {c['cpu_s']['clamd']:.1f} | {c['other_cpu_s']:.1f} |"
        )
    if runs:
        lines += [
            "",
            "Pipeline on the scaled layout (time from the first upload's start; 'final' is the "
            "last decided_at):",
            "",
            "| workers | uploads s | upload docs/s | final when uploads done | last upload to "
            "all final s | first upload to all final s | docs/s | MB/s | latency p50 s | p95 s "
            "| max s |",
            "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for r in runs:
            lines.append(
                f"| {r['workers']} | {r['upload_wall_s']:.1f} | {r['upload_docs_per_s']:.1f} | "
                f"{r['final_when_uploads_done']} | {r['after_last_upload_s']:.1f} | "
                f"{r['wall_s']:.1f} | {r['docs_per_s']:.2f} | {r['mb_per_s']:.2f} | "
                f"{r['latency_p50_s']:.1f} | {r['latency_p95_s']:.1f} | "
                f"{r['latency_max_s']:.1f} |"
            )
        names = sorted(
            {k for r in runs for k in r["cpu_s"]}, key=lambda k: (k.startswith("clamd"), k)
        )
        lines += [
            "",
            "CPU seconds over the run (each process with its children) and 'other procs' (the "
            "machine's busy CPU outside these processes):",
            "",
            "| workers | " + " | ".join(names) + " | other procs | total |",
            "|--:|" + "--:|" * (len(names) + 2),
        ]
        for r in runs:
            total = sum(r["cpu_s"].values()) + r["other_cpu_s"]
            lines.append(
                f"| {r['workers']} | "
                + " | ".join(f"{r['cpu_s'].get(k, 0):.1f}" for k in names)
                + f" | {r['other_cpu_s']:.1f} | {total:.1f} |"
            )
        lines += [
            "",
            "Peak RSS, MiB (process with its children; the process alone in brackets):",
            "",
            "| workers | " + " | ".join(names) + " |",
            "|--:|" + "--:|" * len(names),
        ]
        for r in runs:
            lines.append(
                f"| {r['workers']} | "
                + " | ".join(
                    f"{_mib(r['peak_rss'].get(k, 0))} ({_mib(r['peak_rss_own'].get(k, 0))})"
                    for k in names
                )
                + " |"
            )
        lines += ["", "Details:", ""]
        for r in runs:
            b = r["batches"]
            lines.append(
                f"- {r['workers']} worker(s): POST p50/p95 {r['post_p50_s'] * 1000:.0f}/"
                f"{r['post_p95_s'] * 1000:.0f} ms; 429s {r['throttled_429']}; batches "
                f"{b['count']} (sizes {b['size_min']}/{b['size_median']}/{b['size_max']}), "
                f"{b['busy_slots_mean']:.2f} in flight on average; flow runs "
                f"{r.get('flow_runs')} {r.get('flow_run_states')}, "
                f"{r.get('flow_run_seconds', 0):.0f} s of flow-run time; process_document "
                f"{r.get('process_document_s', 0):.0f} s in all (p50/p95 "
                f"{r.get('process_document_p50_ms')}/{r.get('process_document_p95_ms')} ms); "
                f"retried {r['documents_retried']}, seen failed {r['failed_seen']}; statuses "
                f"{r['statuses']}; warnings {r['warnings']}; load average "
                f"{' '.join(f'{x:.2f}' for x in r['load'][0])} -> "
                f"{' '.join(f'{x:.2f}' for x in r['load'][1])}"
            )
    lines += ["", "Against the targets:", ""]
    clamd_by = {c["threads"]: c["wall_s"] for c in clamd}
    for r in runs:
        after = r["after_last_upload_s"]
        verdict = "met" if after <= TARGET_AFTER_LAST_UPLOAD_S else "MISSED"
        lines.append(
            f"- {r['workers']} worker(s): all final {after:.0f} s after the last upload "
            f"(target <= {TARGET_AFTER_LAST_UPLOAD_S:.0f} s): {verdict}"
        )
        for threads, seconds in sorted(clamd_by.items()):
            ratio = r["wall_s"] / seconds
            verdict = "met" if ratio <= TARGET_OVER_CLAMD else "MISSED"
            lines.append(
                f"  - pipeline {r['wall_s']:.0f} s / clamd alone with {threads} thread(s) "
                f"{seconds:.0f} s = {ratio:.2f} (target <= {TARGET_OVER_CLAMD}): {verdict}"
            )
    if len(runs) >= 2:
        base = runs[0]
        for r in runs[1:]:
            lines.append(
                f"- {base['workers']} -> {r['workers']} workers: throughput x"
                f"{r['docs_per_s'] / base['docs_per_s']:.2f}"
            )
    return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------------


@contextlib.contextmanager
def _work_dir(keep: Callable[[], bool]) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="jtai-burst-"))
    ok = False
    try:
        yield work
        ok = True
    finally:
        if ok and not keep():
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"logs and state kept in {work}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--threads", type=int, default=8, help="upload client threads")
    parser.add_argument("--seed", type=int, default=20240910)
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="replay the simulated arrival times this many times faster (0: as fast as the "
        "API takes them)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds after the last upload to give up"
    )
    parser.add_argument(
        "--moto-as-is",
        action="store_true",
        help="run the dev S3 server unpatched (JTAI_DEV_S3_AS_IS=1): its version listing "
        "copies the whole bucket",
    )
    parser.add_argument("--skip-clamd", action="store_true", help="do not time clamd alone")
    parser.add_argument("--keep", action="store_true", help="keep logs and state")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w]
    stamp, info = run_info("bench.burst", argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    corpus = build_corpus(args.documents, args.seed)
    say(f"corpus {corpus.name}: {len(corpus.docs)} files, {corpus.total_bytes / MB:.1f} MB")
    clamd: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []

    def keep() -> bool:  # logs are kept when asked, or when a document ended wrongly
        return bool(args.keep or any(r["problems"] for r in runs))

    try:
        with _work_dir(keep) as work:
            if not args.skip_clamd:
                for threads in (1, 2):
                    say(f"clamd alone, {threads} thread(s)")
                    clamd.append(clamd_alone(corpus, work, threads))
                    say(f"clamd alone, {threads} thread(s): {clamd[-1]['wall_s']:.1f} s")
            for count in workers:
                layout_dir = work / f"layout-{count}"
                runs.append(
                    run_pipeline(
                        corpus,
                        count,
                        layout_dir,
                        args.threads,
                        args.timeout,
                        args.pace,
                        args.moto_as_is,
                    )
                )
    except BenchmarkInvalid as exc:
        say(f"INVALID BENCHMARK: {exc}")
        return 1
    finally:
        Proc.stop_all()
    invalid = [p for r in runs for p in r["problems"]]
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["code_after"] = code_fingerprint()
    report = render(corpus, clamd, runs, info)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{stamp}-burst.md").write_text(report)
    raw = {"info": info, "corpus": corpus.name, "clamd_alone": clamd, "runs": runs}
    (RESULTS_DIR / f"{stamp}-burst.json").write_text(json.dumps(raw, indent=1, default=str))
    print()
    print(report)
    say(f"written to {RESULTS_DIR / f'{stamp}-burst.md'}")
    if invalid:
        say(f"INVALID BENCHMARK: {len(invalid)} documents did not end as the corpus says")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
