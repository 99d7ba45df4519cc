"""decide_file_type on hand-written facts (no libmagic), against the shipped policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from portal.adapters.policy_files import PolicyFileError, load_file_type_policy
from portal.domain.documents import Outcome
from portal.domain.file_types import (
    FileFacts,
    FileTypeDecision,
    FileTypePolicy,
    decide_file_type,
    extension_of,
)
from portal.domain.reasons import ReasonCode

POLICY_FILE = Path(__file__).resolve().parents[2] / "policies" / "file_types.yaml"
POLICY = load_file_type_policy(POLICY_FILE)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCM = "application/vnd.ms-word.document.macroenabled.12"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"


def facts(
    filename: str,
    mime_type: str,
    description: str = "some file",
    *,
    size_bytes: int = 1234,
    members: tuple[str, ...] = (),
    encrypted: bool = False,
    unreadable: bool = False,
) -> FileFacts:
    return FileFacts(
        filename=filename,
        extension=extension_of(filename),
        size_bytes=size_bytes,
        mime_type=mime_type,
        description=description,
        container_members=members,
        encrypted_container=encrypted,
        unreadable_container=unreadable,
    )


def rejected_for(decision: FileTypeDecision) -> ReasonCode | None:
    assert decision.verdict.outcome is Outcome.reject
    assert decision.file_type is None
    return decision.verdict.reason


@pytest.mark.parametrize(
    ("filename", "mime_type", "file_type"),
    [
        ("report.pdf", PDF, "pdf"),
        ("plan.docx", DOCX, "docx"),
        ("figures.xlsx", XLSX, "xlsx"),
        ("minutes.odt", ODT, "odt"),
        ("figures.ods", ODS, "ods"),
        ("children.csv", "text/csv", "csv"),
        ("note.txt", "text/plain", "txt"),
        ("scan.png", "image/png", "png"),
        ("photo.jpg", "image/jpeg", "jpeg"),
        ("photo.jpeg", "image/jpeg", "jpeg"),
    ],
)
def test_accepts_each_default_type_under_its_own_extension(
    filename: str, mime_type: str, file_type: str
) -> None:
    decision = decide_file_type(facts(filename, mime_type), POLICY)

    assert decision.verdict.outcome is Outcome.proceed
    assert decision.verdict.reason is None
    assert decision.file_type == file_type


def test_accepts_uppercase_extension_and_mime_type() -> None:
    decision = decide_file_type(facts("SCAN.PDF", "Application/PDF"), POLICY)

    assert decision.file_type == "pdf"


@pytest.mark.parametrize(
    ("filename", "mime_type", "file_type"),
    [
        ("list.csv", "text/plain", "csv"),
        ("list.csv", "text/csv", "csv"),
        ("note.txt", "text/csv", "txt"),
        ("note.txt", "text/plain", "txt"),
    ],
)
def test_lets_the_extension_pick_between_csv_and_plain_text(
    filename: str, mime_type: str, file_type: str
) -> None:
    assert decide_file_type(facts(filename, mime_type), POLICY).file_type == file_type


def test_rejects_empty_file_before_anything_else() -> None:
    empty = facts("report.pdf", "inode/x-empty", "empty", size_bytes=0, encrypted=True)

    assert rejected_for(decide_file_type(empty, POLICY)) is ReasonCode.empty_file


def test_rejects_password_protected_office_file_as_encrypted() -> None:
    locked = facts("plan.docx", "application/encrypted", "CDFV2 Encrypted", encrypted=True)

    assert rejected_for(decide_file_type(locked, POLICY)) is ReasonCode.encrypted


def test_rejects_password_protected_opendocument_as_encrypted() -> None:
    locked = facts("minutes.odt", ODT, "OpenDocument Text", members=("mimetype",), encrypted=True)

    assert rejected_for(decide_file_type(locked, POLICY)) is ReasonCode.encrypted


def test_rejects_zip_based_file_whose_members_cannot_be_read_as_corrupt() -> None:
    broken = facts("plan.docx", "application/zip", "Zip archive data", unreadable=True)

    assert rejected_for(decide_file_type(broken, POLICY)) is ReasonCode.corrupt


@pytest.mark.parametrize("filename", ["plan.docm", "plan.docx"])
def test_rejects_macro_enabled_word_document_whatever_its_name(filename: str) -> None:
    docm = facts(filename, DOCM, "Microsoft Word 2007+ macro-enabled document")

    assert rejected_for(decide_file_type(docm, POLICY)) is ReasonCode.macros_not_allowed


def test_rejects_document_holding_a_vba_project_even_when_typed_docx() -> None:
    members = ("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin")

    decision = decide_file_type(facts("plan.docx", DOCX, members=members), POLICY)

    assert rejected_for(decision) is ReasonCode.macros_not_allowed
    assert "word/vbaProject.bin" in decision.verdict.detail


def test_rejects_spreadsheet_with_excel4_macro_sheets() -> None:
    members = ("[Content_Types].xml", "xl/workbook.xml", "xl/macrosheets/sheet1.xml")

    assert rejected_for(decide_file_type(facts("a.xlsx", XLSX, members=members), POLICY)) is (
        ReasonCode.macros_not_allowed
    )


def test_rejects_opendocument_with_basic_macros() -> None:
    members = ("mimetype", "content.xml", "Basic/Standard/Module1.xml")

    assert rejected_for(decide_file_type(facts("a.odt", ODT, members=members), POLICY)) is (
        ReasonCode.macros_not_allowed
    )


def test_does_not_mistake_a_folder_named_basic_deep_inside_for_macros() -> None:
    members = ("mimetype", "content.xml", "Pictures/Basic/logo.png")

    assert decide_file_type(facts("a.odt", ODT, members=members), POLICY).file_type == "odt"


@pytest.mark.parametrize(
    ("filename", "mime_type"),
    [
        ("files.zip", "application/zip"),
        ("files.7z", "application/x-7z-compressed"),
        ("files.rar", "application/x-rar"),
        ("files.gz", "application/gzip"),
        ("files.tar", "application/x-tar"),
        ("files.bz2", "application/x-bzip2"),
        ("files.xz", "application/x-xz"),
        ("files.pdf", "application/zip"),
    ],
)
def test_rejects_archives(filename: str, mime_type: str) -> None:
    decision = decide_file_type(facts(filename, mime_type, "archive data"), POLICY)

    assert rejected_for(decision) is ReasonCode.archive_not_allowed


def test_rejects_zip_holding_macro_looking_members_as_an_archive() -> None:
    members = ("Basic/readme.txt", "vbaProject.bin")
    zipped = facts("files.zip", "application/zip", "Zip archive data", members=members)

    assert rejected_for(decide_file_type(zipped, POLICY)) is ReasonCode.archive_not_allowed


@pytest.mark.parametrize(
    ("mime_type", "description"),
    [
        ("application/vnd.microsoft.portable-executable", "PE32 executable (console) Intel 80386"),
        ("application/x-executable", "ELF 64-bit LSB executable"),
        ("application/x-sharedlib", "ELF 64-bit LSB pie executable"),
    ],
)
def test_rejects_executable_named_pdf_as_not_allowed(mime_type: str, description: str) -> None:
    decision = decide_file_type(facts("report.pdf", mime_type, description), POLICY)

    assert rejected_for(decision) is ReasonCode.file_type_not_allowed
    assert description in decision.verdict.detail


@pytest.mark.parametrize(
    ("filename", "mime_type"),
    [
        ("page.html", "text/html"),
        ("logo.svg", "image/svg+xml"),
        ("run.sh", "text/x-shellscript"),
        ("run.txt", "text/x-shellscript"),
        ("old.doc", "application/msword"),
        ("blob.bin", "application/octet-stream"),
    ],
)
def test_rejects_kinds_of_file_not_on_the_allowlist(filename: str, mime_type: str) -> None:
    decision = decide_file_type(facts(filename, mime_type), POLICY)

    assert rejected_for(decision) is ReasonCode.file_type_not_allowed


def test_rejects_pdf_named_docx_as_type_mismatch_without_naming_the_file() -> None:
    decision = decide_file_type(facts("Jane Example plan.docx", PDF, "PDF document"), POLICY)

    assert rejected_for(decision) is ReasonCode.type_mismatch
    assert ".pdf" in decision.verdict.detail
    assert ".docx" in decision.verdict.detail
    assert "Jane" not in decision.verdict.detail


def test_rejects_allowed_contents_without_an_extension_as_type_mismatch() -> None:
    decision = decide_file_type(facts("scan", "image/png", "PNG image data"), POLICY)

    assert rejected_for(decision) is ReasonCode.type_mismatch
    assert "no extension" in decision.verdict.detail


def test_rejects_csv_contents_named_xlsx_as_type_mismatch() -> None:
    decision = decide_file_type(facts("children.xlsx", "text/csv", "CSV text"), POLICY)

    assert rejected_for(decision) is ReasonCode.type_mismatch


@pytest.mark.parametrize(
    ("filename", "extension"),
    [
        ("Report.PDF", "pdf"),
        ("archive.tar.gz", "gz"),
        ("C:\\Users\\jo\\plan.DocX", "docx"),
        ("folder.v2/notes", ""),
        (".bashrc", ""),
        ("notes", ""),
        ("notes.", ""),
        ("notes.p-d-f", ""),
    ],
)
def test_takes_the_extension_from_the_last_name_segment_only(filename: str, extension: str) -> None:
    assert extension_of(filename) == extension


def test_shipped_policy_allows_exactly_the_default_types() -> None:
    assert [t.code for t in POLICY.allowed] == [
        "pdf",
        "docx",
        "xlsx",
        "odt",
        "ods",
        "csv",
        "txt",
        "png",
        "jpeg",
    ]
    pdf = POLICY.type_by_code("pdf")
    assert pdf is not None and pdf.is_pdf
    assert [t.code for t in POLICY.allowed if t.is_pdf] == ["pdf"]


def _policy_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "allowed": [
            {"code": "pdf", "label": "PDF", "mime_types": [PDF], "extensions": ["pdf"]},
            {"code": "txt", "label": "Text", "mime_types": ["text/plain"], "extensions": ["txt"]},
        ],
        "archive_mime_types": ["application/zip"],
        "macro_mime_types": [DOCM],
        "macro_member_markers": ["vbaProject.bin"],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes",
    [
        {"allowed": []},
        {
            "allowed": [
                {"code": "a", "label": "A", "mime_types": [PDF], "extensions": ["pdf"]},
                {"code": "b", "label": "B", "mime_types": ["text/plain"], "extensions": ["pdf"]},
            ]
        },
        {
            "allowed": [
                {"code": "a", "label": "A", "mime_types": [PDF], "extensions": ["pdf"]},
                {"code": "a", "label": "B", "mime_types": ["text/plain"], "extensions": ["txt"]},
            ]
        },
        {"allowed": [{"code": "a", "label": "A", "mime_types": [PDF], "extensions": [".pdf"]}]},
        {
            "allowed": [
                {
                    "code": "a",
                    "label": "A",
                    "mime_types": ["Application/PDF"],
                    "extensions": ["pdf"],
                }
            ]
        },
        {"archive_mime_types": [PDF]},
        {"macro_mime_types": ["not a mime type"]},
        {"surprise": True},
    ],
)
def test_policy_refuses_inconsistent_or_unknown_settings(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FileTypePolicy.model_validate(_policy_data(**changes))


def test_policy_loader_names_the_file_when_the_yaml_is_broken(tmp_path: Path) -> None:
    broken = tmp_path / "file_types.yaml"
    broken.write_text("allowed: [unclosed\n", encoding="utf-8")

    with pytest.raises(PolicyFileError, match=str(broken)):
        load_file_type_policy(broken)


def test_policy_loader_names_the_file_when_the_policy_is_invalid(tmp_path: Path) -> None:
    invalid = tmp_path / "file_types.yaml"
    invalid.write_text("allowed: []\narchive_mime_types: []\n", encoding="utf-8")

    with pytest.raises(PolicyFileError, match=str(invalid)):
        load_file_type_policy(invalid)


def test_policy_loader_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(PolicyFileError, match=str(missing)):
        load_file_type_policy(missing)


@pytest.mark.parametrize(
    ("filename", "mime_type"), [("minutes.pdf", PDF), ("scan.png", "image/png")]
)
def test_rejects_an_allowed_file_that_is_also_a_zip_as_type_mismatch(
    filename: str, mime_type: str
) -> None:
    polyglot = facts(filename, mime_type).model_copy(update={"also_zip": True})

    decision = decide_file_type(polyglot, POLICY)

    assert rejected_for(decision) is ReasonCode.type_mismatch
    assert "zip" in decision.verdict.detail


def test_an_executable_that_is_also_a_zip_is_still_not_an_allowed_kind_of_file() -> None:
    self_extracting = facts("setup.pdf", "application/x-dosexec").model_copy(
        update={"also_zip": True}
    )

    assert rejected_for(decide_file_type(self_extracting, POLICY)) is (
        ReasonCode.file_type_not_allowed
    )
