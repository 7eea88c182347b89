"""Find a scanner by what it is, not by where the kernel put it today.

``/dev/ttyUSB0`` and ``/dev/input/event5`` renumber on every replug; a USB
vendor id, product id and serial number do not. Pure matching code, shared by
the serial, keyboard-wedge and HID POS drivers.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field


def parse_usb_id(value: object) -> int:
    """Read a 16-bit USB id: an int, or hex text with or without ``0x``.

    Text is always hex (``"0c2e"``, ``"0x0C2E"``) because that is how ``lsusb``
    prints it; YAML already turns an unquoted ``0x0c2e`` into the right int.
    """
    if isinstance(value, bool):
        raise ValueError(f"USB id must be a number, got {value!r}")  # noqa: TRY004 - pydantic
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip().lower().removeprefix("0x")
        try:
            number = int(text, 16)
        except ValueError:
            raise ValueError(
                f"USB id {value!r} is not hex; write it as lsusb shows it, e.g. '0c2e'"
            ) from None
    else:
        raise ValueError(f"USB id must be hex text like '0c2e', got {value!r}")  # noqa: TRY004
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"USB id {value!r} is outside 0000..ffff")
    return number


UsbId = Annotated[int, BeforeValidator(parse_usb_id)]
"""A USB vendor or product id in a config model."""

VID_FIELD = Field(
    default=None, description="USB vendor id (hex as lsusb shows it).", examples=["0c2e"]
)
PID_FIELD = Field(
    default=None, description="USB product id (hex as lsusb shows it).", examples=["0b61"]
)
SERIAL_FIELD = Field(
    default=None, description="USB serial number, to tell two scanners of the same model apart.",
    examples=["21143B4A30"],
)


def usb_matches(
    *,
    vid: int | None,
    pid: int | None,
    serial_number: str | None,
    found_vid: int | None,
    found_pid: int | None,
    found_serial: str | None,
) -> bool:
    """True when every identity key that is set equals the found device's."""
    if vid is not None and vid != found_vid:
        return False
    if pid is not None and pid != found_pid:
        return False
    return serial_number is None or serial_number == found_serial


def describe_identity(vid: int | None, pid: int | None, serial_number: str | None) -> str:
    """Human text for log lines: ``0c2e:0b61 serial 21143B4A30``."""
    parts = [f"{vid:04x}" if vid is not None else "*", f"{pid:04x}" if pid is not None else "*"]
    text = ":".join(parts)
    return f"{text} serial {serial_number}" if serial_number else text


class AmbiguousDeviceError(LookupError):
    """Several connected devices match one scanner's identity."""
