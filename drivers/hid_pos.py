"""USB HID POS scanners (usage page 0x8C) read with pyusb.

HID POS keeps scans out of the keyboard path and carries the symbology
identifier. On Linux the ``usbhid`` kernel driver owns the interface: it is
detached before claiming and re-attached on every way out, so the scanner
works as before when the gateway stops. Reads block in a worker thread with a
timeout (no busy loop); an unplug ends the session, the driver reports the
scanner offline and looks for the same identity until it is back.

pyusb is imported lazily, so the rest of scangw runs where it is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from drivers.base import DriverConfig, RawScan, ScannerDriver, ScanSink, register_driver
from drivers.hid_pos_report import BadReportError, HidScanAssembler, ReportLayout, is_hid_pos
from drivers.identity import (
    PID_FIELD,
    SERIAL_FIELD,
    VID_FIELD,
    UsbId,
    describe_identity,
    usb_matches,
)

log = logging.getLogger(__name__)

HID_CLASS = 3
PERMISSION_HINT = (
    "add the gateway's user to the 'plugdev' group and install a udev rule such as "
    'SUBSYSTEM=="usb", ATTR{idVendor}=="0c2e", MODE="0660", GROUP="plugdev"'
)


class HidPosConfig(DriverConfig):
    """A scanner in USB HID POS mode (``kind: hidpos``), e.g. Honeywell interface code 131."""

    kind: Literal["hidpos"] = "hidpos"
    vid: UsbId | None = VID_FIELD
    pid: UsbId | None = PID_FIELD
    serial_number: str | None = SERIAL_FIELD
    interface: int | None = Field(
        default=None,
        ge=0,
        description="USB interface number; default: the first HID interface whose report "
        "descriptor is usage page 0x8C.",
        examples=[0],
    )
    report_id: int | None = Field(
        default=0x02,
        ge=0,
        le=255,
        description="Report id of scanned-data reports; null when the device sends no id.",
        examples=[2],
    )
    aim_offset: int = Field(
        default=2,
        ge=0,
        description="Offset of the 3 AIM identifier bytes.",
        examples=[2],
    )
    data_offset: int = Field(default=5, ge=1, description="Offset of the scan data.", examples=[5])
    length_offset: int = Field(
        default=1,
        ge=0,
        description="Offset of the data length byte.",
        examples=[1],
    )
    max_length: int = Field(
        default=4096,
        ge=1,
        description="Longest scan in bytes.",
        examples=[4096],
    )
    read_timeout_ms: int = Field(
        default=500,
        ge=10,
        le=10000,
        description="How long one USB read waits for a report.",
        examples=[500],
    )
    reattach_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="How often to look for the device while it is gone.",
        examples=[1.0],
    )

    def layout(self) -> ReportLayout:
        return ReportLayout(self.report_id, self.aim_offset, self.data_offset, self.length_offset)

    def describe(self) -> str:
        if self.vid is None and self.pid is None and self.serial_number is None:
            return "any HID POS scanner"
        return describe_identity(self.vid, self.pid, self.serial_number)


class DeviceGoneError(Exception):
    """The USB device stopped answering (unplugged, reset, no permission)."""


@dataclass
class _Claim:
    device: Any
    interface: int
    endpoint: int
    packet_size: int
    reattach: bool


def _usb() -> Any:
    import usb.core  # type: ignore[import-untyped]
    import usb.util  # type: ignore[import-untyped]

    return usb


def _in_interrupt_endpoint(interface: Any) -> Any | None:
    usb = _usb()
    for ep in interface:
        if (
            usb.util.endpoint_direction(ep.bEndpointAddress) == usb.util.ENDPOINT_IN
            and usb.util.endpoint_type(ep.bmAttributes) == usb.util.ENDPOINT_TYPE_INTR
        ):
            return ep
    return None


def hid_interfaces(device: Any) -> list[tuple[int, Any]]:
    """(interface number, IN interrupt endpoint) of the device's HID interfaces."""
    found = []
    for configuration in device:
        for interface in configuration:
            if interface.bInterfaceClass != HID_CLASS or interface.bAlternateSetting != 0:
                continue
            ep = _in_interrupt_endpoint(interface)
            if ep is not None:
                found.append((interface.bInterfaceNumber, ep))
        break  # the first configuration is the one Linux selects
    return found


def read_report_descriptor(device: Any, interface: int) -> bytes:
    """GET_DESCRIPTOR(HID report) for an interface; it must be claimed first on Linux."""
    return bytes(device.ctrl_transfer(0x81, 0x06, 0x2200, interface, 4096))


