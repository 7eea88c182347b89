"""HID POS: report parsing, and the driver over a fake pyusb backend."""

from __future__ import annotations

import asyncio
import errno
import logging

import pytest
import usb.core  # type: ignore[import-untyped]
from driver_testkit import running, wait_for
from fake_usb import HID_POS_DESCRIPTOR, KEYBOARD_DESCRIPTOR, FakeScanner, FakeUsbBackend
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import RawScan
from drivers.hid_pos import HidPosConfig, HidPosScanner
from drivers.hid_pos_report import (
    BadReportError,
    HidScan,
    HidScanAssembler,
    ReportLayout,
    aim_prefix,
    build_reports,
    is_hid_pos,
    parse_report,
    usage_pages,
)


def test_usage_pages_of_report_descriptors() -> None:
    assert usage_pages(HID_POS_DESCRIPTOR) == {0x8C}
    assert is_hid_pos(HID_POS_DESCRIPTOR)
    assert usage_pages(KEYBOARD_DESCRIPTOR) == {0x01, 0x07}
    assert not is_hid_pos(KEYBOARD_DESCRIPTOR)
    assert usage_pages(bytes.fromhex("068c00")) == {0x8C}  # two-byte usage page item
    assert usage_pages(bytes.fromhex("fe02aa0102058c")) == {0x8C}  # skips a long item
    assert usage_pages(b"\x06") == {0}  # truncated input does not crash


@pytest.mark.parametrize(
    ("ident", "prefix"),
    [(b"]C1", b"]C1"), (b"E0\x00", b"]E0"), (b"\x00\x00\x00", b""), (b"]d2", b"]d2")],
)
def test_aim_prefix(ident: bytes, prefix: bytes) -> None:
    assert aim_prefix(ident) == prefix


def test_single_report_scan_keeps_the_aim_identifier() -> None:
    (report,) = build_reports(b"\x1d0104012345678901", aim=b"]C1")
    assert len(report) == 64
    assert HidScanAssembler().feed(report) == HidScan(b"]C1\x1d0104012345678901")


def test_multi_report_scan_is_joined_until_the_flag_clears() -> None:
    data = bytes(range(48, 48 + 70)) * 2
    reports = build_reports(data, aim=b"]Q1")
    assert len(reports) == 3
    assert [r[-1] for r in reports] == [1, 1, 0]
    assembler = HidScanAssembler()
    assert [assembler.feed(r) for r in reports] == [None, None, HidScan(b"]Q1" + data)]


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400), aim=st.sampled_from([b"]E0", b"]C1", b"\x00\x00\x00"]))
def test_any_scan_round_trips_through_reports(data: bytes, aim: bytes) -> None:
    assembler = HidScanAssembler()
    out = [assembler.feed(r) for r in build_reports(data, aim=aim)]
    assert out[-1] == HidScan(aim_prefix(aim) + data)
    assert all(o is None for o in out[:-1])


def test_overlong_scan_is_cut_and_marked() -> None:
    assembler = HidScanAssembler(max_length=100)
    out = [assembler.feed(r) for r in build_reports(b"x" * 300)]
    assert out[-1] == HidScan(b"]E0" + b"x" * 100, overlong=True)


def test_other_reports_are_ignored_and_bad_ones_explained() -> None:
    assert parse_report(b"\x04" + bytes(63)) is None
    with pytest.raises(BadReportError, match="says 200 data bytes but has room for 58"):
        parse_report(bytes([2, 200]) + bytes(62))
    with pytest.raises(BadReportError, match="too short"):
        parse_report(b"\x02\x01")
    assembler = HidScanAssembler()
    assembler.feed(build_reports(b"y" * 100)[0])
    with pytest.raises(BadReportError):
        assembler.feed(b"\x02\xff")
    assert not assembler.pending
    no_id = ReportLayout(report_id=None, aim_offset=1, data_offset=4, length_offset=0)
    assert parse_report(build_reports(b"AB")[0][1:], no_id) is not None


def driver(backend: FakeUsbBackend, **settings: object) -> HidPosScanner:
    cfg = HidPosConfig.model_validate({"vid": "0c2e", "read_timeout_ms": 40,
                                       "reattach_interval_s": 0.02, **settings})
    return HidPosScanner("pos", cfg, backend=backend)


