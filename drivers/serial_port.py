"""RS-232, USB-serial and Bluetooth SPP scanners through pyserial.

The port is read without blocking from the event loop (``loop.add_reader``), so a
scan is framed the moment its terminator arrives. When the device vanishes the
read fails; the driver reports the scanner offline, drops the partial scan and
reopens the same path until the device is back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import serial
from pydantic import Field, field_validator

from drivers.base import DriverConfig, RawScan, ScannerDriver, ScanSink, register_driver
from drivers.framing import Framer, parse_terminator

log = logging.getLogger(__name__)


class SerialConfig(DriverConfig):
    """A scanner on a serial line (``kind: serial``)."""

    kind: Literal["serial"] = "serial"
    port: str = Field(description="Device path, e.g. /dev/ttyACM0 or /dev/serial/by-id/...",
                      examples=["/dev/ttyACM0"])
    baudrate: int = Field(9600, gt=0, description="Line speed in bits per second.")
    bytesize: Literal[5, 6, 7, 8] = Field(8, description="Data bits.")
    parity: Literal["none", "even", "odd", "mark", "space"] = Field("none")
    stopbits: float = Field(1, description="Stop bits: 1, 1.5 or 2.")
    xonxoff: bool = Field(False, description="Software flow control.")
    rtscts: bool = Field(False, description="Hardware flow control.")
    terminator: str = Field(
        "any-newline",
        description="What ends a scan: cr, lf, crlf, tab, any-newline, or custom bytes 'hex:03'.",
    )
    max_length: int = Field(256, ge=1, le=65536, description="Longest scan in bytes.")
    idle_gap_ms: int | None = Field(
        None, ge=1,
        description="End a scan after this silence (scanners set to send no terminator).",
    )
    feedback_good: str | None = Field(
        None, description="Bytes (hex) sent to the scanner on a good decision, e.g. '1b372c'."
    )
    feedback_bad: str | None = Field(None, description="Bytes (hex) sent on a bad decision.")
    reopen_interval_s: float = Field(1.0, gt=0, description="Wait between reopen attempts.")

    @field_validator("stopbits")
    @classmethod
    def _known_stopbits(cls, value: float) -> float:
        if value not in (1, 1.5, 2):
            raise ValueError(f"stop bits must be 1, 1.5 or 2, not {value}")
        return value

    @field_validator("terminator")
    @classmethod
    def _known_terminator(cls, value: str) -> str:
        parse_terminator(value)
        return value

    @field_validator("feedback_good", "feedback_bad")
    @classmethod
    def _hex_bytes(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                bytes.fromhex(value)
            except ValueError:
                raise ValueError(f"not hex bytes: {value!r} (write e.g. '1b372c')") from None
        return value


_PARITY = {
    "none": serial.PARITY_NONE, "even": serial.PARITY_EVEN, "odd": serial.PARITY_ODD,
    "mark": serial.PARITY_MARK, "space": serial.PARITY_SPACE,
}


@register_driver
class SerialScanner(ScannerDriver):
    kind = "serial"
    config_model = SerialConfig

    def __init__(self, name: str, config: SerialConfig) -> None:
        super().__init__(name, config)
        self.settings = config
        self._framer = Framer(parse_terminator(config.terminator), config.max_length)
        self._port: serial.Serial | None = None

    async def run(self, emit: ScanSink) -> None:
        warned = False
        while True:
            try:
                port = await asyncio.to_thread(self._open)
            except (serial.SerialException, OSError) as exc:
                if not warned:
                    log.warning("scanner %s: cannot open %s: %s; retrying every %.1fs",
                                self.name, self.settings.port, exc, self.settings.reopen_interval_s)
                    warned = True
                await asyncio.sleep(self.settings.reopen_interval_s)
                continue
            warned = False
            self._port = port
            self.online = True
            log.info("scanner %s: online at %s", self.name, self.settings.port)
            try:
                await self._read_until_gone(port, emit)
            finally:
                self.online = False
                self._framer.reset()  # a scan cut by the unplug is never half-registered
                self._port = None
                port.close()
            log.warning("scanner %s: device %s vanished; waiting for it to return",
                        self.name, self.settings.port)

    async def feedback(self, good: bool) -> None:
        spec = self.settings.feedback_good if good else self.settings.feedback_bad
        port = self._port
        if spec is None or port is None:
            return
        try:
            port.write(bytes.fromhex(spec))
        except (serial.SerialException, OSError) as exc:
            log.warning("scanner %s: feedback not sent: %s", self.name, exc)

    def _open(self) -> serial.Serial:
        s = self.settings
        return serial.Serial(
            port=s.port, baudrate=s.baudrate, bytesize=s.bytesize, parity=_PARITY[s.parity],
            stopbits=s.stopbits, xonxoff=s.xonxoff, rtscts=s.rtscts, timeout=0,
            write_timeout=0, exclusive=True,
        )

    async def _read_until_gone(self, port: serial.Serial, emit: ScanSink) -> None:
        loop = asyncio.get_running_loop()
        gone: asyncio.Future[None] = loop.create_future()
        idle: asyncio.TimerHandle | None = None
        gap = self.settings.idle_gap_ms

        def flush_idle() -> None:
            for frame in self._framer.flush():
                emit(RawScan(self.name, frame.data, frame.overlong))

        def readable() -> None:
            nonlocal idle
            try:
                chunk = port.read(max(port.in_waiting, 1))
            except (serial.SerialException, OSError) as exc:
                if not gone.done():
                    gone.set_result(None)
                log.debug("scanner %s: read failed: %s", self.name, exc)
                return
            if not chunk:
                return
            for frame in self._framer.feed(chunk):
                emit(RawScan(self.name, frame.data, frame.overlong))
            if gap is not None:
                if idle is not None:
                    idle.cancel()
                idle = loop.call_later(gap / 1000, flush_idle) if self._framer.pending else None

        fd = port.fileno()
        loop.add_reader(fd, readable)
        try:
            await gone
        finally:
            loop.remove_reader(fd)
            if idle is not None:
                idle.cancel()
