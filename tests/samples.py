"""Deterministic sample files for unit, integration and scenario tests and the benchmark.

Every function returns the bytes of one file and returns the same bytes on every call, so
tests can compare hashes and the benchmark measures the same work each run. Nothing here
imports pytest. PDFs are built with pikepdf; Office, OpenDocument, image and executable
files are assembled by hand so no extra dependency is needed.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence

import pikepdf
from pikepdf import Array, Dictionary, Name, String

# The standard 68-byte anti-malware test file (www.eicar.org); every scanner reports it.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# Zip timestamps must be fixed or every archive would differ by the time it was made.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)

_SENTENCES = (
    "The social worker visited the family home and spoke with the child alone.",
    "The strategy meeting agreed a plan with health, police and the school.",
    "The child said she feels safe at school and likes her new teacher.",
    "Attendance improved after the early help assessment in the spring term.",
    "The review noted that actions from the last meeting were completed on time.",
    "The health visitor recorded the weight check and the next appointment.",
)


def eicar() -> bytes:
    """The EICAR test string as a plain file: 68 bytes that every scanner reports."""
    return EICAR


def eicar_zip() -> bytes:
    """A zip archive holding eicar.com."""
    return _zip([("eicar.com", EICAR)])


def eicar_nested_zip() -> bytes:
    """A zip holding a zip that holds eicar.com."""
    return _zip([("inner.zip", eicar_zip())])


def eicar_pdf() -> bytes:
    """A one-page text PDF carrying eicar.com as an embedded file (FlateDecode stream)."""
    pdf = pikepdf.new()
    _add_text_page(pdf, ["This PDF carries an attachment."])
    _attach(pdf, "eicar.com", EICAR)
    # Saved twice so the stream dictionary reads "/Filter ... /Length" as PDF writers emit
    # it: ClamAV 1.4's PDF parser skips a stream whose /Filter follows /Length (a known gap,
    # see the closing note of issue 3); the sanitiser drops embedded files either way.
    with pikepdf.open(io.BytesIO(_save(pdf, compress=True))) as reopened:
        return _save(reopened, compress=True)


def eicar_pdf_attachment() -> bytes:
    """eicar.com attached the way Acrobat attaches a file (/Names /EmbeddedFiles, a
    file specification whose /EF holds a FlateDecode /EmbeddedFile stream), saved once,
    so its stream dictionary reads "/Length ... /Filter": ClamAV 1.4 answers "OK" for it
    (the gap the sanitiser's extraction closes)."""
    pdf = pikepdf.new()
    _add_text_page(pdf, ["This PDF carries an attachment."])
    _attach(pdf, "eicar.com", EICAR)
    return _save(pdf, compress=True)


def eicar_pdf_in_pdf_attachment() -> bytes:
    """A PDF attached to a PDF, the inner one carrying eicar.com as `eicar_pdf_attachment`."""
    pdf = pikepdf.new()
    _add_text_page(pdf, ["This PDF carries a PDF."])
    _attach(pdf, "inner.pdf", eicar_pdf_attachment())
    return _save(pdf, compress=True)


def pdf_zip_polyglot() -> bytes:
    """A valid PDF with a zip joined after its %%EOF: a PDF reader and a zip reader both
    open it."""
    return pdf_text_pages(1) + _zip([("payload.txt", "hidden behind the PDF")])


def pe_executable() -> bytes:
    """A tiny well-formed 32-bit Windows console executable (MZ, PE header, one .text section).

    Its entry point is a single `ret`. 1024 bytes.
    """
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x40)  # e_lfanew: the PE header follows at once
    coff = struct.pack("<HHIIIHH", 0x014C, 1, 0, 0, 0, 0xE0, 0x0102)
    # fmt: off
    optional = struct.pack(
        "<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
        0x010B,  # PE32
        14, 0,  # linker version
        0x200, 0, 0,  # size of code, initialised data, uninitialised data
        0x1000,  # entry point RVA
        0x1000, 0x2000,  # base of code, base of data
        0x00400000,  # image base
        0x1000, 0x200,  # section alignment, file alignment
        6, 0, 0, 0, 6, 0,  # OS, image, subsystem versions
        0,  # Win32 version value
        0x2000, 0x200,  # size of image, size of headers
        0,  # checksum
        3,  # subsystem: Windows console
        0x8540,  # DLL characteristics: NX, no SEH, terminal-server aware, dynamic base
        0x100000, 0x1000, 0x100000, 0x1000,  # stack and heap reserve / commit
        0,  # loader flags
        16,  # number of data directories
    ) + bytes(16 * 8)
    # fmt: on
    section = struct.pack("<8sIIIIIIHHI", b".text", 1, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    headers = bytes(dos) + b"PE\0\0" + coff + optional + section
    return headers.ljust(0x200, b"\0") + b"\xc3".ljust(0x200, b"\0")


def elf_executable() -> bytes:
    """A tiny static x86-64 Linux executable that calls exit(0). 129 bytes."""
    code = b"\xb8\x3c\x00\x00\x00\x31\xff\x0f\x05"  # mov eax, 60; xor edi, edi; syscall
    base = 0x400000
    entry = base + 64 + 56
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    size = 64 + 56 + len(code)
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return header + program + code


def pdf_of_size(n_bytes: int) -> bytes:
    """A clean text PDF of about `n_bytes` (within a few percent above 20 kB; at least one page).

    Pages hold numbered lines of case-note prose in Helvetica, uncompressed so the size is
    predictable; the same `n_bytes` always gives the same bytes.
    """
    pdf = pikepdf.new()
    remaining = n_bytes - 700  # catalog, page tree, font, xref table and trailer
    page_number = 0
    while True:
        page_number += 1
        lines: list[str] = []
        budget = remaining - 260  # page dictionary, stream dictionary, xref entries
        for i in range(_LINES_PER_PAGE):
            line = _line(page_number, i)
            cost = len(line) + 8  # "(" ") Tj T*\n"
            if lines and budget - cost < 0:
                break
            lines.append(line)
            budget -= cost
        _add_text_page(pdf, lines)
        remaining = budget - 40  # "BT ... ET" framing
        if len(lines) < _LINES_PER_PAGE or remaining <= 300:
            break
    return _save(pdf, compress=False)


_LINES_PER_PAGE = 70


def pdf_text_pages(pages: int = 2) -> bytes:
    """A small clean PDF of `pages` text pages, compressed as most producers write them."""
    pdf = pikepdf.new()
    for p in range(1, pages + 1):
        _add_text_page(pdf, [_line(p, i) for i in range(12)])
    return _save(pdf, compress=True)


def pdf_with_active_content() -> bytes:
    """A two-page PDF with every kind of content the sanitiser removes.

    OpenAction JavaScript, a document-level JavaScript name tree, an embedded file
    (report.txt), a page /AA, a Link annotation launching cmd.exe, a Link that submits a
    form, a FileAttachment annotation, an AcroForm with XFA and a field whose /AA runs
    JavaScript, /Info Author and Title "Jane Example", and XMP metadata naming her too.
    """
    pdf = pikepdf.new()
    page1 = _add_text_page(pdf, ["Case summary for the inspection.", _SENTENCES[0]])
    page2 = _add_text_page(pdf, ["Second page.", _SENTENCES[1]])

    pdf.Root.OpenAction = pdf.make_indirect(
        Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String("app.alert('opened');"))
    )
    named_js = pdf.make_indirect(
        Dictionary(S=Name.JavaScript, JS=String("this.submitForm('http://example.invalid/');"))
    )
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("init"), named_js])))
    _attach(pdf, "report.txt", b"Notes attached inside the PDF.\n")

    page1.obj.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String("app.beep(0);")))
    launch = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([72, 600, 300, 620]),
        Border=Array([0, 0, 0]),
        A=Dictionary(S=Name.Launch, F=String("cmd.exe"), NewWindow=True),
    )
    submit = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([72, 560, 300, 580]),
        A=Dictionary(S=Name.SubmitForm, F=String("http://example.invalid/collect")),
    )
    attached = pdf.make_stream(b"A second hidden file.\n", Type=Name.EmbeddedFile)
    attachment = Dictionary(
        Type=Name.Annot,
        Subtype=Name.FileAttachment,
        Rect=Array([72, 520, 90, 538]),
        Name=Name.PushPin,
        FS=Dictionary(Type=Name.Filespec, F=String("hidden.txt"), EF=Dictionary(F=attached)),
    )
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("child_name"),
            Rect=Array([72, 480, 300, 500]),
            P=page2.obj,
            AA=Dictionary(K=Dictionary(S=Name.JavaScript, JS=String("event.rc = true;"))),
        )
    )
    page1.obj.Annots = pdf.make_indirect(
        Array([pdf.make_indirect(launch), pdf.make_indirect(submit), pdf.make_indirect(attachment)])
    )
    page2.obj.Annots = Array([field])
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]), XFA=xfa)

    pdf.docinfo = pdf.make_indirect(
        Dictionary(Author=String("Jane Example"), Title=String("Jane Example case notes"))
    )
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:creator"] = ["Jane Example"]
        meta["dc:title"] = "Jane Example case notes"
    return _save(pdf, compress=True)


