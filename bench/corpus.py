"""The benchmark corpus: deterministic files, generated once into bench/.corpus and reused.

Two sets per corpus: `throughput` (uploaded all at once) and `latency` (uploaded one at a
time). Every file's bytes are different from every other file's: clamd caches the verdict
of clean files by hash, so a repeated file would be scanned for free and flatter the
numbers. The mix is mostly text PDFs of 50 kB to 5 MB (tests.samples.pdf_of_size), Word and
Excel documents with an incompressible image-like member, CSV lists, PDFs with active
content (sanitised, accepted with warnings), EICAR files (rejected as infected) and, in
the full corpus, a ~60 MB PDF and a ~150 MB CSV.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pikepdf

from tests import samples

CACHE_DIR = Path(__file__).resolve().parent / ".corpus"
GENERATOR_VERSION = 1
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Spec:
    """One file to generate: what it is, about how big, and what the portal must decide."""

    name: str  # the filename the agency uploads
    kind: str  # pdf | active_pdf | docx | xlsx | csv | eicar | eicar_pdf
    size: int  # target size in bytes (the generators land within a few percent)
    expected: str = "accepted"  # accepted | rejected
    reason: str | None = None  # the reason code a rejected file must carry
    warning: str | None = None  # a warning code an accepted file must carry


@dataclass(frozen=True)
class CorpusFile:
    """One generated file on disk."""

    name: str
    kind: str
    path: Path
    size: int
    sha256: str
    expected: str
    reason: str | None
    warning: str | None

    @property
    def is_big(self) -> bool:
        return self.size > 50 * 1024 * 1024


@dataclass(frozen=True)
class Corpus:
    """The generated files of one corpus."""

    name: str
    directory: Path
    throughput: list[CorpusFile]
    latency: list[CorpusFile]

    @property
    def throughput_bytes(self) -> int:
        return sum(f.size for f in self.throughput)


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return round(math.exp(rng.uniform(math.log(low), math.log(high))) / 1000) * 1000


def _specs(quick: bool) -> tuple[list[Spec], list[Spec]]:
    """The throughput and latency sets, in upload order (a fixed shuffle)."""
    rng = random.Random(20240912)
    n_pdf, pdf_max, n_active, n_docx, n_xlsx, n_csv, n_latency = (
        (20, 2_000_000, 3, 2, 2, 1, 10) if quick else (150, 5_000_000, 12, 14, 10, 10, 30)
    )
    throughput: list[Spec] = []
    throughput += [
        Spec(f"case-notes-{i:03d}.pdf", "pdf", _log_uniform(rng, 50_000, pdf_max))
        for i in range(n_pdf)
    ]
    throughput += [
        Spec(f"plan-{i:03d}.pdf", "active_pdf", 0, warning="active_content_removed")
        for i in range(n_active)
    ]
    throughput += [
        Spec(f"report-{i:03d}.docx", "docx", _log_uniform(rng, 20_000, 1_000_000))
        for i in range(n_docx)
    ]
    throughput += [
        Spec(f"figures-{i:03d}.xlsx", "xlsx", _log_uniform(rng, 10_000, 500_000))
        for i in range(n_xlsx)
    ]
    throughput += [
        Spec(f"children-{i:03d}.csv", "csv", _log_uniform(rng, 10_000, 2_000_000))
        for i in range(n_csv)
    ]
    throughput += [
        Spec("notes-eicar.txt", "eicar", 68, expected="rejected", reason="infected"),
        Spec("attachment-eicar.pdf", "eicar_pdf", 0, expected="rejected", reason="infected"),
    ]
    if not quick:
        throughput += [
            Spec("big-scan-bundle.pdf", "pdf", 60_000_000),
            Spec("big-children-list.csv", "csv", 150_000_000),
        ]
    rng.shuffle(throughput)
    # The latency set always holds one file at the 5 MB bound of the target.
    latency: list[Spec] = [Spec("lat-notes-5mb.pdf", "pdf", 5_000_000)]
    for i in range(1, n_latency):
        if i % 10 == 3:
            latency.append(
                Spec(f"lat-report-{i:02d}.docx", "docx", _log_uniform(rng, 20_000, 1_000_000))
            )
        elif i % 10 == 7:
            latency.append(
                Spec(f"lat-figures-{i:02d}.xlsx", "xlsx", _log_uniform(rng, 10_000, 500_000))
            )
        else:
            latency.append(
                Spec(f"lat-notes-{i:02d}.pdf", "pdf", _log_uniform(rng, 50_000, 5_000_000))
            )
    return throughput, latency


# --- generators ----------------------------------------------------------------------


def _pdf(spec: Spec, index: int) -> bytes:
    return samples.pdf_of_size(spec.size)


def _active_pdf(spec: Spec, index: int) -> bytes:
    """samples.pdf_with_active_content with a numbered title, so each copy is unique."""
    with pikepdf.open(io.BytesIO(samples.pdf_with_active_content())) as pdf:
        pdf.docinfo.Title = pikepdf.String(f"Jane Example case notes {index}")
        out = io.BytesIO()
        pdf.save(
            out,
            compress_streams=True,
            deterministic_id=True,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
        return out.getvalue()


def _zip_replacing(base: bytes, replace: dict[str, bytes]) -> bytes:
    """Rewrite the zip `base` with some members replaced or added (fixed timestamps)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        names = [i.filename for i in source.infolist()]
        for name in names + [n for n in replace if n not in names]:
            data = replace[name] if name in replace else source.read(name)
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            # Media members are stored, as Office stores images it cannot compress further.
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".bin") else zipfile.ZIP_DEFLATED
            )
            target.writestr(info, data)
    return out.getvalue()


