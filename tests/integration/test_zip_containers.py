"""inspect_zip on real bytes: genuine documents pass, and every kind of hostile or broken
zip is named before any parser opens it."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from portal.adapters.zip_containers import inspect_zip
from portal.domain.containers import ContainerInspection, ContainerLimits, ContainerProblem
from tests import samples
from tests.corpus import make_corpus as corpus

LIMITS = ContainerLimits()


def inspect(tmp_path: Path, data: bytes, limits: ContainerLimits = LIMITS) -> ContainerInspection:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return inspect_zip(path, limits)


def problem(tmp_path: Path, data: bytes, limits: ContainerLimits = LIMITS) -> ContainerProblem:
    found = inspect(tmp_path, data, limits).finding
    assert found is not None, "expected a problem"
    return found.problem


def openpyxl_workbook() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for i in range(500):
        sheet.append([f"C{i}", "Y", i * 1.5, "a note about the visit"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def streamed_docx() -> bytes:
    """A .docx written to an unseekable stream: data descriptors, and Zip64 for one member."""
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in _members(samples.docx()):
            with archive.open(name, "w", force_zip64=name.endswith("document.xml")) as member:
                member.write(data)
    return bytes(sink.data)


@pytest.mark.parametrize(
    "make",
    [
        samples.docx,
        lambda: samples.docx(content_types_first=False),
        samples.xlsx,
        samples.odt,
        lambda: samples.odt(mimetype_first=False),
        lambda: samples.odt(password_protected=True),
        samples.ods,
        openpyxl_workbook,
        streamed_docx,
        corpus.docx_with_chart_workbook,
    ],
)
def test_finds_nothing_wrong_with_genuine_documents(
    tmp_path: Path, make: Callable[[], bytes]
) -> None:
    inspection = inspect(tmp_path, make())

    assert inspection.finding is None
    assert inspection.entries


def test_lists_an_embedded_workbooks_members_under_its_name(tmp_path: Path) -> None:
    names = inspect(tmp_path, corpus.docx_with_chart_workbook()).names

    assert "word/embeddings/Microsoft_Excel_Worksheet.xlsx" in names
    assert "word/embeddings/Microsoft_Excel_Worksheet.xlsx/xl/workbook.xml" in names


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (corpus.docx_high_ratio_bomb, ContainerProblem.compression_ratio),
        (corpus.docx_nested_zip, ContainerProblem.nested_archive),
        (corpus.docx_nested_gzip, ContainerProblem.nested_archive),
        (corpus.docx_overlapping_entries, ContainerProblem.inconsistent_directory),
        (corpus.docx_local_header_names_another_member, ContainerProblem.inconsistent_directory),
        (corpus.docx_path_traversal_member, ContainerProblem.unsafe_name),
        (corpus.docx_duplicate_members, ContainerProblem.duplicate_name),
        (corpus.docx_encrypted_member, ContainerProblem.encrypted_entry),
        (corpus.xlsx_entity_bomb, ContainerProblem.xml_entities),
        (corpus.docx_external_entity, ContainerProblem.xml_entities),
        (corpus.zip_then_pdf_polyglot, ContainerProblem.polyglot),
    ],
)
def test_names_the_problem_of_each_hostile_container(
    tmp_path: Path, make: Callable[[], bytes], expected: ContainerProblem
) -> None:
    assert problem(tmp_path, make()) is expected


def test_counts_entries_before_reading_a_single_one(tmp_path: Path) -> None:
    limits = LIMITS.model_copy(update={"max_entries": 4})

    assert problem(tmp_path, samples.xlsx(), limits) is ContainerProblem.too_many_entries
    assert inspect(tmp_path, samples.xlsx(), limits).entries == ()


def test_refuses_an_embedded_package_that_holds_an_archive(tmp_path: Path) -> None:
    inner = corpus.xlsx_with([["Child ID"]], extra=[("xl/media/a.zip", corpus.eicar_zip())])
    outer = corpus.docx_with([("word/embeddings/Microsoft_Excel_Worksheet.xlsx", inner)])

    found = inspect(tmp_path, outer).finding

    assert found is not None and found.problem is ContainerProblem.nested_archive
    assert "in embedded package" in found.detail


def test_refuses_a_plain_zip_in_an_embedding_folder(tmp_path: Path) -> None:
    outer = corpus.docx_with([("word/embeddings/data.xlsx", corpus.zip_of([("a.txt", "x")]))])

    assert problem(tmp_path, outer) is ContainerProblem.nested_archive


def test_counts_an_embedded_packages_members_against_the_limits(tmp_path: Path) -> None:
    limits = LIMITS.model_copy(update={"max_entries": 6})

    found = inspect(tmp_path, corpus.docx_with_chart_workbook(), limits).finding

    assert found is not None and found.problem is ContainerProblem.too_many_entries


def test_does_not_inflate_a_plain_zip_it_will_refuse_as_an_archive(tmp_path: Path) -> None:
    assert inspect(tmp_path, corpus.zip_of([("inner.zip", corpus.eicar_zip())])).finding is None


def test_refuses_bytes_before_the_first_member(tmp_path: Path) -> None:
    data = samples.docx()
    shifted = _shift_offsets(b"JUNK" + data, 4)

    assert problem(tmp_path, shifted) is ContainerProblem.inconsistent_directory


def test_refuses_bytes_after_the_end_record(tmp_path: Path) -> None:
    assert problem(tmp_path, samples.docx() + b"trailing") is ContainerProblem.unreadable


def test_refuses_a_gap_between_members(tmp_path: Path) -> None:
    data = bytearray(samples.docx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        second = archive.infolist()[1].header_offset
    gapped = bytes(data[:second]) + b"HIDDEN" + bytes(data[second:])
    gapped = _shift_offsets(gapped, 6, from_offset=second)

    found = inspect(tmp_path, gapped).finding

    assert found is not None and found.problem is ContainerProblem.inconsistent_directory
    assert "gap" in found.detail


def test_refuses_a_member_that_inflates_past_its_declared_size(tmp_path: Path) -> None:
    text = b"<x>" + b"a" * 5000 + b"</x>"
    data = corpus.docx_with([("word/extra.xml", text)])
    lying = _patch_sizes(data, "word/extra.xml", uncompressed=100, crc=zlib.crc32(text[:100]))

    assert problem(tmp_path, lying) is ContainerProblem.damaged_data


def test_refuses_a_member_whose_checksum_is_wrong(tmp_path: Path) -> None:
    data = corpus.docx_with([("word/extra.xml", "<x/>")])

    assert problem(tmp_path, _patch_sizes(data, "word/extra.xml", crc=1)) is (
        ContainerProblem.damaged_data
    )


def test_refuses_compression_methods_office_never_uses(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2) as archive:
        for name, data in _members(samples.docx()):
            archive.writestr(name, data)

    assert problem(tmp_path, buffer.getvalue()) is ContainerProblem.unsupported_compression


@pytest.mark.parametrize("cut", [-554, -10])
def test_refuses_a_truncated_zip(tmp_path: Path, cut: int) -> None:
    assert problem(tmp_path, samples.docx()[:cut]) is ContainerProblem.unreadable


def test_refuses_an_end_record_claiming_more_entries_than_the_directory_holds(
    tmp_path: Path,
) -> None:
    data = bytearray(samples.docx())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 4, 4)

    assert problem(tmp_path, bytes(data)) is ContainerProblem.inconsistent_directory


def _shift_offsets(data: bytes, by: int, from_offset: int = 0) -> bytes:
    """Move every local header offset at or after `from_offset`, and the directory, by `by`."""
    out = bytearray(data)
    end = out.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<L", out, end + 16)[0] + by
    struct.pack_into("<L", out, end + 16, cd_offset)
    at = cd_offset
    while out[at : at + 4] == b"PK\x01\x02":
        offset = struct.unpack_from("<L", out, at + 42)[0]
        if offset >= from_offset:
            struct.pack_into("<L", out, at + 42, offset + by)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, at + 28)
        at += 46 + name_len + extra_len + comment_len
    return bytes(out)


def _patch_sizes(
    data: bytes, name: str, *, uncompressed: int | None = None, crc: int | None = None
) -> bytes:
    """Rewrite one member's CRC or uncompressed size in both its headers."""
    out = bytearray(data)
    encoded = name.encode()
    for signature, crc_at, size_at, name_at in (
        (b"PK\x03\x04", 14, 22, 30),
        (b"PK\x01\x02", 16, 24, 46),
    ):
        at = 0
        while (at := out.find(signature, at)) >= 0:
            if out[at + name_at : at + name_at + len(encoded)] == encoded:
                if crc is not None:
                    struct.pack_into("<L", out, at + crc_at, crc)
                if uncompressed is not None:
                    struct.pack_into("<L", out, at + size_at, uncompressed)
            at += 4
    return bytes(out)


def test_never_raises_whatever_bytes_are_damaged(tmp_path: Path) -> None:
    original = corpus.docx_with_chart_workbook()
    generator = random.Random(8)
    for _ in range(600):
        damaged = bytearray(original)
        for _ in range(generator.randint(1, 4)):
            damaged[generator.randrange(len(damaged))] = generator.randrange(256)

        inspection = inspect(tmp_path, bytes(damaged))

        assert inspection.finding is not None or inspection.entries