def encrypted_pdf(
    user_password: str = "user-secret", owner_password: str = "owner-secret"
) -> bytes:
    """A one-page PDF encrypted with the standard security handler (RC4 128-bit, R=3).

    With user_password="" it opens without a password but still carries an owner password
    and an /Encrypt dictionary. RC4 is used because it needs no random IVs, so the bytes
    are the same on every call.
    """
    pdf = pikepdf.new()
    _add_text_page(pdf, ["Encrypted case notes.", _SENTENCES[2]])
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        encryption=pikepdf.Encryption(
            owner=owner_password, user=user_password, R=3, aes=False, metadata=False
        ),
        static_id=True,
    )
    return buffer.getvalue()


def truncated_pdf(fraction: float = 0.6) -> bytes:
    """The first `fraction` of a valid multi-page PDF, as an interrupted upload leaves it."""
    whole = pdf_of_size(40_000)
    return whole[: int(len(whole) * fraction)]


def incrementally_updated_pdf() -> bytes:
    """A valid PDF followed by one incremental update (a new /Info), as signing tools write.

    It has two %%EOF markers and a trailer with /Prev; qpdf opens it without warnings.
    """
    base = pdf_text_pages(1)
    size = int(_last_match(rb"/Size (\d+)", base))
    root = _last_match(rb"/Root (\d+ \d+ R)", base).decode()
    prev = int(_last_match(rb"startxref\s+(\d+)", base))
    body = bytearray(base)
    if not body.endswith(b"\n"):
        body += b"\n"
    offset = len(body)
    body += f"{size} 0 obj\n<< /Title (Updated) >>\nendobj\n".encode()
    xref = len(body)
    body += f"xref\n{size} 1\n{offset:010d} 00000 n \n".encode()
    body += f"trailer\n<< /Size {size + 1} /Root {root} /Info {size} 0 R /Prev {prev} >>\n".encode()
    body += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(body)