def _docx(spec: Spec, index: int) -> bytes:
    """samples.docx with numbered paragraphs and an image-like member: ~70 % media."""
    rng = random.Random(f"docx-{spec.name}")
    sentences = [
        f"Paragraph {p} of report {index}: the review found actions were completed "
        f"on time and the child was seen alone on visit {p}."
        for p in range(200)
    ]
    body = "".join(f"<w:p><w:r><w:t>{s}</w:t></w:r></w:p>" for s in sentences)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    ).encode()
    media = rng.randbytes(max(1000, spec.size - 6000))
    return _zip_replacing(
        samples.docx(), {"word/document.xml": document, "word/media/image1.bin": media}
    )


def _xlsx(spec: Spec, index: int) -> bytes:
    """samples.xlsx with a sheet of numbers big enough to compress to about `spec.size`."""
    rng = random.Random(f"xlsx-{spec.name}")

    def sheet(rows: int) -> bytes:
        cells = "".join(
            f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>C{index:03d}{r:06d}</t></is></c>'
            f'<c r="B{r}"><v>{rng.randint(0, 17)}</v></c>'
            f'<c r="C{r}"><v>{rng.random():.6f}</v></c></row>'
            for r in range(1, rows + 1)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{cells}</sheetData></worksheet>"
        ).encode()

    rows = max(10, spec.size // 12)
    data = _zip_replacing(samples.xlsx(), {"xl/worksheets/sheet1.xml": sheet(rows)})
    rows = max(10, round(rows * spec.size / len(data)))
    return _zip_replacing(samples.xlsx(), {"xl/worksheets/sheet1.xml": sheet(rows)})


_AGENCIES = ("police", "health", "local_authority", "education", "probation")
_OUTCOMES = ("NFA", "CIN", "CP", "EH", "LAC")
_NOTES = (
    "visit completed",
    "strategy meeting held",
    "referred to MARAC",
    "school informed",
    "health visitor contacted",
    "no further action",
)


def _csv(spec: Spec, index: int) -> bytes:
    """A children list (ids, ages, dates, Y/N fields, no names) of about `spec.size`."""
    header = "child_id,age,referral_date,agency,outcome,repeat_referral,notes\n"
    parts = [header]
    size = len(header)
    row = 0
    while size < spec.size:
        row += 1
        line = (
            f"C{index:03d}{row:08d},{row * 7 % 18},2024-{row % 12 + 1:02d}-{row % 28 + 1:02d},"
            f"{_AGENCIES[row % 5]},{_OUTCOMES[row * 3 % 5]},{'YN'[row % 2]},"
            f"{_NOTES[row * 5 % 6]}\n"
        )
        parts.append(line)
        size += len(line)
    return "".join(parts).encode()


def _eicar(spec: Spec, index: int) -> bytes:
    return samples.eicar()


def _eicar_pdf(spec: Spec, index: int) -> bytes:
    return samples.eicar_pdf()


_GENERATORS: dict[str, Callable[[Spec, int], bytes]] = {
    "pdf": _pdf,
    "active_pdf": _active_pdf,
    "docx": _docx,
    "xlsx": _xlsx,
    "csv": _csv,
    "eicar": _eicar,
    "eicar_pdf": _eicar_pdf,
}


# --- building and caching ------------------------------------------------------------


def _corpus_key(throughput: list[Spec], latency: list[Spec]) -> str:
    text = json.dumps(
        [GENERATOR_VERSION, [asdict(s) for s in throughput], [asdict(s) for s in latency]],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def build(quick: bool, cache_dir: Path = CACHE_DIR, log: Callable[[str], None] = print) -> Corpus:
    """Generate the corpus (or reuse the cached one) and return its files."""
    throughput_specs, latency_specs = _specs(quick)
    name = f"{'quick' if quick else 'full'}-{_corpus_key(throughput_specs, latency_specs)}"
    directory = cache_dir / name
    manifest_path = directory / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        files = {
            role: [CorpusFile(**{**entry, "path": directory / entry["path"]}) for entry in entries]
            for role, entries in manifest.items()
        }
        if all(
            f.path.is_file() and f.path.stat().st_size == f.size
            for entries in files.values()
            for f in entries
        ):
            return Corpus(name, directory, files["throughput"], files["latency"])
        log("corpus cache incomplete; generating it again")
    directory.mkdir(parents=True, exist_ok=True)
    log(f"generating corpus {name} in {directory} (once; reused by later runs)")
    seen: set[str] = set()
    built: dict[str, list[CorpusFile]] = {}
    for role, specs in (("throughput", throughput_specs), ("latency", latency_specs)):
        built[role] = []
        for index, spec in enumerate(specs):
            data = _GENERATORS[spec.kind](spec, index)
            digest = hashlib.sha256(data).hexdigest()
            bump = 0
            while digest in seen:  # e.g. two PDFs of nearly the same size: nudge the size
                if spec.kind not in ("pdf", "csv", "docx", "xlsx"):
                    raise RuntimeError(f"{spec.name} would repeat another file's bytes")
                bump += 1
                data = _GENERATORS[spec.kind](
                    Spec(spec.name, spec.kind, spec.size + 1500 * bump), index + 1000 * bump
                )
                digest = hashlib.sha256(data).hexdigest()
            seen.add(digest)
            relative = f"{role}/{index:03d}-{spec.name}"
            (directory / role).mkdir(exist_ok=True)
            _write_atomically(directory / relative, data)
            built[role].append(
                CorpusFile(
                    name=spec.name,
                    kind=spec.kind,
                    path=directory / relative,
                    size=len(data),
                    sha256=digest,
                    expected=spec.expected,
                    reason=spec.reason,
                    warning=spec.warning,
                )
            )
    manifest = {
        role: [{**asdict(f), "path": str(f.path.relative_to(directory))} for f in entries]
        for role, entries in built.items()
    }
    _write_atomically(manifest_path, json.dumps(manifest, indent=1).encode())
    return Corpus(name, directory, built["throughput"], built["latency"])


if __name__ == "__main__":
    import sys

    corpus = build("--quick" in sys.argv)
    for role, files in (("throughput", corpus.throughput), ("latency", corpus.latency)):
        kinds: dict[str, int] = {}
        for f in files:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        total = sum(f.size for f in files)
        print(f"{role}: {len(files)} files, {total / 1e6:.1f} MB, {kinds}")
