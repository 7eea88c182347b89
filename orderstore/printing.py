"""Printing posted packing slips and invoices with their serials (R14).

Pure: takes a ``PrintedDocument`` (``SalesLedger.printable``), returns text or
PDF bytes. The caller decides where they go (file, printer, HTTP response).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from scangw.sales.inquiry import JournalLine, PrintedDocument

NOT_READABLE = "(not readable)"
TITLES = {"packing_slip": "Packing slip", "invoice": "Invoice", "return": "Return receipt"}
TEXT_WIDTH = 78


@dataclass(frozen=True, slots=True)
class PrintLine:
    """One line of output; ``style`` is ``title``, ``head``, ``body`` or ``serials``."""

    style: str
    text: str


def serial_text(serials: tuple[str | None, ...]) -> list[str]:
    """Serials as printed: blanks (R7) show as ``(not readable)``."""
    return [s if s is not None else NOT_READABLE for s in serials]


def print_lines(document: PrintedDocument, width: int = TEXT_WIDTH) -> Iterator[PrintLine]:
    """The document as lines, shared by the text and the PDF renderers."""
    title = TITLES.get(document.kind, document.kind)
    yield PrintLine("title", f"{title} {document.document_id}")
    if document.reference != document.document_id:
        yield PrintLine("head", f"Sales order: {document.reference}")
    yield PrintLine("head", f"Customer: {document.customer_name} ({document.customer_id})")
    yield PrintLine("head", f"Date: {document.posted_on.isoformat()}")
    if document.status not in {"posted", "received"}:
        yield PrintLine("head", f"Status: {document.status}")
    yield PrintLine("head", "")
    yield PrintLine("head", f"{'Line':>4}  {'Item':<16} {'Description':<40} {'Qty':>6}")
    for line in document.lines:
        yield from _line(line, width)


def _line(line: JournalLine, width: int) -> Iterator[PrintLine]:
    name = line.item_name[:40]
    note = "  REVERSED" if line.status == "reversed" else ""
    yield PrintLine(
        "body", f"{line.line_number:>4}  {line.item_id:<16} {name:<40} {line.quantity:>6}{note}"
    )
    serials = serial_text(line.serials)
    if not serials:
        return
    label = f"      Serial numbers ({len(serials)}): "
    for row in textwrap.wrap(
        ", ".join(serials), width=width, initial_indent=label,
        subsequent_indent=" " * len(label), break_on_hyphens=False,
    ):
        yield PrintLine("serials", row)


def render_text(document: PrintedDocument) -> str:
    """Plain text for a receipt printer or an e-mail body."""
    return "\n".join(line.text for line in print_lines(document)) + "\n"


_FONTS = {
    "title": ("Helvetica-Bold", 14.0), "head": ("Courier", 9.0),
    "body": ("Courier-Bold", 9.0), "serials": ("Courier", 9.0),
}


def render_pdf(document: PrintedDocument, *, compress: bool = True) -> bytes:
    """An A4 PDF with a Code 128 of the document id, for printing or archiving.

    Output is byte-for-byte repeatable (reportlab's invariant mode); set
    ``compress=False`` to keep page streams readable.
    """
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=int(compress))
    title = f"{TITLES.get(document.kind, document.kind)} {document.document_id}"
    pdf.setTitle(title)
    pdf.setAuthor("scangw order store")
    page_width, page_height = A4
    margin = 18 * mm
    usable = page_width - 2 * margin
    chars = int(usable // stringWidth("M", "Courier", 9.0))
    y = page_height - margin
    Code128(document.document_id, barHeight=12 * mm, barWidth=0.3 * mm).drawOn(
        pdf, page_width - margin - 60 * mm, y - 12 * mm
    )
    for line in print_lines(document, width=chars):
        font, size = _FONTS[line.style]
        if y < margin + size:
            pdf.showPage()
            y = page_height - margin
        pdf.setFont(font, size)
        y -= size * 1.4
        pdf.drawString(margin, y, line.text)
    pdf.save()
    return buffer.getvalue()


__all__ = ["NOT_READABLE", "PrintLine", "print_lines", "render_pdf", "render_text"]