def docx(*, content_types_first: bool = True) -> bytes:
    """A minimal valid Word document (.docx) with one paragraph.

    With content_types_first=False, [Content_Types].xml is stored last, as .NET's packaging
    library writes it; libmagic then sees only a zip archive, and only the members say
    what the file is.
    """
    parts = [
        ("[Content_Types].xml", _content_types(_DOCX_MAIN, ("word/document.xml",))),
        ("_rels/.rels", _root_rels("word/document.xml")),
        ("word/document.xml", _WORD_DOCUMENT),
    ]
    if not content_types_first:
        parts.append(parts.pop(0))
    return _zip(parts)


def fake_docx() -> bytes:
    """A zip that libmagic calls a Word document from its first member names alone.

    It declares no document in [Content_Types].xml and carries a Windows executable.
    """
    return _zip(
        [
            ("[Content_Types].xml", _content_types("application/xml", ())),
            ("_rels/.rels", _rels("")),
            ("word/setup.exe", pe_executable()),
        ]
    )


def docm() -> bytes:
    """A macro-enabled Word document (.docm): macro content type and word/vbaProject.bin."""
    return _zip(
        [
            ("[Content_Types].xml", _content_types(_DOCM_MAIN, ("word/document.xml",), vba=True)),
            ("_rels/.rels", _root_rels("word/document.xml")),
            ("word/document.xml", _WORD_DOCUMENT),
            (
                "word/_rels/document.xml.rels",
                _rels(
                    '<Relationship Id="rId1" Target="vbaProject.bin" Type='
                    '"http://schemas.microsoft.com/office/2006/relationships/vbaProject"/>'
                ),
            ),
            ("word/vbaProject.bin", _office_compound_file(("VBA", "PROJECT"))),
        ]
    )


