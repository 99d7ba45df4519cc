"""PikepdfSanitiser on real PDFs: what it removes, what it keeps, and what it refuses."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, Stream

from portal.adapters import pdf_sanitiser
from portal.adapters.pdf_sanitiser import FLATE_LEVEL, PikepdfSanitiser
from portal.domain.documents import Outcome
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.sanitising import SanitiseReport, decide_sanitise
from tests import samples

SANITISER = PikepdfSanitiser()

FORBIDDEN_NAMES = {
    "/OpenAction",
    "/AA",
    "/JS",
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/EmbeddedFiles",
    "/EmbeddedFile",
    "/EF",
    "/XFA",
    "/FileAttachment",
    "/Metadata",
}


def sanitise(tmp_path: Path, data: bytes) -> tuple[SanitiseReport, Path]:
    source = tmp_path / "source.pdf"
    source.write_bytes(data)
    target = tmp_path / "clean.pdf"
    return SANITISER.sanitise_pdf(source, target), target


def names_in(obj: pikepdf.Object) -> set[str]:
    """Every Name (dictionary keys included) written in `obj`, indirect references unfollowed.

    Read from the object's own PDF syntax, so nothing is walked and nothing can loop.
    """
    text = (obj.stream_dict if isinstance(obj, Stream) else obj).unparse(resolved=True)
    return {name.decode() for name in re.findall(rb"/[^\s/<>\[\]()%{}]+", text)}


def all_names(pdf: pikepdf.Pdf) -> set[str]:
    found: set[str] = names_in(pdf.trailer)
    for obj in pdf.objects:
        if isinstance(obj, (Dictionary, Stream, Array)):
            found.update(names_in(obj))
    return found


def all_stream_bytes(pdf: pikepdf.Pdf) -> bytes:
    return b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, Stream))


def page_contents(pdf: pikepdf.Pdf) -> list[bytes]:
    return [page.Contents.read_bytes() for page in pdf.pages]


def open_pdf(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data), conversion_mode="explicit")


def test_sanitised_copy_has_no_active_content_attachments_or_metadata(tmp_path: Path) -> None:
    original = samples.pdf_with_active_content()
    with open_pdf(original) as before:
        assert all_names(before) >= FORBIDDEN_NAMES  # the sample really has all of it

    report, target = sanitise(tmp_path, original)

    assert report.problem is None
    with open_pdf(target.read_bytes()) as after:
        assert all_names(after).isdisjoint(FORBIDDEN_NAMES)
        assert Name.Info not in after.trailer
        assert Name.Metadata not in after.Root
        assert len(after.attachments) == 0
        assert b"Jane Example" not in all_stream_bytes(after)
        assert b"cmd.exe" not in all_stream_bytes(after)
    assert b"Jane Example" not in target.read_bytes()


def test_keeps_page_count_and_page_text(tmp_path: Path) -> None:
    original = samples.pdf_with_active_content()

    _, target = sanitise(tmp_path, original)

    with open_pdf(original) as before, open_pdf(target.read_bytes()) as after:
        assert len(after.pages) == len(before.pages) == 2
        assert page_contents(after) == page_contents(before)


def test_keeps_the_links_but_leaves_them_inert(tmp_path: Path) -> None:
    _, target = sanitise(tmp_path, samples.pdf_with_active_content())

    with open_pdf(target.read_bytes()) as after:
        annotations = list(after.pages[0].Annots)
        assert [str(a.Subtype) for a in annotations] == ["/Link", "/Link"]
        assert all(Name.A not in a for a in annotations)


def test_reports_what_it_removed_and_the_step_warns_about_all_of_it(tmp_path: Path) -> None:
    report, _ = sanitise(tmp_path, samples.pdf_with_active_content())

    assert set(report.removed) == {
        "javascript",
        "open_action",
        "additional_actions",
        "launch_action",
        "unsafe_actions",
        "embedded_files",
        "file_attachment_annotations",
        "xfa",
    }
    assert report.metadata_stripped
    verdict = decide_sanitise(report)
    assert verdict.outcome is Outcome.proceed
    assert verdict.warnings == (
        WarningCode.active_content_removed,
        WarningCode.embedded_files_removed,
        WarningCode.metadata_stripped,
    )


def test_removes_an_embedded_eicar_attachment(tmp_path: Path) -> None:
    report, target = sanitise(tmp_path, samples.eicar_pdf())

    assert report.removed == ("embedded_files",)
    with open_pdf(target.read_bytes()) as after:
        assert samples.EICAR not in all_stream_bytes(after)
    assert samples.EICAR not in target.read_bytes()


def test_clean_pdf_passes_without_warnings(tmp_path: Path) -> None:
    original = samples.pdf_of_size(50_000)

    report, target = sanitise(tmp_path, original)

    assert report == SanitiseReport()
    assert decide_sanitise(report).warnings == ()
    with open_pdf(original) as before, open_pdf(target.read_bytes()) as after:
        assert page_contents(after) == page_contents(before)


def test_keeps_an_open_action_that_only_shows_the_first_page(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.OpenAction = Array([pdf.pages[0].obj, Name.Fit])
    buffer = io.BytesIO()
    pdf.save(buffer)

    report, target = sanitise(tmp_path, buffer.getvalue())

    assert report == SanitiseReport()
    with open_pdf(target.read_bytes()) as after:
        assert Name.OpenAction in after.Root


def test_accepts_incrementally_updated_pdf(tmp_path: Path) -> None:
    report, target = sanitise(tmp_path, samples.incrementally_updated_pdf())

    assert report.problem is None
    assert report.metadata_stripped  # the update added an /Info /Title
    with open_pdf(target.read_bytes()) as after:
        assert len(after.pages) == 1


def test_sanitising_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    data = samples.pdf_with_active_content()
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()

    _, first = sanitise(tmp_path / "one", data)
    _, second = sanitise(tmp_path / "two", data)

    assert first.read_bytes() == second.read_bytes()


def _pdf_with_a_hex_stream(hexed: bytes) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pdf.make_stream(hexed)
    stream.Filter = Name.ASCIIHexDecode
    pdf.pages[0].obj.Contents = stream
    sent = io.BytesIO()
    pdf.save(sent, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return sent.getvalue()


def test_writes_an_ascii_encoded_stream_as_flate_so_no_viewer_meets_that_decoder(
    tmp_path: Path,
) -> None:
    text = b"BT /F1 12 Tf 72 712 Td (hex) Tj ET"
    report, target = sanitise(tmp_path, _pdf_with_a_hex_stream(text.hex().encode() + b">"))
    assert report.problem is None
    with pikepdf.open(target) as clean:
        written = clean.pages[0].obj.Contents
        assert written.Filter == Name.FlateDecode
        assert written.read_bytes() == text


def test_compresses_an_unfiltered_stream_at_the_sanitisers_fast_flate_level(
    tmp_path: Path,
) -> None:
    text = b"".join(b"BT /F1 12 Tf 72 %d Td (line %d) Tj ET\n" % (i, i) for i in range(2000))
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].obj.Contents = pdf.make_stream(text)
    sent = io.BytesIO()
    pdf.save(sent, compress_streams=False)

    report, target = sanitise(tmp_path, sent.getvalue())

    assert report.problem is None
    with pikepdf.open(target) as clean:
        written = clean.pages[0].obj.Contents
        assert written.Filter == Name.FlateDecode
        raw = written.read_raw_bytes()
    assert zlib.decompress(raw) == text
    # A zlib stream's header records its level's class (RFC 1950, FLEVEL): 0 for levels
    # 0-1, 2 for zlib's default.
    assert raw[1] >> 6 == _flevel(FLATE_LEVEL) != _flevel(6)


def _flevel(level: int) -> int:
    return 0 if level <= 1 else 1 if level <= 5 else 2 if level == 6 else 3


def test_rejects_as_corrupt_a_pdf_with_a_stream_that_cannot_be_decoded(tmp_path: Path) -> None:
    report, target = sanitise(tmp_path, _pdf_with_a_hex_stream(b"this is not hex at all>"))
    assert report.problem == "corrupt"
    assert not target.exists()


def test_sanitised_copy_needs_no_further_sanitising(tmp_path: Path) -> None:
    _, once = sanitise(tmp_path, samples.pdf_with_active_content())
    (tmp_path / "again").mkdir()

    report, _ = sanitise(tmp_path / "again", once.read_bytes())

    assert report == SanitiseReport()


def test_writes_each_embedded_file_out_decoded_before_removing_it(tmp_path: Path) -> None:
    source = tmp_path / "source.pdf"
    source.write_bytes(samples.eicar_pdf_attachment())
    embedded = tmp_path / "embedded"
    embedded.mkdir()

    report = SANITISER.sanitise_pdf(source, tmp_path / "clean.pdf", embedded)

    assert report.embedded_files == 1
    assert [p.read_bytes() for p in sorted(embedded.iterdir())] == [samples.EICAR]
    assert report.removed == ("embedded_files",)
    assert samples.EICAR not in (tmp_path / "clean.pdf").read_bytes()


def test_writes_out_the_embedded_files_of_an_embedded_pdf_too(tmp_path: Path) -> None:
    source = tmp_path / "source.pdf"
    source.write_bytes(samples.eicar_pdf_in_pdf_attachment())
    embedded = tmp_path / "embedded"
    embedded.mkdir()

    report = SANITISER.sanitise_pdf(source, tmp_path / "clean.pdf", embedded)

    extracted = [p.read_bytes() for p in sorted(embedded.iterdir())]
    assert report.embedded_files == 2
    assert extracted[0].startswith(b"%PDF-")
    assert extracted[1] == samples.EICAR


def test_more_embedded_files_than_can_be_scanned_is_a_scan_limits_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_sanitiser, "MAX_EMBEDDED_FILES", 1)
    source = tmp_path / "source.pdf"
    source.write_bytes(samples.eicar_pdf_in_pdf_attachment())
    embedded = tmp_path / "embedded"
    embedded.mkdir()

    report = pdf_sanitiser.sanitise_in_this_process(source, tmp_path / "clean.pdf", embedded)

    assert report.problem == "scan_limits"
    assert decide_sanitise(report).reason is ReasonCode.scan_limits_exceeded


def test_a_pdf_with_only_an_owner_password_is_saved_decrypted(tmp_path: Path) -> None:
    report, target = sanitise(tmp_path, samples.encrypted_pdf(user_password=""))

    assert report.problem is None
    assert report.decrypted
    verdict = decide_sanitise(report)
    assert verdict.outcome is Outcome.proceed
    assert WarningCode.edit_restrictions_removed in verdict.warnings
    with open_pdf(target.read_bytes()) as after:
        assert not after.is_encrypted
        assert b"Encrypted case notes." in page_contents(after)[0]
    assert b"/Encrypt" not in target.read_bytes()


def test_reports_pdf_that_needs_a_password_to_open_and_writes_nothing(tmp_path: Path) -> None:
    report, target = sanitise(tmp_path, samples.encrypted_pdf(user_password="user-secret"))

    assert report.problem == "encrypted"
    assert decide_sanitise(report).reason is ReasonCode.encrypted
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.pdf"]


def test_reports_certificate_encrypted_pdf_as_encrypted(tmp_path: Path) -> None:
    standard = samples.encrypted_pdf()
    certificate = standard.replace(b"/Filter /Standard", b"/Filter /PubSec__", 1)  # same length
    assert certificate != standard

    report, target = sanitise(tmp_path, certificate)

    assert report.problem == "encrypted"
    assert not target.exists()


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9, 0.99])
def test_reports_truncated_pdf_as_corrupt(tmp_path: Path, fraction: float) -> None:
    report, target = sanitise(tmp_path, samples.truncated_pdf(fraction))

    assert report.problem == "corrupt"
    assert decide_sanitise(report).reason is ReasonCode.corrupt
    assert not target.exists()


def test_reports_pdf_without_final_eof_marker_as_corrupt(tmp_path: Path) -> None:
    whole = samples.pdf_of_size(20_000)
    assert whole.endswith(b"%%EOF\n")

    report, _ = sanitise(tmp_path, whole[: -len(b"%%EOF\n")])

    assert report.problem == "corrupt"


def test_reports_pdf_whose_cross_reference_table_needs_repair_as_corrupt(tmp_path: Path) -> None:
    whole = samples.pdf_text_pages(3)
    damaged = whole.replace(b"xref\n0 ", b"xref\n1 ", 1)  # shift every xref entry by one
    assert damaged != whole

    report, _ = sanitise(tmp_path, damaged)

    assert report.problem == "corrupt"


@pytest.mark.parametrize(
    "data", [samples.random_bytes(), b"", b"%PDF-1.7\n%%EOF\n"], ids=["random", "empty", "stub"]
)
def test_reports_non_pdf_bytes_as_corrupt(tmp_path: Path, data: bytes) -> None:
    report, target = sanitise(tmp_path, data)

    assert report.problem == "corrupt"
    assert not target.exists()
