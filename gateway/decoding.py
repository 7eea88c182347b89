"""Turn a framed scan's bytes into what it says.

Pure code. A scan that is not text a barcode can carry (binary garbage, a
cut-off overlong read) becomes a ``BadRead`` the operator hears as a bad beep.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.base import RawScan

# Control characters a barcode may legitimately carry: GS (FNC1 separator in
# GS1 data), RS and EOT (ISO/IEC 15434 envelopes).
_ALLOWED_CONTROLS = frozenset({0x1D, 0x1E, 0x04})


@dataclass(frozen=True, slots=True)
class DecodedScan:
    """A readable scan."""

    scanner: str
    text: str
    received_ns: int


@dataclass(frozen=True, slots=True)
class BadRead:
    """A scan the station cannot use, with a stable reason code."""

    scanner: str
    reason: str
    message: str
    received_ns: int


def decode(raw: RawScan) -> DecodedScan | BadRead:
    """Decode one framed scan; never raises on any input bytes."""
    if raw.overlong:
        return BadRead(
            raw.scanner, "overlong", f"scan longer than the maximum of {len(raw.data)} bytes",
            raw.received_ns,
        )
    try:
        text = raw.data.decode("utf-8")
    except UnicodeDecodeError:
        return BadRead(raw.scanner, "unreadable", "scan is not text", raw.received_ns)
    bad = [c for c in text if (ord(c) < 0x20 or ord(c) == 0x7F) and ord(c) not in _ALLOWED_CONTROLS]
    if bad:
        return BadRead(
            raw.scanner, "unreadable", f"scan contains control byte 0x{ord(bad[0]):02X}",
            raw.received_ns,
        )
    text = text.strip(" ")
    if not text:
        return BadRead(raw.scanner, "empty", "empty scan", raw.received_ns)
    return DecodedScan(raw.scanner, text, raw.received_ns)