def xlsx() -> bytes:
    """A minimal valid Excel workbook (.xlsx) with one sheet holding two cells."""
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Child ID</t></is></c>'
        '<c r="B1"><v>42</v></c></row></sheetData></worksheet>'
    )
    workbook_rels = _rels(
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    )
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    return _zip(
        [
            (
                "[Content_Types].xml",
                _content_types(
                    _XLSX_MAIN, ("xl/workbook.xml",), extra={"xl/worksheets/sheet1.xml": sheet_type}
                ),
            ),
            ("_rels/.rels", _root_rels("xl/workbook.xml")),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", workbook_rels),
            ("xl/worksheets/sheet1.xml", sheet),
        ]
    )


def odt(
    *, with_macros: bool = False, password_protected: bool = False, mimetype_first: bool = True
) -> bytes:
    """A minimal OpenDocument text (.odt); optionally with a Basic macro library or encrypted.

    The encrypted variant has the manifest entries LibreOffice writes for a password-protected
    file (manifest:encryption-data) and unreadable content.xml bytes. With
    mimetype_first=False the `mimetype` member is stored compressed and last, as some tools
    write it; libmagic then sees only a zip archive.
    """
    return _odf(
        "application/vnd.oasis.opendocument.text",
        _ODT_BODY,
        with_macros,
        password_protected,
        mimetype_first,
    )


def ods() -> bytes:
    """A minimal OpenDocument spreadsheet (.ods) with one table."""
    return _odf("application/vnd.oasis.opendocument.spreadsheet", _ODS_BODY, False, False, True)


def office_encrypted() -> bytes:
    """A password-protected Office file as Word and Excel save it.

    An OLE compound file holding EncryptionInfo and EncryptedPackage streams (the
    ECMA-376 agile-encryption container), whatever the .docx/.xlsx name says.
    """
    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0"?><encryption/>'
    package = struct.pack("<Q", 2000) + bytes(range(256)) * 16
    return _office_compound_file(("EncryptionInfo", "EncryptedPackage"), (info, package))


def csv_text() -> bytes:
    """A CSV child list: header and five rows of IDs, Y/N fields and dates."""
    rows = ["child_id,age,looked_after,open_to_early_help,last_visit"]
    for i in range(1, 6):
        rows.append(
            f"C{1000 + i},{5 + i},{'Y' if i % 2 else 'N'},{'N' if i % 3 else 'Y'},2024-0{i}-1{i}"
        )
    return ("\r\n".join(rows) + "\r\n").encode()


def plain_text() -> bytes:
    """A short plain UTF-8 text note in English."""
    return ("\n".join(_SENTENCES) + "\n").encode()


def png() -> bytes:
    """A valid 1x1 grey PNG (signature, IHDR, IDAT, IEND with correct CRCs)."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x80", 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A valid 8x8 mid-grey baseline JFIF JPEG, hand-encoded.

    One component, all-ones quantisation, and one-code Huffman tables, so the whole scan
    is two bits: DC difference 0, then end of block.
    """
    soi = b"\xff\xd8"
    app0 = _jpeg_segment(0xE0, b"JFIF\0" + bytes([1, 1, 0]) + struct.pack(">HH", 1, 1) + b"\0\0")
    dqt = _jpeg_segment(0xDB, b"\x00" + bytes([1] * 64))
    sof0 = _jpeg_segment(0xC0, bytes([8]) + struct.pack(">HH", 8, 8) + bytes([1, 1, 0x11, 0]))
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    dht = _jpeg_segment(0xC4, b"\x00" + one_code + b"\x10" + one_code)
    sos = _jpeg_segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
    scan = b"\x3f"  # bits 0 (DC category 0), 0 (EOB), then padding ones
    return soi + app0 + dqt + sof0 + dht + sos + scan + b"\xff\xd9"