@register_driver
class HidPosScanner(ScannerDriver):
    kind = "hidpos"
    config_model = HidPosConfig

    def __init__(self, name: str, config: HidPosConfig, *, backend: Any = None) -> None:
        super().__init__(name, config)
        self.settings = config
        self._backend = backend

    async def run(self, emit: ScanSink) -> None:
        s = self.settings
        assembler = HidScanAssembler(s.layout(), s.max_length)
        warned = False
        while True:
            try:
                claim = await asyncio.to_thread(self._find_and_claim)
            except (LookupError, DeviceGoneError) as exc:
                if not warned:
                    log.warning(
                        "scanner %s: %s; looking again every %.1fs",
                        self.name,
                        exc,
                        s.reattach_interval_s,
                    )
                    warned = True
                await asyncio.sleep(s.reattach_interval_s)
                continue
            warned = False
            self.online = True
            log.info("scanner %s: online (USB interface %d)", self.name, claim.interface)
            try:
                await self._read_until_gone(claim, assembler, emit)
            except DeviceGoneError as exc:
                log.warning(
                    "scanner %s: device gone (%s); waiting for it to return", self.name, exc
                )
            finally:
                self.online = False
                assembler.reset()
                await asyncio.to_thread(self._release, claim)
            await asyncio.sleep(s.reattach_interval_s)

    def _find_and_claim(self) -> _Claim:
        usb = _usb()
        s = self.settings
        try:
            devices = list(usb.core.find(find_all=True, backend=self._backend))
        except usb.core.NoBackendError as exc:
            raise LookupError(f"no USB backend (install libusb-1.0): {exc}") from None
        for device in devices:
            if not usb_matches(
                vid=s.vid,
                pid=s.pid,
                serial_number=None,
                found_vid=device.idVendor,
                found_pid=device.idProduct,
                found_serial=None,
            ):
                continue
            try:
                if s.serial_number is not None and device.serial_number != s.serial_number:
                    usb.util.dispose_resources(device)
                    continue
                claim = self._claim_scanner_interface(device)
            except (usb.core.USBError, ValueError) as exc:  # ValueError: no string descriptors
                if getattr(exc, "errno", None) == errno.EACCES:
                    raise LookupError(
                        f"permission denied on USB device "
                        f"{device.idVendor:04x}:{device.idProduct:04x}: "
                        f"{PERMISSION_HINT}"
                    ) from None
                log.debug("scanner %s: skipping USB device: %s", self.name, exc)
                usb.util.dispose_resources(device)
                continue
            if claim is not None:
                return claim
            usb.util.dispose_resources(device)
        raise LookupError(f"no USB HID POS scanner matches {s.describe()}")

    def _claim_scanner_interface(self, device: Any) -> _Claim | None:
        """Detach usbhid, claim, and check the report descriptor is HID POS."""
        usb = _usb()
        for number, endpoint in hid_interfaces(device):
            if self.settings.interface is not None and number != self.settings.interface:
                continue
            reattach = False
            try:
                if device.is_kernel_driver_active(number):
                    device.detach_kernel_driver(number)
                    reattach = True
            except NotImplementedError:
                pass  # backends without kernel drivers (other OSes)
            claim = _Claim(
                device, number, endpoint.bEndpointAddress, endpoint.wMaxPacketSize, reattach
            )
            try:
                usb.util.claim_interface(device, number)
                if is_hid_pos(read_report_descriptor(device, number)):
                    return claim
            except usb.core.USBError:
                self._release(claim)
                raise
            log.info(
                "scanner %s: USB interface %d is HID but not a bar code scanner (page "
                "0x8C); is the scanner in keyboard mode?",
                self.name,
                number,
            )
            self._release(claim)
        return None

    def _release(self, claim: _Claim) -> None:
        """Give the interface back to the kernel; tolerate a device that is already gone."""
        usb = _usb()
        device = claim.device
        with contextlib.suppress(usb.core.USBError):
            usb.util.release_interface(device, claim.interface)
        if claim.reattach:
            try:
                device.attach_kernel_driver(claim.interface)
            except usb.core.USBError as exc:
                log.debug("scanner %s: kernel driver not re-attached: %s", self.name, exc)
        usb.util.dispose_resources(device)

    def _read_one(self, claim: _Claim) -> bytes | None:
        """One report, or None after the read timeout; raises DeviceGoneError."""
        usb = _usb()
        try:
            data = claim.device.read(
                claim.endpoint, claim.packet_size, self.settings.read_timeout_ms
            )
        except usb.core.USBTimeoutError:
            return None
        except usb.core.USBError as exc:
            raise DeviceGoneError(str(exc)) from exc
        return bytes(data)

    async def _read_until_gone(
        self, claim: _Claim, assembler: HidScanAssembler, emit: ScanSink
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            read = loop.run_in_executor(None, self._read_one, claim)
            try:
                report = await asyncio.shield(read)
            except asyncio.CancelledError:
                # Let the blocked read finish (at most one timeout) before releasing.
                await asyncio.wait([read])
                raise
            if report is None:
                if assembler.pending:
                    log.warning(
                        "scanner %s: scan's continuation report never came; dropped", self.name
                    )
                    assembler.reset()
                continue
            try:
                scan = assembler.feed(report)
            except BadReportError as exc:
                log.warning("scanner %s: bad HID POS report: %s", self.name, exc)
                # A scan was lost: an empty read makes the operator hear a bad beep.
                emit(RawScan(self.name, b"", overlong=False))
                continue
            if scan is not None:
                emit(RawScan(self.name, scan.data, scan.overlong))
