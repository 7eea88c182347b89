"""Bytes a scanner understands as "good read" / "bad read".

The gateway decides whether a scan was accepted; the scanner should beep
accordingly. Models differ, so feedback is a named preset or raw hex per
scanner. Pure code: building the bytes, no port access.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from drivers.base import DriverConfig

# Honeywell "Host ACK" mode: ESC, a digit, and a mandatory comma.
HONEYWELL_GOOD = b"\x1b7,"
HONEYWELL_BAD = b"\x1b8,"

# Zebra SSI (Simple Serial Interface).
SSI_SOURCE_HOST = 0x04
SSI_BEEP = 0xE6
SSI_LED_ON = 0xE7
SSI_LED_OFF = 0xE8
SSI_ACK = 0xD0
SSI_NAK = 0xD1
SSI_BEEP_ONE_SHORT_HIGH = 0x00
SSI_BEEP_THREE_SHORT_LOW = 0x07


def ssi_packet(opcode: int, data: bytes = b"", *, source: int = SSI_SOURCE_HOST,
               status: int = 0) -> bytes:
    """One SSI packet: length, opcode, source, status, data, 16-bit checksum.

    The length byte counts itself and everything up to the checksum; the
    checksum is the two's complement of the sum of those bytes, high byte first.
    """
    length = 4 + len(data)
    if length > 0xFF:
        raise ValueError(f"SSI data of {len(data)} bytes does not fit one packet (max 251)")
    body = bytes([length, opcode, source, status]) + data
    checksum = (-sum(body)) & 0xFFFF
    return body + checksum.to_bytes(2, "big")


def ssi_checksum_ok(packet: bytes) -> bool:
    """True when ``packet`` is one whole SSI packet with a valid checksum."""
    if len(packet) < 6 or packet[0] != len(packet) - 2:
        return False
    return (sum(packet[:-2]) + int.from_bytes(packet[-2:], "big")) & 0xFFFF == 0


def ssi_beep(code: int) -> bytes:
    """The SSI BEEP command for one of the scanner's beep patterns (0..0x19)."""
    return ssi_packet(SSI_BEEP, bytes([code]))


FeedbackPreset = Literal["none", "honeywell", "zebra-ssi"]

PRESETS: dict[str, tuple[bytes, bytes]] = {
    "none": (b"", b""),
    "honeywell": (HONEYWELL_GOOD, HONEYWELL_BAD),
    "zebra-ssi": (ssi_beep(SSI_BEEP_ONE_SHORT_HIGH), ssi_beep(SSI_BEEP_THREE_SHORT_LOW)),
}
"""Good/bad bytes per preset; ``zebra-ssi`` beeps one short high / three short low."""


def parse_hex(value: str) -> bytes:
    """Hex text such as ``'1b372c'`` or ``'1b 37 2c'`` to bytes."""
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"not hex bytes: {value!r} (write e.g. '1b372c')") from None


class ByteFeedbackConfig(DriverConfig):
    """Config keys of drivers that can send bytes back to the scanner."""

    feedback: FeedbackPreset = Field(
        default="none",
        description="Feedback preset: none, honeywell (Host ACK 'ESC 7,' / 'ESC 8,'), "
        "zebra-ssi (SSI BEEP packets). feedback_good/feedback_bad override it.",
        examples=["honeywell"],
    )
    feedback_good: str | None = Field(
        default=None, description="Bytes (hex) sent to the scanner on a good decision.",
        examples=["1b372c"],
    )
    feedback_bad: str | None = Field(
        default=None, description="Bytes (hex) sent on a bad decision.", examples=["1b382c"],
    )

    @field_validator("feedback_good", "feedback_bad")
    @classmethod
    def _hex_bytes(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hex(value)
        return value

    def feedback_bytes(self, good: bool) -> bytes:
        """What to send for a decision; empty when the scanner takes nothing."""
        override = self.feedback_good if good else self.feedback_bad
        if override is not None:
            return parse_hex(override)
        good_bytes, bad_bytes = PRESETS[self.feedback]
        return good_bytes if good else bad_bytes


class SsiReplyFilter:
    """Remove the scanner's SSI ACK/NAK replies to our BEEP commands from the data stream.

    A Zebra scanner answers each SSI command with an ACK (or NAK) packet on the
    same line the scans arrive on; left in, it would glue binary bytes to the
    next scan. Packets split across reads are held back until complete.
    """

    _REPLIES: ClassVar[dict[int, int]] = {0x04: SSI_ACK, 0x05: SSI_NAK}  # length -> opcode

    def __init__(self) -> None:
        self._held = b""
        self.removed = 0
        """Replies removed so far (for diagnostics)."""

    def feed(self, chunk: bytes) -> bytes:
        data = self._held + chunk
        self._held = b""
        out = bytearray()
        i = 0
        while i < len(data):
            opcode = self._REPLIES.get(data[i])
            if opcode is None:
                out.append(data[i])
                i += 1
                continue
            size = data[i] + 2
            candidate = data[i : i + size]
            if len(candidate) < size:
                if len(candidate) < 2 or candidate[1] == opcode:
                    self._held = candidate  # maybe the start of a reply: wait for the rest
                    break
            elif candidate[1] == opcode and ssi_checksum_ok(candidate):
                self.removed += 1
                i += size
                continue
            out.append(data[i])
            i += 1
        return bytes(out)

    @property
    def holding(self) -> bool:
        """True while bytes that may start a reply are held back."""
        return bool(self._held)

    def flush(self) -> bytes:
        """Release held bytes that never became a reply (idle gap, end of stream)."""
        held, self._held = self._held, b""
        return held

    def reset(self) -> None:
        self._held = b""
