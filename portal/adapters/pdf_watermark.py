"""A visible watermark on every page of a PDF, naming the viewer, inspection and time."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf  # type: ignore[import-untyped,unused-ignore]
from pikepdf import Dictionary, Name


def watermark_pdf(source: Path, text: str) -> bytes:
    """A copy of the PDF with `text` drawn along the foot and across every page."""
    safe = text.encode("latin-1", "replace").replace(b"\\", b"\\\\")
    safe = safe.replace(b"(", b"\\(").replace(b")", b"\\)")
    with pikepdf.open(source) as pdf:
        font = pdf.make_indirect(
            Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
        )
        for page in pdf.pages:
            name = page.add_resource(font, Name.Font, prefix="JtaiWm")
            mark = (
                b"q 0.8 0 0 rg BT "
                + str(name).encode()
                + b" 9 Tf 20 14 Td ("
                + safe
                + b") Tj ET q 0.85 g BT "
                + str(name).encode()
                + b" 18 Tf 0.7071 0.7071 -0.7071 0.7071 120 200 Tm ("
                + safe
                + b") Tj ET Q Q"
            )
            page.contents_add(pdf.make_stream(mark), prepend=False)
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()


class PikepdfWatermarker:
    """The Watermarker port over `watermark_pdf`."""

    def watermark_pdf(self, source: Path, text: str) -> bytes:
        """A copy of the PDF with `text` drawn along the foot and across every page."""
        return watermark_pdf(source, text)
