"""R14: posted packing slips and invoices print with their serials."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import date

import pytest

from orderstore.printing import NOT_READABLE, render_pdf, render_text
from scangw.sales import PrintedDocument, SalesLedger

DAY = date(2026, 3, 2)
SERIALS = [f"TV-{n:04d}" for n in range(1, 40)]


@pytest.fixture
def documents(ledger: SalesLedger) -> tuple[PrintedDocument, PrintedDocument]:
    """A posted slip of 40 televisions (one not readable) and its invoice."""
    ledger.add_order("SO-1", "C1", {1: ("TV", 40), 2: ("BOLT", 4)})
    slip = ledger.open_packing_slip("SO-1")
    for serial in [*SERIALS, None]:
        assert ledger.register(slip.id, 1, serial).accepted
    ledger.post_packing_slip(slip.id, DAY)
    invoice = ledger.open_invoice("SO-1", {1: 2})
    ledger.select_for_invoice(invoice.id, 1, "TV-0007")
    ledger.select_for_invoice(invoice.id, 1, "TV-0030")
    ledger.post_invoice(invoice.id, DAY)
    return ledger.printable(slip.id), ledger.printable(invoice.id)


def pdf_text(pdf: bytes) -> str:
    """Text of every stream; compressed ones are ASCII85 then Flate (reportlab)."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\n?endstream", pdf, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):
            raw = zlib.decompress(base64.a85decode(raw, adobe=True))
        chunks.append(raw)
    return b"\n".join(chunks).decode("latin-1")


def test_r14_text_packing_slip_lists_every_serial(documents: tuple[PrintedDocument, ...]) -> None:
    text = render_text(documents[0])
    assert text.startswith("Packing slip PS-1\n")
    assert "Contoso Retail" in text
    assert all(serial in text for serial in SERIALS)
    assert NOT_READABLE in text
    assert "Serial numbers (40)" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_r14_text_invoice_lists_only_its_serials(documents: tuple[PrintedDocument, ...]) -> None:
    text = render_text(documents[1])
    assert text.startswith("Invoice INV-1\n")
    assert "TV-0007, TV-0030" in text
    assert "TV-0001" not in text


@pytest.mark.parametrize("compress", [False, True])
def test_r14_pdf_carries_every_serial(
    documents: tuple[PrintedDocument, ...], compress: bool
) -> None:
    pdf = render_pdf(documents[0], compress=compress)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert all(serial in text for serial in SERIALS)
    assert NOT_READABLE.replace("(", "\\(").replace(")", "\\)") in text
    assert "Packing slip PS-1" in text


def test_r14_pdf_is_repeatable_and_differs_per_document(
    documents: tuple[PrintedDocument, ...]
) -> None:
    slip, invoice = documents
    assert render_pdf(slip) == render_pdf(slip)
    assert render_pdf(slip) != render_pdf(invoice)
    assert "TV-0030" in pdf_text(render_pdf(invoice, compress=False))


def test_r14_long_serial_list_breaks_pages(ledger: SalesLedger) -> None:
    ledger.add_order("SO-2", "C2", {n: ("DRILL", 3) for n in range(1, 61)})
    slip = ledger.open_packing_slip("SO-2")
    for n in range(1, 61):
        for k in range(3):
            ledger.register(slip.id, n, f"D{n:02d}-{k}")
    ledger.post_packing_slip(slip.id, DAY)
    pdf = render_pdf(ledger.printable(slip.id), compress=False)
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 2
    assert "D60-2" in pdf_text(pdf)


def test_r12_r14_return_receipt_prints_its_serials(
    ledger: SalesLedger, documents: tuple[PrintedDocument, ...]
) -> None:
    rma = ledger.open_return("C1", {1: ("TV", 2)}, order_id="SO-1")
    ledger.register_return(rma.id, 1, "TV-0007")
    ledger.register_return(rma.id, 1, None)
    ledger.receive_return(rma.id, DAY)
    text = render_text(ledger.printable(rma.id))
    assert text.startswith(f"Return receipt {rma.id}\nSales order: SO-1\n")
    assert f"TV-0007, {NOT_READABLE}" in text
