"""A printable sheet of command barcodes to hang at the packing station.

Real Code 128 symbols (reportlab) with a caption and the command text under
each, so a scanner reads them and a person can tell them apart. Built in
memory; the CLI (``scangw commands sheet --out FILE``) only writes the bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from gateway.commands import (
    DEFAULT_COMMAND_CONFIG,
    DESCRIPTIONS,
    TAKES_ARGUMENT,
    CommandConfig,
    CommandName,
    command_text,
)

PageSize = Literal["A4", "Letter"]
_PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "Letter": LETTER}

_MODULE = 0.33 * mm  # X-dimension: 13 mil reads well from a laser print at arm's length
_BAR_HEIGHT = 15 * mm
_MARGIN = 18 * mm
_ENTRY_HEIGHT = _BAR_HEIGHT + 16 * mm


@dataclass(frozen=True, slots=True)
class SheetEntry:
    """One barcode on the sheet: the data it carries and the caption above it."""

    value: str
    caption: str


def sheet_entries(
    config: CommandConfig = DEFAULT_COMMAND_CONFIG,
    order_ids: Iterable[str] = (),
    slip_ids: Iterable[str] = (),
) -> list[SheetEntry]:
    """Every argument-free command, then OPEN-ORDER/OPEN-SLIP for the ids given."""
    entries = [
        SheetEntry(command_text(name, prefix=config.prefix), DESCRIPTIONS[name])
        for name in CommandName
        if name not in TAKES_ARGUMENT
    ]
    for name, ids in ((CommandName.OPEN_ORDER, order_ids), (CommandName.OPEN_SLIP, slip_ids)):
        entries.extend(
            SheetEntry(command_text(name, doc_id, config.prefix), f"{DESCRIPTIONS[name]} {doc_id}")
            for doc_id in ids
        )
    return entries


def _check_printable(entries: Sequence[SheetEntry]) -> None:
    for entry in entries:
        bad = [c for c in entry.value if not 32 <= ord(c) < 127]
        if bad or not entry.value:
            raise ValueError(
                f"cannot print {entry.value!r} as Code 128 text: use printable ASCII only"
            )


def render_sheet(
    entries: Sequence[SheetEntry],
    page_size: PageSize = "A4",
    title: str = "scangw station commands",
) -> bytes:
    """Lay the entries out one under the other, paging as needed; returns PDF bytes.

    ``invariant`` keeps the output byte-identical for the same input, so a sheet
    can be compared or cached.
    """
    _check_printable(entries)
    width, height = _PAGE_SIZES[page_size]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=0)
    canvas.setTitle(title)
    y = _start_page(canvas, title, height)
    for entry in entries:
        if y - _ENTRY_HEIGHT < _MARGIN:
            canvas.showPage()
            y = _start_page(canvas, title, height)
        _draw_entry(canvas, entry, _MARGIN, y - _ENTRY_HEIGHT, width - 2 * _MARGIN)
        y -= _ENTRY_HEIGHT
    canvas.save()
    return buffer.getvalue()


def _start_page(canvas: Canvas, title: str, height: float) -> float:
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(_MARGIN, height - _MARGIN, title)
    return height - _MARGIN - 6 * mm


def _draw_entry(canvas: Canvas, entry: SheetEntry, x: float, y: float, width: float) -> None:
    barcode = Code128(entry.value, barWidth=_MODULE, barHeight=_BAR_HEIGHT, humanReadable=False)
    if barcode.width > width:
        raise ValueError(
            f"command {entry.value!r} is too long to print on one line; "
            "use a shorter prefix or id"
        )
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(x, y + _BAR_HEIGHT + 9 * mm, entry.caption)
    barcode.drawOn(canvas, x, y + 5 * mm)
    canvas.setFont("Courier", 10)
    canvas.drawString(x + barcode.lquiet, y + 1 * mm, entry.value)


def command_sheet_pdf(
    config: CommandConfig = DEFAULT_COMMAND_CONFIG,
    page_size: PageSize = "A4",
    order_ids: Iterable[str] = (),
    slip_ids: Iterable[str] = (),
) -> bytes:
    """The station's command sheet as PDF bytes."""
    return render_sheet(sheet_entries(config, order_ids, slip_ids), page_size)


def write_command_sheet(
    path: Path | str,
    config: CommandConfig = DEFAULT_COMMAND_CONFIG,
    page_size: PageSize = "A4",
    order_ids: Iterable[str] = (),
    slip_ids: Iterable[str] = (),
) -> Path:
    """What ``scangw commands sheet --out FILE`` calls; returns the path written."""
    target = Path(path)
    target.write_bytes(command_sheet_pdf(config, page_size, order_ids, slip_ids))
    return target
