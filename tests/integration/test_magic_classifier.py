"""MagicClassifier with the real libmagic on every sample, decided against the shipped policy."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from portal.adapters.magic_classifier import MagicClassifier
from portal.adapters.policy_files import load_file_type_policy
from portal.domain.documents import Outcome
from portal.domain.file_types import FileFacts, FileTypeDecision, decide_file_type
from portal.domain.reasons import ReasonCode
from tests import samples

POLICY = load_file_type_policy(Path(__file__).resolve().parents[2] / "policies" / "file_types.yaml")
CLASSIFIER = MagicClassifier()

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def classify(tmp_path: Path, data: bytes, filename: str) -> tuple[FileFacts, FileTypeDecision]:
    # Stored under a neutral name, as the store keeps it: only `filename` carries the name.
    path = tmp_path / "upload"
    path.write_bytes(data)
    facts = CLASSIFIER.classify(path, filename)
    return facts, decide_file_type(facts, POLICY)


def reason(decision: FileTypeDecision) -> ReasonCode | None:
    assert decision.verdict.outcome is Outcome.reject
    return decision.verdict.reason


@pytest.mark.parametrize(
    ("make", "filename", "mime_type", "file_type"),
    [
        (lambda: samples.pdf_of_size(20_000), "report.pdf", "application/pdf", "pdf"),
        (samples.pdf_with_active_content, "active.pdf", "application/pdf", "pdf"),
        (samples.docx, "plan.docx", DOCX, "docx"),
        (
            samples.xlsx,
            "figures.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        (samples.odt, "minutes.odt", "application/vnd.oasis.opendocument.text", "odt"),
        (samples.ods, "figures.ods", "application/vnd.oasis.opendocument.spreadsheet", "ods"),
        (samples.csv_text, "children.csv", "text/csv", "csv"),
        (samples.plain_text, "note.txt", "text/plain", "txt"),
        (samples.png, "scan.png", "image/png", "png"),
        (samples.jpeg, "photo.jpg", "image/jpeg", "jpeg"),
        (samples.jpeg, "photo.JPEG", "image/jpeg", "jpeg"),
    ],
)
def test_types_each_allowed_sample_from_its_bytes(
    tmp_path: Path, make: Callable[[], bytes], filename: str, mime_type: str, file_type: str
) -> None:
    data = make()

    facts, decision = classify(tmp_path, data, filename)

    assert facts.mime_type == mime_type
    assert facts.size_bytes == len(data)
    assert facts.filename == filename
    assert not facts.encrypted_container
    assert decision.verdict.outcome is Outcome.proceed
    assert decision.file_type == file_type


def test_types_docx_by_its_parts_when_libmagic_sees_only_a_zip(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.docx(content_types_first=False), "plan.docx")

    assert facts.mime_type == DOCX
    assert "word/document.xml" in facts.container_members
    assert decision.file_type == "docx"


def test_types_odt_by_its_manifest_when_mimetype_is_not_first(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.odt(mimetype_first=False), "minutes.odt")

    assert facts.mime_type == "application/vnd.oasis.opendocument.text"
    assert decision.file_type == "odt"


def test_lists_the_members_of_a_zip_based_document(tmp_path: Path) -> None:
    facts, _ = classify(tmp_path, samples.docx(), "plan.docx")

    assert set(facts.container_members) == {
        "[Content_Types].xml",
        "_rels/.rels",
        "word/document.xml",
    }


def test_lists_no_members_for_files_that_are_not_zips(tmp_path: Path) -> None:
    facts, _ = classify(tmp_path, samples.pdf_text_pages(), "report.pdf")

    assert facts.container_members == ()


@pytest.mark.parametrize(
    ("make", "description"),
    [(samples.pe_executable, "PE32 executable"), (samples.elf_executable, "ELF 64-bit")],
)
def test_rejects_executable_named_pdf(
    tmp_path: Path, make: Callable[[], bytes], description: str
) -> None:
    facts, decision = classify(tmp_path, make(), "report.pdf")

    assert reason(decision) is ReasonCode.file_type_not_allowed
    assert facts.extension == "pdf"
    assert facts.description.startswith(description)
    assert description in decision.verdict.detail


def test_rejects_elf_binary_named_pdf(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.elf_executable(), "scan.pdf")

    assert facts.mime_type == "application/x-executable"
    assert reason(decision) is ReasonCode.file_type_not_allowed


def test_types_the_same_bytes_the_same_whatever_the_name(tmp_path: Path) -> None:
    data = samples.pe_executable()

    mimes = {classify(tmp_path, data, name)[0].mime_type for name in ("a.pdf", "a.txt", "a.exe")}

    assert mimes == {"application/vnd.microsoft.portable-executable"}


@pytest.mark.parametrize(
    ("make", "filename"),
    [
        (samples.eicar_zip, "files.zip"),
        (samples.eicar_nested_zip, "files.zip"),
        (samples.eicar_zip, "report.pdf"),
    ],
)
def test_rejects_zip_archive(tmp_path: Path, make: Callable[[], bytes], filename: str) -> None:
    facts, decision = classify(tmp_path, make(), filename)

    assert facts.mime_type == "application/zip"
    assert facts.container_members
    assert reason(decision) is ReasonCode.archive_not_allowed


def test_rejects_zip_that_only_looks_like_a_word_document_as_an_archive(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.fake_docx(), "plan.docx")

    assert facts.mime_type == "application/zip"
    assert "word/setup.exe" in facts.container_members
    assert reason(decision) is ReasonCode.archive_not_allowed


@pytest.mark.parametrize("filename", ["plan.docm", "plan.docx"])
def test_rejects_macro_enabled_word_document(tmp_path: Path, filename: str) -> None:
    facts, decision = classify(tmp_path, samples.docm(), filename)

    assert facts.mime_type == "application/vnd.ms-word.document.macroenabled.12"
    assert reason(decision) is ReasonCode.macros_not_allowed


def test_rejects_opendocument_with_basic_macros(tmp_path: Path) -> None:
    _, decision = classify(tmp_path, samples.odt(with_macros=True), "minutes.odt")

    assert reason(decision) is ReasonCode.macros_not_allowed


def test_rejects_password_protected_word_file_as_encrypted(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.office_encrypted(), "plan.docx")

    assert facts.encrypted_container
    assert facts.description == "CDFV2 Encrypted"
    assert reason(decision) is ReasonCode.encrypted


def test_rejects_password_protected_opendocument_as_encrypted(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.odt(password_protected=True), "minutes.odt")

    assert facts.encrypted_container
    assert reason(decision) is ReasonCode.encrypted


def test_rejects_truncated_word_document_as_corrupt(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.docx()[:400], "plan.docx")

    assert facts.unreadable_container
    assert reason(decision) is ReasonCode.corrupt


def test_rejects_word_document_with_a_damaged_central_directory_offset_as_corrupt(
    tmp_path: Path,
) -> None:
    data = bytearray(samples.docx())
    end_record = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, end_record + 16, 0x82000000)  # offset of the central directory

    facts, decision = classify(tmp_path, bytes(data), "plan.docx")

    assert facts.unreadable_container
    assert reason(decision) is ReasonCode.corrupt


def test_rejects_pdf_named_docx_as_type_mismatch(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.pdf_text_pages(), "plan.docx")

    assert facts.mime_type == "application/pdf"
    assert reason(decision) is ReasonCode.type_mismatch


def test_rejects_csv_named_xlsx_as_type_mismatch(tmp_path: Path) -> None:
    _, decision = classify(tmp_path, samples.csv_text(), "children.xlsx")

    assert reason(decision) is ReasonCode.type_mismatch


def test_accepts_csv_contents_named_txt_as_plain_text(tmp_path: Path) -> None:
    _, decision = classify(tmp_path, samples.csv_text(), "children.txt")

    assert decision.file_type == "txt"


@pytest.mark.parametrize(
    ("make", "filename", "mime_type"),
    [
        (samples.html, "page.html", "text/html"),
        (samples.html, "page.txt", "text/html"),
        (samples.svg, "logo.svg", "image/svg+xml"),
        (samples.svg, "logo.png", "image/svg+xml"),
        (samples.shell_script, "run.sh", "text/x-shellscript"),
        (samples.shell_script, "run.txt", "text/x-shellscript"),
        (samples.random_bytes, "data.pdf", "application/octet-stream"),
    ],
)
def test_rejects_html_svg_scripts_and_unknown_data(
    tmp_path: Path, make: Callable[[], bytes], filename: str, mime_type: str
) -> None:
    facts, decision = classify(tmp_path, make(), filename)

    assert facts.mime_type == mime_type
    assert reason(decision) is ReasonCode.file_type_not_allowed


def test_rejects_empty_file(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, b"", "report.pdf")

    assert facts.size_bytes == 0
    assert reason(decision) is ReasonCode.empty_file


def test_classifies_the_target_of_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "stored"
    target.write_bytes(samples.png())
    link = tmp_path / "link"
    link.symlink_to(target)

    facts = CLASSIFIER.classify(link, "scan.png")

    assert facts.mime_type == "image/png"


def test_a_pdf_with_a_zip_joined_to_it_is_found_to_be_a_zip_too(tmp_path: Path) -> None:
    facts, decision = classify(tmp_path, samples.pdf_zip_polyglot(), "minutes.pdf")

    assert facts.mime_type == "application/pdf"
    assert facts.also_zip
    assert reason(decision) is ReasonCode.type_mismatch


@pytest.mark.parametrize(
    "make", [lambda: samples.pdf_of_size(200_000), samples.pdf_with_active_content, samples.png]
)
def test_an_ordinary_pdf_or_image_is_not_taken_for_a_zip(
    tmp_path: Path, make: Callable[[], bytes]
) -> None:
    facts, _ = classify(tmp_path, make(), "file.pdf")

    assert not facts.also_zip
