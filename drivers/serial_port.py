"""RS-232, USB-serial and Bluetooth SPP scanners through pyserial.

The port is read without blocking from the event loop (``loop.add_reader``), so a
scan is framed the moment its terminator arrives. A scanner is found by its
path or, better, by USB identity (VID/PID/serial number): ``/dev/ttyACM0``
becomes ``/dev/ttyACM1`` after a replug, the identity stays. When the device
vanishes the read fails; the driver reports the scanner offline, drops the
partial scan and looks for the same device until it is back.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Iterable
from typing import Literal

import serial
from pydantic import Field, field_validator, model_validator
from serial.tools.list_ports import comports

from drivers.base import ScannerDriver, ScanSink, register_driver
from drivers.identity import (
    PID_FIELD,
    SERIAL_FIELD,
    VID_FIELD,
    AmbiguousDeviceError,
    UsbId,
    describe_identity,
    usb_matches,
)
from drivers.stream import StreamConfig, StreamScans

log = logging.getLogger(__name__)


class SerialConfig(StreamConfig):
    """A scanner on a serial line (``kind: serial``), by path or by USB identity."""

    kind: Literal["serial"] = "serial"
    port: str | None = Field(
        default=None,
        description="Device path, e.g. /dev/ttyACM0 or /dev/serial/by-id/...; "
        "leave out when matching by vid/pid/serial_number.",
        examples=["/dev/serial/by-id/usb-Honeywell_1950g-if00"],
    )
    vid: UsbId | None = VID_FIELD
    pid: UsbId | None = PID_FIELD
    serial_number: str | None = SERIAL_FIELD
    baudrate: int = Field(
        default=9600, gt=0, description="Line speed in bits per second.", examples=[9600, 115200]
    )
    bytesize: Literal[5, 6, 7, 8] = Field(default=8, description="Data bits.", examples=[8, 7])
    parity: Literal["none", "even", "odd", "mark", "space"] = Field(
        default="none",
        description="Parity; Honeywell MetroSelect defaults to 7 data bits, space parity.",
        examples=["none", "space"],
    )
    stopbits: float = Field(default=1, description="Stop bits: 1, 1.5 or 2.", examples=[1, 2])
    xonxoff: bool = Field(default=False, description="Software flow control.", examples=[False])
    rtscts: bool = Field(default=False, description="Hardware flow control.", examples=[False])
    reopen_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="Wait between reopen attempts.",
        examples=[1.0],
    )

    @field_validator("stopbits")
    @classmethod
    def _known_stopbits(cls, value: float) -> float:
        if value not in (1, 1.5, 2):
            raise ValueError(f"stopbits must be 1, 1.5 or 2, got {value}")
        return value

    @model_validator(mode="after")
    def _port_or_identity(self) -> SerialConfig:
        identity = (self.vid, self.pid, self.serial_number)
        if self.port is None and all(v is None for v in identity):
            raise ValueError(
                "set port (a device path) or vid/pid/serial_number to find the scanner"
            )
        if self.port is not None and any(v is not None for v in identity):
            raise ValueError("set either port or vid/pid/serial_number, not both")
        return self

    def describe(self) -> str:
        return self.port or describe_identity(self.vid, self.pid, self.serial_number)


_PARITY = {
    "none": serial.PARITY_NONE,
    "even": serial.PARITY_EVEN,
    "odd": serial.PARITY_ODD,
    "mark": serial.PARITY_MARK,
    "space": serial.PARITY_SPACE,
}


def match_ports(
    ports: Iterable[object], vid: int | None, pid: int | None, serial_number: str | None
) -> str | None:
    """Device path of the one port with this identity; None when it is not plugged in.

    ``ports`` are ``serial.tools.list_ports`` entries. Raises
    ``AmbiguousDeviceError`` when several match, naming them.
    """
    found = [
        str(getattr(p, "device", ""))
        for p in ports
        if usb_matches(
            vid=vid,
            pid=pid,
            serial_number=serial_number,
            found_vid=getattr(p, "vid", None),
            found_pid=getattr(p, "pid", None),
            found_serial=getattr(p, "serial_number", None),
        )
    ]
    if len(found) > 1:
        raise AmbiguousDeviceError(
            f"{len(found)} serial ports match {describe_identity(vid, pid, serial_number)}: "
            f"{', '.join(sorted(found))}; add serial_number to pick one"
        )
    return found[0] if found else None


PERMISSION_HINT = (
    "add the gateway's user to the 'dialout' group (sudo usermod -aG dialout USER, then log in "
    "again) or give it the port with a udev rule"
)


def explain_open_error(exc: Exception) -> str:
    """The open error plus what to do about the usual causes."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, PermissionError) or code == errno.EACCES:
        return f"{exc}; {PERMISSION_HINT}"
    if code in (errno.EAGAIN, errno.EWOULDBLOCK):
        return f"{exc}; another program has the port open (ModemManager, a terminal?)"
    return str(exc)


