"""A fake pyusb backend: a HID POS scanner behind the real pyusb code path.

Only the hardware boundary is fake: ``usb.core.find(backend=FakeUsbBackend)``
builds real ``usb.core.Device`` objects, and claim/read/detach go through
pyusb's own resource management into these methods.
"""

from __future__ import annotations

import array
import errno
import queue
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import usb.backend  # type: ignore[import-untyped]
import usb.core  # type: ignore[import-untyped]

# Usage Page (POS bar code scanner), Usage (Bar Code Scanner), Collection (Application),
# Report ID 2, ... End Collection: enough for the page check.
HID_POS_DESCRIPTOR = bytes.fromhex("058c0902a1018502150026ff007508953f0912810209fe9102c0")
KEYBOARD_DESCRIPTOR = bytes.fromhex("05010906a101050719e029e71500250175019508810295067508c0")


@dataclass
class FakeScanner:
    """One USB device with one HID interface and an IN interrupt endpoint 0x81."""

    vid: int = 0x0C2E
    pid: int = 0x0B61
    serial: str = "21143B4A30"
    report_descriptor: bytes = HID_POS_DESCRIPTOR
    plugged: bool = True
    kernel_driver: bool = True
    claimed: bool = False
    detaches: int = 0
    attaches: int = 0
    reads: int = 0
    reading: bool = False
    violations: list[str] = field(default_factory=list)
    reports: queue.Queue[bytes] = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def unplug(self) -> None:
        self.plugged = False
        self.kernel_driver = False
        self.claimed = False


def _gone() -> usb.core.USBError:
    return usb.core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)


class FakeUsbBackend(usb.backend.IBackend):  # type: ignore[misc]
    def __init__(self, *devices: FakeScanner) -> None:
        self.devices = list(devices)

    def enumerate_devices(self) -> Any:
        return [d for d in self.devices if d.plugged]

    def get_device_descriptor(self, dev: FakeScanner) -> Any:
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
            bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=dev.vid, idProduct=dev.pid,
            bcdDevice=0x0100, iManufacturer=1, iProduct=2, iSerialNumber=3,
            bNumConfigurations=1, address=5, bus=1, port_number=3, port_numbers=(1, 3),
            speed=2,
        )

    def get_configuration_descriptor(self, dev: FakeScanner, config: int) -> Any:
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=34, bNumInterfaces=1,
            bConfigurationValue=1, iConfiguration=0, bmAttributes=0x80, bMaxPower=250,
            extra_descriptors=[],
        )

    def get_interface_descriptor(self, dev: FakeScanner, intf: int, alt: int,
                                 config: int) -> Any:
        if intf != 0 or alt != 0 or config != 0:
            raise IndexError(f"no interface {intf} alt {alt} in configuration {config}")
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=intf, bAlternateSetting=alt,
            bNumEndpoints=1, bInterfaceClass=3, bInterfaceSubClass=0, bInterfaceProtocol=0,
            iInterface=0, extra_descriptors=[],
        )

    def get_endpoint_descriptor(self, dev: FakeScanner, ep: int, intf: int, alt: int,
                                config: int) -> Any:
        if ep != 0:
            raise IndexError(f"no endpoint {ep}")
        return SimpleNamespace(
            bLength=7, bDescriptorType=5, bEndpointAddress=0x81, bmAttributes=3,
            wMaxPacketSize=64, bInterval=1, bRefresh=0, bSynchAddress=0, extra_descriptors=[],
        )

    def open_device(self, dev: FakeScanner) -> FakeScanner:
        if not dev.plugged:
            raise _gone()
        return dev

    def close_device(self, dev_handle: FakeScanner) -> None:
        pass

    def get_configuration(self, dev_handle: FakeScanner) -> int:
        return 1

    def set_configuration(self, dev_handle: FakeScanner, config_value: int) -> None:
        pass

    def claim_interface(self, dev_handle: FakeScanner, intf: int) -> None:
        if not dev_handle.plugged:
            raise _gone()
        if dev_handle.kernel_driver:
            raise usb.core.USBError("Resource busy", -6, errno.EBUSY)
        dev_handle.claimed = True

    def release_interface(self, dev_handle: FakeScanner, intf: int) -> None:
        if dev_handle.reading:
            dev_handle.violations.append("interface released while a read was in flight")
        if not dev_handle.plugged:
            raise _gone()
        dev_handle.claimed = False

    def is_kernel_driver_active(self, dev_handle: FakeScanner, intf: int) -> bool:
        return dev_handle.kernel_driver

    def detach_kernel_driver(self, dev_handle: FakeScanner, intf: int) -> None:
        dev_handle.kernel_driver = False
        dev_handle.detaches += 1

    def attach_kernel_driver(self, dev_handle: FakeScanner, intf: int) -> None:
        if not dev_handle.plugged:
            raise _gone()
        assert not dev_handle.claimed, "re-attached while still claimed"
        dev_handle.kernel_driver = True
        dev_handle.attaches += 1

    def ctrl_transfer(
        self, dev_handle: FakeScanner, request_type: int, request: int, value: int, index: int,
        data: array.array[int], timeout: int,
    ) -> int:
        bmRequestType, bRequest, wValue = request_type, request, value  # noqa: N806
        if not dev_handle.plugged:
            raise _gone()
        if (bmRequestType, bRequest, wValue) == (0x81, 6, 0x2200):
            assert dev_handle.claimed, "report descriptor read before claiming"
            payload = dev_handle.report_descriptor
        elif (bmRequestType, bRequest, wValue) == (0x80, 6, 0x0300):
            payload = bytes([4, 3, 0x09, 0x04])
        elif (bmRequestType, bRequest, wValue) == (0x80, 6, 0x0303):
            text = dev_handle.serial.encode("utf-16-le")
            payload = bytes([2 + len(text), 3]) + text
        else:
            raise usb.core.USBError("Pipe error", -9, errno.EPIPE)
        payload = payload[: len(data)]
        data[: len(payload)] = array.array("B", payload)
        return len(payload)

    def intr_read(self, dev_handle: FakeScanner, ep: int, intf: int, buff: array.array[int],
                  timeout: int) -> int:
        if not dev_handle.plugged:
            raise _gone()
        assert dev_handle.claimed, "read from an unclaimed interface"
        dev_handle.reads += 1
        dev_handle.reading = True
        try:
            report = dev_handle.reports.get(timeout=timeout / 1000)
        except queue.Empty:
            raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT) from None
        finally:
            dev_handle.reading = False
        if not dev_handle.plugged:
            raise _gone()
        buff[: len(report)] = array.array("B", report)
        return len(report)
