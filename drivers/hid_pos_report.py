"""USB HID POS (usage page 0x8C) reports: the pure part of the HID POS driver.

A scanner in HID POS mode sends "scanned data" input reports instead of typing:

    report id | data length | 3 symbology (AIM) identifier bytes | data ... | continuation flag

with the flag in the last byte. A long scan spans several reports and is
joined until the flag clears. The AIM identifier is kept and put in front of
the data as ``]Xm`` so decoding sees which symbology was read (a GS1-128 is
``]C1``). Vendors differ in padding; offsets are settings.
"""

from __future__ import annotations

from dataclasses import dataclass

HID_POS_USAGE_PAGE = 0x8C
_ITEM_USAGE_PAGE = 0x04  # global item, tag 0
_LONG_ITEM = 0xFE


def usage_pages(descriptor: bytes) -> set[int]:
    """Usage pages a HID report descriptor declares (walks the short/long items)."""
    pages: set[int] = set()
    i = 0
    while i < len(descriptor):
        prefix = descriptor[i]
        if prefix == _LONG_ITEM:
            if i + 1 >= len(descriptor):
                break
            i += 3 + descriptor[i + 1]
            continue
        size = (0, 1, 2, 4)[prefix & 0x03]
        value = int.from_bytes(descriptor[i + 1 : i + 1 + size], "little")
        if prefix & 0xFC == _ITEM_USAGE_PAGE:
            pages.add(value & 0xFFFF)
        i += 1 + size
    return pages


def is_hid_pos(descriptor: bytes) -> bool:
    """True when the interface's report descriptor is a bar code scanner (page 0x8C)."""
    return HID_POS_USAGE_PAGE in usage_pages(descriptor)


def aim_prefix(ident: bytes) -> bytes:
    """The ``]Xm`` symbology identifier for a report's three identifier bytes.

    Accepts ``]C1`` as sent, ``C1`` without the bracket, or zeros (no identifier).
    """
    ident = ident.rstrip(b"\x00")
    if not ident:
        return b""
    if ident.startswith(b"]"):
        return ident[:3]
    return b"]" + ident[:2]


@dataclass(frozen=True, slots=True)
class ReportLayout:
    """Where the fields sit in a scanned-data report (vendors differ)."""

    report_id: int | None = 0x02
    """Only reports with this first byte are scans; None: every report, no id byte skipped."""
    aim_offset: int = 2
    data_offset: int = 5
    length_offset: int = 1


@dataclass(frozen=True, slots=True)
class ReportChunk:
    """One report's share of a scan."""

    aim: bytes
    data: bytes
    more: bool


class BadReportError(ValueError):
    """A report that cannot be a scanned-data report; the message says why."""


def parse_report(report: bytes, layout: ReportLayout = ReportLayout()) -> ReportChunk | None:
    """Parse one input report; None for reports of another id (not scans)."""
    if layout.report_id is not None:
        if not report:
            raise BadReportError("empty report")
        if report[0] != layout.report_id:
            return None
    if len(report) < layout.data_offset + 1:
        raise BadReportError(
            f"report of {len(report)} bytes is too short for a scan: {report.hex()}"
        )
    length = report[layout.length_offset]
    room = len(report) - 1 - layout.data_offset  # the last byte is the continuation flag
    if length > room:
        raise BadReportError(
            f"report says {length} data bytes but has room for {room}: {report.hex()}"
        )
    data = report[layout.data_offset : layout.data_offset + length]
    aim = report[layout.aim_offset : layout.aim_offset + 3]
    return ReportChunk(aim, bytes(data), bool(report[-1] & 0x01))


@dataclass(frozen=True, slots=True)
class HidScan:
    data: bytes
    overlong: bool = False


class HidScanAssembler:
    """Join a scan's reports until the continuation flag clears; bounded by max_length."""

    def __init__(self, layout: ReportLayout = ReportLayout(), max_length: int = 4096) -> None:
        self._layout = layout
        self._max_length = max_length
        self._aim: bytes | None = None
        self._data = bytearray()
        self._overlong = False

    @property
    def pending(self) -> bool:
        """True while a multi-report scan is incomplete."""
        return self._aim is not None

    def reset(self) -> None:
        self._aim = None
        self._data.clear()
        self._overlong = False

    def feed(self, report: bytes) -> HidScan | None:
        """Add one report; return the scan it completes. Raises BadReportError (and resets)."""
        try:
            chunk = parse_report(report, self._layout)
        except BadReportError:
            self.reset()
            raise
        if chunk is None:
            return None
        if self._aim is None:
            self._aim = aim_prefix(chunk.aim)
        room = self._max_length - len(self._data)
        if len(chunk.data) > room:
            self._overlong = True
        self._data += chunk.data[: max(room, 0)]
        if chunk.more:
            return None
        scan = HidScan(self._aim + bytes(self._data), self._overlong)
        self.reset()
        return scan


def build_reports(
    data: bytes, aim: bytes = b"]E0", *, size: int = 64, report_id: int = 0x02
) -> list[bytes]:
    """The reports a scanner sends for ``data`` (fixtures and the fake device use it)."""
    room = size - 6
    chunks = [data[i : i + room] for i in range(0, len(data), room)] or [b""]
    reports = []
    for n, chunk in enumerate(chunks):
        more = 1 if n < len(chunks) - 1 else 0
        body = bytes([report_id, len(chunk)]) + aim.ljust(3, b"\x00")[:3] + chunk
        reports.append(body.ljust(size - 1, b"\x00") + bytes([more]))
    return reports
