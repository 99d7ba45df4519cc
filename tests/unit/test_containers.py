"""The pure rules for zip-based uploads: names, limits, archive and DTD sniffing, reasons."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from portal.domain.containers import (
    ContainerEntry,
    ContainerLimits,
    ContainerProblem,
    archive_kind,
    check_limits,
    check_names,
    in_embedding_folder,
    is_document_package,
    printable,
    reason_for,
    xml_declares_entities,
)
from portal.domain.reasons import ReasonCode, reason_sentence

MIB = 1024 * 1024
LIMITS = ContainerLimits()


def entry(name: str, compressed: int, uncompressed: int) -> ContainerEntry:
    return ContainerEntry(name=name, compressed_size=compressed, uncompressed_size=uncompressed)


@pytest.mark.parametrize(
    "name",
    [
        "../evil.xml",
        "word/../../evil.xml",
        "..\\evil.xml",
        "/etc/passwd",
        "\\server\\share.xml",
        "C:evil.xml",
        "word/docu\x00ment.xml",
        "word/doc\u202eument.xml",
        "word/\u200bdocument.xml",
        "",
    ],
)
def test_refuses_absolute_climbing_or_invisible_member_names(name: str) -> None:
    found = check_names(["[Content_Types].xml", name])

    assert found is not None
    assert found.problem is ContainerProblem.unsafe_name
    assert reason_for(found.problem) is ReasonCode.corrupt


def test_refuses_two_members_whose_names_differ_only_in_case() -> None:
    found = check_names(["word/document.xml", "Word/Document.XML"])

    assert found is not None and found.problem is ContainerProblem.duplicate_name


def test_accepts_ordinary_office_member_names() -> None:
    names = ["[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/media/image1.png"]

    assert check_names(names) is None


def test_refuses_more_entries_than_the_limit() -> None:
    entries = [entry(f"f{i}", 1, 1) for i in range(11)]

    found = check_limits(entries, LIMITS.model_copy(update={"max_entries": 10}))

    assert found is not None and found.problem is ContainerProblem.too_many_entries
    assert reason_for(found.problem) is ReasonCode.container_limits_exceeded


def test_refuses_a_member_or_a_total_inflating_past_the_limits() -> None:
    limits = LIMITS.model_copy(
        update={"max_entry_uncompressed_bytes": 10 * MIB, "max_total_uncompressed_bytes": 15 * MIB}
    )

    one = check_limits([entry("a", 10 * MIB, 11 * MIB)], limits)
    total = check_limits([entry("a", 8 * MIB, 8 * MIB), entry("b", 8 * MIB, 8 * MIB)], limits)

    assert one is not None and one.problem is ContainerProblem.too_large_unpacked
    assert total is not None and total.problem is ContainerProblem.too_large_unpacked


def test_refuses_a_member_that_inflates_more_than_the_ratio() -> None:
    found = check_limits([entry("word/media/a.png", 20_000, 20 * MIB)], LIMITS)

    assert found is not None and found.problem is ContainerProblem.compression_ratio
    assert "inflates 1049 times" in found.detail


def test_refuses_a_container_that_inflates_more_than_the_ratio_overall() -> None:
    small_parts = [entry(f"xl/p{i}.xml", 5_000, 900_000) for i in range(4)]

    found = check_limits(small_parts, LIMITS)

    assert found is not None and found.problem is ContainerProblem.compression_ratio
    assert found.detail.startswith("the members inflate")


def test_does_not_ratio_check_small_members_of_repetitive_markup() -> None:
    assert check_limits([entry("xl/styles.xml", 2_000, 900_000)], LIMITS) is None


def test_accepts_a_typical_document() -> None:
    entries = [
        entry("word/document.xml", 40_000, 400_000),
        entry("word/media/1.png", 3 * MIB, 3 * MIB),
    ]

    assert check_limits(entries, LIMITS) is None


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"PK\x03\x04rest", "zip"),
        (b"PK\x05\x06" + bytes(18), "zip"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"Rar!\x1a\x07\x00", "rar"),
        (b"\x1f\x8b\x08", "gzip"),
        (b"BZh91AY", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"MSCF\x00", "cab"),
        (bytes(257) + b"ustar\x0000", "tar"),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"<?xml version='1.0'?>", None),
        (b"", None),
    ],
)
def test_names_the_archive_a_member_starts(head: bytes, kind: str | None) -> None:
    assert archive_kind(head) == kind


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
        b'<?xml version="1.0"?>\n<!DOCTYPE w:document SYSTEM "http://example.invalid/x.dtd"><x/>',
        b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
        b"<!DOCTYPE x [",
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'.encode(
            "utf-16"
        ),
        b"<x><!ENTITY a 'b'></x>",
    ],
)
def test_finds_dtds_that_declare_entities_or_fetch_urls(head: bytes) -> None:
    assert xml_declares_entities(head)


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document/>',
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE manifest:manifest PUBLIC '
        b'"-//OpenOffice.org//DTD Manifest 1.0//EN" "Manifest.dtd"><manifest:manifest/>',
        b"",
    ],
)
def test_lets_xml_without_entity_declarations_through(head: bytes) -> None:
    assert not xml_declares_entities(head)


def test_knows_office_and_opendocument_packages_by_their_declarations() -> None:
    assert is_document_package(["[Content_Types].xml", "word/document.xml"])
    assert is_document_package(["mimetype", "content.xml"])
    assert is_document_package(["content.xml", "META-INF/manifest.xml"])
    assert not is_document_package(["report.pdf", "notes.txt"])
    assert not is_document_package(["inner/[Content_Types].xml"])


def test_looks_inside_only_zips_directly_in_an_embedding_folder() -> None:
    assert in_embedding_folder("word/embeddings/Microsoft_Excel_Worksheet.xlsx", LIMITS)
    assert not in_embedding_folder("word/embeddings/deeper/x.xlsx", LIMITS)
    assert not in_embedding_folder("word/media/x.xlsx", LIMITS)


def test_shows_member_names_without_control_characters_and_bounded() -> None:
    shown = printable("a\u202eb\x00c" + "x" * 200)

    assert "\\u202e" in shown and "\\u0000" in shown
    assert len(shown) == 80


def test_every_problem_has_a_reason_with_a_sentence_for_the_uploader() -> None:
    for problem in ContainerProblem:
        assert reason_sentence(reason_for(problem))


@pytest.mark.parametrize(
    "changes",
    [
        {"max_entries": 0},
        {"max_compression_ratio": 0.5},
        {"max_entry_uncompressed_bytes": 2, "max_total_uncompressed_bytes": 1},
        {"embedded_package_folders": ["word/embeddings"]},
        {"embedded_package_folders": ["/word/embeddings/"]},
        {"surprise": 1},
    ],
)
def test_limits_refuse_inconsistent_settings(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ContainerLimits.model_validate(changes)
