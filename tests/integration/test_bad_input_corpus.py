"""Every file of the bad-input corpus (tests/corpus) goes through the real pipeline: uploaded
through the API under its hostile name, then scanned (clamd), classified (libmagic and the
zip inspector), sanitised (pikepdf, isolated) and checked by one ingest flow run, as the
worker runs it. Each file's verdict must be the one tests/corpus/expected.yaml gives.

The corpus is uploaded and processed once for the module (one flow run, not 59): each
parametrised test then checks one file's outcome.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pikepdf
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from pydantic import BaseModel, ConfigDict

from portal.domain.reasons import ReasonCode, WarningCode
from portal.settings import Settings
from tests.conftest import ClamdProcess
from tests.corpus.make_corpus import BUILDERS, INJECTED_CELLS, write_corpus
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

MANIFEST_PATH = Path(__file__).resolve().parents[1] / "corpus" / "expected.yaml"
CATEGORIES = (
    "malware",
    "type_confusion",
    "pdf_active_content",
    "malformed_pdf",
    "spreadsheet_injection",
    "zip_bomb",
    "hostile_name",
)
IGNORED_WARNINGS = {WarningCode.more_than_requested.value}


class Expected(BaseModel):
    """One manifest entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    category: str
    status: str
    reason: ReasonCode | None = None
    warnings: tuple[WarningCode, ...] = ()
    item: str = "1.1"
    upload_as: str | None = None
    stored_name: str | None = None
    why: str

    @property
    def filename(self) -> str:
        return self.upload_as if self.upload_as is not None else self.id


def load_manifest() -> list[Expected]:
    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    return [Expected.model_validate(entry) for entry in data["files"]]


MANIFEST = load_manifest()


@dataclass
class CorpusRun:
    portal: PortalUnderTest
    root: Path
    data_dir: Path
    document_ids: dict[str, str]
    outcomes: dict[str, dict[str, Any]]


def upload_raw(portal: PortalUnderTest, filename: str, data: bytes, item: str) -> str:
    """POST a multipart form built by hand, so the filename arrives byte for byte
    (httpx would percent-encode control characters in it)."""
    boundary = uuid.uuid4().hex
    name = filename.replace('"', "%22").encode("utf-8")
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="item"\r\n\r\n'
        f"{item}\r\n"
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + name
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/documents",
        headers={
            **portal.auth("local_authority"),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=body,
    )
    assert response.status_code == 202, response.text
    document_id: str = response.json()["id"]
    return document_id


@pytest.fixture(scope="module")
def corpus_run(
    tmp_path_factory: pytest.TempPathFactory, clamd: ClamdProcess, prefect_server: None
) -> CorpusRun:
    if not clamd.running:
        clamd.start()
    root = tmp_path_factory.mktemp("corpus-run")
    files = root / "corpus"
    write_corpus(files)
    data_dir = root / "data"
    settings = Settings(
        data_dir=data_dir,
        clamd_socket=clamd.socket,
        clamd_timeout_seconds=60,
        retry_delay_seconds=0,
        flow_retries=0,
        batch_max_documents=100,
        _env_file=None,  # type: ignore[call-arg]
    )
    portal = start_portal(build_portal(settings))
    ids = {
        entry.id: upload_raw(portal, entry.filename, (files / entry.id).read_bytes(), entry.item)
        for entry in MANIFEST
    }
    while portal.process_pending():
        pass
    outcomes = {entry_id: portal.status(document_id) for entry_id, document_id in ids.items()}
    return CorpusRun(portal, root, data_dir, ids, outcomes)