def test_scans_detach_then_reattach_the_kernel_driver() -> None:
    scanner = FakeScanner()
    sink: list[RawScan] = []

    async def main() -> None:
        pos = driver(FakeUsbBackend(scanner))
        async with running(pos, sink):
            await wait_for(lambda: pos.online)
            assert scanner.claimed
            assert not scanner.kernel_driver
            for report in build_reports(b"SN-0001", aim=b"]C0"):
                scanner.reports.put(report)
            long_scan = b"L" * 130
            for report in build_reports(long_scan, aim=b"]d2"):
                scanner.reports.put(report)
            await wait_for(lambda: len(sink) == 2)

    asyncio.run(main())
    assert [s.data for s in sink] == [b"]C0SN-0001", b"]d2" + b"L" * 130]
    assert (scanner.detaches, scanner.attaches) == (1, 1)
    assert scanner.kernel_driver
    assert not scanner.claimed


def test_read_timeouts_wait_instead_of_spinning() -> None:
    scanner = FakeScanner()

    async def main() -> int:
        pos = driver(FakeUsbBackend(scanner))
        async with running(pos, []):
            await wait_for(lambda: pos.online)
            before = scanner.reads
            await asyncio.sleep(0.4)
            return scanner.reads - before

    reads = asyncio.run(main())
    assert 4 <= reads <= 14  # one read per 40 ms timeout


def test_cancel_waits_for_the_blocked_read_before_releasing() -> None:
    scanner = FakeScanner()

    async def main() -> None:
        pos = driver(FakeUsbBackend(scanner), read_timeout_ms=300)
        async with running(pos, []):
            await wait_for(lambda: pos.online and scanner.reading)

    asyncio.run(main())
    assert scanner.violations == []
    assert not scanner.claimed
    assert scanner.kernel_driver


def test_vanished_device_goes_offline_discards_partial_scan_and_comes_back() -> None:
    scanner = FakeScanner()
    sink: list[RawScan] = []

    async def main() -> None:
        pos = driver(FakeUsbBackend(scanner))
        async with running(pos, sink):
            await wait_for(lambda: pos.online)
            first, *_ = build_reports(b"P" * 120)
            scanner.reports.put(first)  # first half of a scan, then the cable is pulled
            await wait_for(scanner.reports.empty)
            await asyncio.sleep(0.01)
            scanner.unplug()
            await wait_for(lambda: not pos.online)
            await asyncio.sleep(0.1)
            scanner.plugged, scanner.kernel_driver = True, True  # back, usbhid bound again
            await wait_for(lambda: pos.online)
            for report in build_reports(b"AFTER"):
                scanner.reports.put(report)
            await wait_for(lambda: len(sink) == 1)

    asyncio.run(main())
    assert [s.data for s in sink] == [b"]E0AFTER"]
    assert scanner.detaches == 2


def test_keyboard_mode_device_is_left_to_the_kernel_and_serial_picks_the_scanner() -> None:
    keyboard_mode = FakeScanner(serial="A1", report_descriptor=KEYBOARD_DESCRIPTOR)
    other = FakeScanner(serial="B2")
    wanted = FakeScanner(serial="C3")
    sink: list[RawScan] = []

    async def main() -> None:
        backend = FakeUsbBackend(keyboard_mode, other, wanted)
        pos = driver(backend, serial_number="C3")
        async with running(pos, sink):
            await wait_for(lambda: pos.online)
            wanted.reports.put(build_reports(b"C3-SCAN")[0])
            await wait_for(lambda: len(sink) == 1)
        any_pos = driver(FakeUsbBackend(keyboard_mode))
        async with running(any_pos, []):
            await asyncio.sleep(0.1)
            assert not any_pos.online

    asyncio.run(main())
    assert sink[0].data == b"]E0C3-SCAN"
    assert (other.detaches, other.claimed) == (0, False)
    assert keyboard_mode.kernel_driver
    assert keyboard_mode.detaches == keyboard_mode.attaches


class NoPermissionBackend(FakeUsbBackend):
    def open_device(self, dev: FakeScanner) -> FakeScanner:
        raise usb.core.USBError("Access denied (insufficient permissions)", -3, errno.EACCES)


def test_permission_problem_is_explained(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        pos = driver(NoPermissionBackend(FakeScanner()))
        async with running(pos, []):
            await asyncio.sleep(0.1)
            assert not pos.online

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert "permission denied on USB device 0c2e:0b61" in caplog.text
    assert "'plugdev' group" in caplog.text
    assert caplog.text.count("permission denied") == 1  # said once, not every retry
