"""The printed command sheet: a real PDF whose bars decode to the command texts.

The test reads the bars back out of the PDF content stream and decodes them as
Code 128 (with its checksum), so a sheet with missing, extra or wrong barcodes
fails. reportlab's pattern table gives the bar widths of each symbol value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reportlab.graphics.barcode import code128

from gateway.command_sheet import (
    SheetEntry,
    command_sheet_pdf,
    render_sheet,
    sheet_entries,
    write_command_sheet,
)
from gateway.commands import CommandConfig, parse_command

_NUMBER = r"(-?[\d.]+)"
_RECT = re.compile(rf"{_NUMBER} {_NUMBER} {_NUMBER} {_NUMBER} re f\*")
_PATTERNS: dict[object, str] = vars(code128)["_patterns"]  # value -> 'BaBbBb' bar/space widths
_WIDTHS_TO_VALUE = {
    tuple(ord(c.lower()) - ord("a") + 1 for c in pattern): value
    for value, pattern in _PATTERNS.items()
    if isinstance(value, int)
}


def content_streams(pdf: bytes) -> list[str]:
    text = pdf.decode("latin-1")
    return re.findall(r"stream\r?\n(.*?)endstream", text, flags=re.DOTALL)


def barcodes_in(pdf: bytes) -> list[list[tuple[float, float]]]:
    """Bars (x, width) of each q...Q block that draws rectangles, in page order."""
    found = []
    for stream in content_streams(pdf):
        for block in re.findall(r"^q\n(.*?)^Q$", stream, flags=re.DOTALL | re.MULTILINE):
            bars = [(float(m[0]), float(m[2])) for m in _RECT.findall(block)]
            if bars:
                found.append(sorted(bars))
    return found


def decode_code128(bars: list[tuple[float, float]]) -> str:
    """Bars -> module widths -> symbol values -> text, checking the checksum."""
    module = min(width for _, width in bars)
    widths: list[int] = []
    for index, (x, width) in enumerate(bars):
        widths.append(round(width / module))
        if index + 1 < len(bars):
            widths.append(round((bars[index + 1][0] - x - width) / module))
    stop = widths[-7:]
    assert stop == [2, 3, 3, 1, 1, 1, 2], "no Code 128 stop pattern"
    values = [_WIDTHS_TO_VALUE[tuple(widths[i:i + 6])] for i in range(0, len(widths) - 7, 6)]
    start, *data, check = values
    assert (start + sum(i * v for i, v in enumerate(data, 1))) % 103 == check, "bad checksum"
    code_set = {103: "A", 104: "B", 105: "C"}[start]
    text = ""
    for value in data:
        switch = {"C": {100: "B", 101: "A"}, "B": {99: "C", 101: "A"},
                  "A": {99: "C", 100: "B"}}[code_set].get(value)
        if switch:
            code_set = switch
        elif code_set == "C" and value < 100:
            text += f"{value:02d}"
        elif code_set == "B" and value < 96:
            text += chr(value + 32)
        elif code_set == "A" and value < 96:
            text += chr(value + 32) if value < 64 else chr(value - 64)
        else:
            raise AssertionError(f"symbol {value} in code set {code_set} is not text")
    return text


def test_sheet_is_a_pdf_with_one_readable_barcode_per_command() -> None:
    pdf = command_sheet_pdf()
    assert pdf.startswith(b"%PDF-")
    decoded = [decode_code128(bars) for bars in barcodes_in(pdf)]
    assert decoded == [
        "SGW-MODE-ADD", "SGW-MODE-REMOVE", "SGW-NOT-READABLE", "SGW-NEXT-LINE",
        "SGW-PREV-LINE", "SGW-POST", "SGW-UNDO-LAST", "SGW-CANCEL",
    ]
    # every barcode reads back as the command it stands for
    assert all(parse_command(text) is not None for text in decoded)


def test_captions_and_human_readable_text_are_printed() -> None:
    page = "".join(content_streams(command_sheet_pdf()))
    assert "(SGW-POST) Tj" in page
    assert "(Post the packing slip) Tj" in page
    assert r"\(R7\)" in page  # the not-readable caption cites its rule


def test_prefix_and_open_commands_follow_the_config() -> None:
    pdf = command_sheet_pdf(CommandConfig(prefix="CMD:"), order_ids=["SO-1042"],
                            slip_ids=["PS-9"])
    decoded = [decode_code128(bars) for bars in barcodes_in(pdf)]
    assert decoded[0] == "CMD:MODE-ADD"
    assert decoded[-2:] == ["CMD:OPEN-ORDER:SO-1042", "CMD:OPEN-SLIP:PS-9"]
    assert len(decoded) == len(sheet_entries(CommandConfig(prefix="CMD:"), ["SO-1042"], ["PS-9"]))


@pytest.mark.parametrize(("size", "media_box"), [("A4", "595.2756 841.8898"),
                                                 ("Letter", "612 792")])
def test_page_size(size: str, media_box: str) -> None:
    pdf = command_sheet_pdf(page_size=size)  # type: ignore[arg-type]
    assert f"/MediaBox [ 0 0 {media_box} ]".encode() in pdf


def test_long_lists_run_onto_more_pages() -> None:
    orders = [f"SO-{n}" for n in range(30)]
    pdf = command_sheet_pdf(order_ids=orders)
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages >= 3
    assert len(barcodes_in(pdf)) == 8 + 30


def test_same_input_same_bytes() -> None:
    assert command_sheet_pdf() == command_sheet_pdf()


def test_write_to_a_path(tmp_path: Path) -> None:
    target = write_command_sheet(tmp_path / "sheet.pdf", page_size="Letter")
    assert target.read_bytes().startswith(b"%PDF-")
    assert len(barcodes_in(target.read_bytes())) == 8


@pytest.mark.parametrize("value", ["SGW-Ü", "", "SGW-\x1d"])
def test_values_code128_text_cannot_carry_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        render_sheet([SheetEntry(value, "x")])


def test_too_long_to_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        render_sheet([SheetEntry("SGW-OPEN-ORDER:" + "X" * 80, "x")])