def test_the_corpus_has_at_least_40_files_in_every_category_each_with_one_expectation() -> None:
    ids = [entry.id for entry in MANIFEST]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert set(ids) == set(BUILDERS)
    assert {entry.category for entry in MANIFEST} == set(CATEGORIES)
    for entry in MANIFEST:
        assert entry.status in ("accepted", "rejected"), entry.id
        assert (entry.reason is not None) == (entry.status == "rejected"), entry.id
        assert not (entry.warnings and entry.status == "rejected"), entry.id


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry.id for entry in MANIFEST])
def test_each_corpus_file_gets_its_expected_verdict(corpus_run: CorpusRun, entry: Expected) -> None:
    outcome = corpus_run.outcomes[entry.id]
    seen = (entry.why, outcome["reasons"], outcome["warnings"], outcome.get("detail"))

    assert outcome["status"] == entry.status, seen
    reasons = [reason["code"] for reason in outcome["reasons"]]
    assert reasons == ([entry.reason.value] if entry.reason else []), seen
    warnings = {warning["code"] for warning in outcome["warnings"]} - IGNORED_WARNINGS
    assert warnings == {w.value for w in entry.warnings}, seen
    for reason in outcome["reasons"]:
        assert reason["message"], "every reason has a sentence for the uploader"


@pytest.mark.parametrize(
    "entry",
    [e for e in MANIFEST if e.category == "hostile_name"],
    ids=[e.id for e in MANIFEST if e.category == "hostile_name"],
)
def test_a_hostile_filename_is_kept_neutralised(corpus_run: CorpusRun, entry: Expected) -> None:
    stored = corpus_run.outcomes[entry.id]["filename"]

    assert stored == entry.stored_name
    assert len(stored) <= 150
    assert "/" not in stored and "\\" not in stored
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in stored)


def test_nothing_is_written_outside_the_store_whatever_the_name(corpus_run: CorpusRun) -> None:
    everything = [p.relative_to(corpus_run.root) for p in corpus_run.root.rglob("*")]
    outside = [p for p in everything if p.parts[0] not in ("corpus", "data")]
    assert outside == []
    for path in corpus_run.data_dir.rglob("*"):
        assert "passwd" not in path.name and "evil" not in path.name, path
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in path.name), path
    known = set(corpus_run.document_ids.values())
    objects = corpus_run.data_dir / "objects"
    stored = [p for p in objects.rglob("*") if p.is_file()]
    assert stored, "accepted documents are stored"
    for path in stored:
        area, inspection_id, document_id = path.relative_to(objects).parts
        assert area in ("clean", "onsite")
        assert inspection_id == corpus_run.portal.inspection_id
        assert document_id in known


def test_rejected_files_leave_nothing_readable(corpus_run: CorpusRun) -> None:
    objects = corpus_run.data_dir / "objects"
    for entry in MANIFEST:
        if entry.status == "rejected":
            document_id = corpus_run.document_ids[entry.id]
            assert not list(objects.rglob(document_id)), entry.id


def _content(corpus_run: CorpusRun, entry_id: str) -> bytes:
    portal = corpus_run.portal
    response = portal.client.get(
        f"/v1/documents/{corpus_run.document_ids[entry_id]}/content",
        headers=portal.auth("inspector"),
    )
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


def test_formula_cells_of_a_csv_list_are_stored_as_text(corpus_run: CorpusRun) -> None:
    text = _content(corpus_run, "list-formulas.csv").decode("utf-8-sig")
    cells = [row[1] for row in csv.reader(io.StringIO(text))][1:]

    assert cells == ["'" + cell for cell in INJECTED_CELLS]


def test_formula_cells_of_a_workbook_list_are_stored_as_text(corpus_run: CorpusRun) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(_content(corpus_run, "list-formulas.xlsx")))
    sheet = workbook.worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]

    assert [sheet.cell(row, 2).value for row in range(2, 7)] == [
        "'" + cell for cell in INJECTED_CELLS
    ]
    assert sheet["C2"].value == "'=cmd|x"  # the live formula's cached value, as text
    assert all(cell.data_type == "s" for cell in cells)


@pytest.mark.parametrize(
    "entry_id", [e.id for e in MANIFEST if e.status == "accepted" and e.id.endswith(".pdf")]
)
def test_an_accepted_pdf_is_stored_without_scripts_actions_or_attachments(
    corpus_run: CorpusRun, entry_id: str
) -> None:
    stored = _content(corpus_run, entry_id)
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert not pdf.attachments
        assert "/OpenAction" not in pdf.Root
    for forbidden in (
        b"/JavaScript",
        b"/JS ",
        b"/Launch",
        b"/XFA",
        b"/EmbeddedFile",
        b"PK\x03\x04",
    ):
        assert forbidden not in stored, forbidden