def html() -> bytes:
    """An HTML page with a script."""
    return (
        b"<!DOCTYPE html>\n<html>\n<head><title>Case notes</title></head>\n"
        b"<body><p>Case notes</p><script>document.location='http://example.invalid/';</script>"
        b"</body>\n</html>\n"
    )


def svg() -> bytes:
    """An SVG image with a script element."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">\n'
        b'<rect width="10" height="10" fill="grey"/>\n'
        b"<script>alert('hello');</script>\n</svg>\n"
    )


def shell_script() -> bytes:
    """A POSIX shell script."""
    return b"#!/bin/sh\nset -eu\necho 'hello from a script'\nrm -rf \"$HOME/tmp-example\"\n"


def random_bytes(n_bytes: int = 4096) -> bytes:
    """`n_bytes` of noise with no file structure (a fixed pseudo-random sequence)."""
    out = bytearray()
    counter = 0
    while len(out) < n_bytes:
        out += zlib.crc32(counter.to_bytes(8, "little")).to_bytes(4, "little")
        counter += 1
    return bytes(out[:n_bytes])


# --- helpers -------------------------------------------------------------------------


def _line(page: int, i: int) -> str:
    return f"Page {page:05d} line {i:02d}. {_SENTENCES[(page + i) % len(_SENTENCES)]}"


def _add_text_page(pdf: pikepdf.Pdf, lines: list[str]) -> pikepdf.Page:
    if len(pdf.pages):
        font = pdf.pages[0].obj.Resources.Font.F1
    else:
        font = pdf.make_indirect(
            Dictionary(
                Type=Name.Font,
                Subtype=Name.Type1,
                BaseFont=Name.Helvetica,
                Encoding=Name.WinAnsiEncoding,
            )
        )
    body = "".join(f"({_pdf_escape(line)}) Tj T*\n" for line in lines)
    content = f"BT /F1 9 Tf 11 TL 40 800 Td\n{body}ET\n".encode("latin-1")
    page = pikepdf.Page(
        Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, 595, 842]),
            Resources=Dictionary(Font=Dictionary(F1=font)),
            Contents=pdf.make_stream(content),
        )
    )
    pdf.pages.append(page)
    return pdf.pages[-1]


def _attach(pdf: pikepdf.Pdf, name: str, data: bytes) -> None:
    pdf.attachments[name] = pikepdf.AttachedFileSpec(
        pdf,
        data,
        description="",
        filename=name,
        mime_type="text/plain",
        creation_date="D:20240101000000Z",
        mod_date="D:20240101000000Z",
    )


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _save(pdf: pikepdf.Pdf, *, compress: bool) -> bytes:
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        compress_streams=compress,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        deterministic_id=True,
    )
    return buffer.getvalue()


def _last_match(pattern: bytes, data: bytes) -> bytes:
    found = re.findall(pattern, data)
    if not found:
        raise ValueError(f"pattern {pattern!r} not in the PDF")
    last: bytes = found[-1]
    return last


def _zip(members: Sequence[tuple[str, bytes | str]], *, stored: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


_DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

_WORD_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    f"<w:body><w:p><w:r><w:t>{_SENTENCES[0]}</w:t></w:r></w:p></w:body></w:document>"
)


def _content_types(
    main: str,
    main_parts: tuple[str, ...],
    *,
    vba: bool = False,
    extra: dict[str, str] | None = None,
) -> str:
    overrides = "".join(
        f'<Override PartName="/{part}" ContentType="{main}"/>' for part in main_parts
    )
    overrides += "".join(
        f'<Override PartName="/{part}" ContentType="{kind}"/>'
        for part, kind in (extra or {}).items()
    )
    vba_default = (
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        if vba
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{vba_default}{overrides}</Types>"
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


_ODT_BODY = "<office:text><text:p>" + _SENTENCES[3] + "</text:p></office:text>"
_ODS_BODY = (
    '<office:spreadsheet><table:table table:name="Sheet1"><table:table-row>'
    '<table:table-cell office:value-type="string"><text:p>Child ID</text:p></table:table-cell>'
    '<table:table-cell office:value-type="float" office:value="42">'
    "<text:p>42</text:p></table:table-cell>"
    "</table:table-row></table:table></office:spreadsheet>"
)


def _odf(
    mimetype: str, body: str, with_macros: bool, password_protected: bool, mimetype_first: bool
) -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    content_entry = (
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    )
    if password_protected:
        content = random_bytes(600).hex()
        content_entry = (
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" '
            'manifest:size="612"><manifest:encryption-data manifest:checksum-type="SHA1/1K" '
            'manifest:checksum="AAAA"><manifest:algorithm manifest:algorithm-name='
            '"http://www.w3.org/2001/04/xmlenc#aes256-cbc" manifest:initialisation-vector="AAAA"/>'
            '<manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:key-size="32" '
            'manifest:iteration-count="100000" manifest:salt="AAAA"/></manifest:encryption-data>'
            "</manifest:file-entry>"
        )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        f"{content_entry}</manifest:manifest>"
    )
    members: list[tuple[str, bytes | str]] = [
        ("mimetype", mimetype),
        ("content.xml", content),
        ("META-INF/manifest.xml", manifest),
    ]
    if with_macros:
        members += [
            ("Basic/script-lc.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<library:libraries/>'),
            (
                "Basic/Standard/Module1.xml",
                '<script:module>Sub Main\nShell("cmd.exe")\nEnd Sub</script:module>',
            ),
        ]
    if not mimetype_first:
        members.append(members.pop(0))
        return _zip(members)
    return _zip(members, stored=("mimetype",))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


_FREE = 0xFFFFFFFF
_END_OF_CHAIN = 0xFFFFFFFE
_FAT_SECTOR = 0xFFFFFFFD


def _pad_sector(data: bytes) -> bytes:
    size = max(4096, -(-len(data) // 512) * 512)
    return data.ljust(size, b"\0")


def _office_compound_file(
    names: tuple[str, ...], contents: tuple[bytes, ...] | None = None
) -> bytes:
    """An OLE compound file (version 3, 512-byte sectors) holding one stream per name.

    Streams are padded to 4096 bytes so they live in ordinary sectors and no mini stream
    is needed.
    """
    datas = [_pad_sector(c) for c in (contents or tuple(b"" for _ in names))]
    fat = [_FAT_SECTOR, _END_OF_CHAIN]  # sector 0: this FAT; sector 1: the directory
    starts = []
    for data in datas:
        first = len(fat)
        count = len(data) // 512
        starts.append(first)
        fat += [first + k + 1 for k in range(count - 1)] + [_END_OF_CHAIN]
    fat += [_FREE] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            encoded,
            len(encoded),
            kind,
            1,
            _FREE,
            right,
            child,
            bytes(16),
            0,
            0,
            0,
            start,
            size,
        )

    entries = [entry("Root Entry", 5, 1, _FREE, _END_OF_CHAIN, 0)]
    for index, (name, start, data) in enumerate(zip(names, starts, datas, strict=True), start=1):
        right = index + 1 if index < len(names) else _FREE
        entries.append(entry(name, 2, _FREE, right, start, len(data)))
    while len(entries) % 4:
        entries.append(bytes(128))
    header = (
        struct.pack(
            "<8s16sHHHHH6sIIIIIIIII",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            bytes(16),
            0x3E,
            3,
            0xFFFE,
            9,
            6,
            bytes(6),
            0,
            1,
            1,
            0,
            4096,
            _END_OF_CHAIN,
            0,
            _END_OF_CHAIN,
            0,
        )
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    return header + struct.pack("<128I", *fat) + b"".join(entries) + b"".join(datas)