@register_driver
class SerialScanner(ScannerDriver):
    kind = "serial"
    config_model = SerialConfig

    def __init__(self, name: str, config: SerialConfig) -> None:
        super().__init__(name, config)
        self.settings = config
        self._port: serial.Serial | None = None

    async def run(self, emit: ScanSink) -> None:
        warned = False
        scans = StreamScans(self.name, self.settings, emit)
        while True:
            try:
                port = await asyncio.to_thread(self._open)
            except (serial.SerialException, OSError, LookupError) as exc:
                log.debug("scanner %s: open failed: %s", self.name, exc)
                if not warned:
                    log.warning(
                        "scanner %s: cannot open %s: %s; retrying every %.1fs",
                        self.name,
                        self.settings.describe(),
                        explain_open_error(exc),
                        self.settings.reopen_interval_s,
                    )
                    warned = True
                await asyncio.sleep(self.settings.reopen_interval_s)
                continue
            warned = False
            self._port = port
            self.online = True
            log.info("scanner %s: online at %s", self.name, port.port)
            try:
                await self._read_until_gone(port, scans)
            finally:
                self.online = False
                scans.discard()  # a scan cut by the unplug is never half-registered
                self._port = None
                port.close()
            log.warning(
                "scanner %s: device %s vanished; waiting for it to return",
                self.name,
                self.settings.describe(),
            )

    async def feedback(self, good: bool) -> None:
        data = self.settings.feedback_bytes(good)
        port = self._port
        if not data or port is None:
            return
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            log.warning("scanner %s: feedback not sent: %s", self.name, exc)

    def _device_path(self) -> str:
        s = self.settings
        if s.port is not None:
            return s.port
        path = match_ports(comports(), s.vid, s.pid, s.serial_number)
        if path is None:
            raise LookupError(f"no serial port with USB identity {s.describe()} is plugged in")
        return path

    def _open(self) -> serial.Serial:
        s = self.settings
        return serial.Serial(
            port=self._device_path(),
            baudrate=s.baudrate,
            bytesize=s.bytesize,
            parity=_PARITY[s.parity],
            stopbits=s.stopbits,
            xonxoff=s.xonxoff,
            rtscts=s.rtscts,
            timeout=0,
            write_timeout=0,
            exclusive=True,
        )

    async def _read_until_gone(self, port: serial.Serial, scans: StreamScans) -> None:
        loop = asyncio.get_running_loop()
        gone: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            try:
                chunk = port.read(max(port.in_waiting, 1))
            except (serial.SerialException, OSError) as exc:
                if not gone.done():
                    gone.set_result(None)
                log.debug("scanner %s: read failed: %s", self.name, exc)
                return
            if chunk:
                scans.feed(chunk)

        fd = port.fileno()
        loop.add_reader(fd, readable)
        try:
            await gone
        finally:
            loop.remove_reader(fd)
