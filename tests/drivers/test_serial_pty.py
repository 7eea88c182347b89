"""Serial driver on real ptys: bursts, paced lines, unplug/replug, feedback, identity."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from driver_testkit import PtyScanner, running, wait_for
from serial.tools.list_ports_common import ListPortInfo

from drivers import serial_port
from drivers.base import RawScan
from drivers.feedback import HONEYWELL_BAD, HONEYWELL_GOOD, ssi_beep
from drivers.serial_port import SerialConfig, SerialScanner


@pytest.fixture
def pty_scanner(tmp_path: Path) -> Iterator[PtyScanner]:
    scanner = PtyScanner(tmp_path / "ttyScanner")
    yield scanner
    scanner.close()


def make(port: Path, **settings: object) -> SerialScanner:
    cfg = SerialConfig.model_validate({"port": str(port), "reopen_interval_s": 0.02, **settings})
    return SerialScanner("s1", cfg)


def datas(sink: list[RawScan]) -> list[bytes]:
    return [s.data for s in sink]


def test_unpaced_burst_of_2000_scans_all_framed_whole(pty_scanner: PtyScanner) -> None:
    expected = [f"SN{i:06d}".encode() for i in range(2000)]
    sink: list[RawScan] = []

    async def main() -> None:
        driver = make(pty_scanner.link, terminator="cr")
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            await asyncio.to_thread(pty_scanner.write, b"".join(e + b"\r" for e in expected))
            await wait_for(lambda: len(sink) >= 2000)

    asyncio.run(main())
    assert datas(sink) == expected
    assert all(s.scanner == "s1" and not s.overlong for s in sink)


def test_paced_at_9600_baud_frames_scans_whole(pty_scanner: PtyScanner) -> None:
    expected = [f"4006381333931-{i:02d}".encode() for i in range(12)]
    sink: list[RawScan] = []

    async def main() -> None:
        driver = make(pty_scanner.link, terminator="crlf")
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            writer = pty_scanner.write_paced(b"".join(e + b"\r\n" for e in expected))
            await asyncio.to_thread(writer.join)
            await wait_for(lambda: len(sink) >= len(expected))

    asyncio.run(main())
    assert datas(sink) == expected


def test_idle_gap_ends_scans_without_terminator(pty_scanner: PtyScanner) -> None:
    sink: list[RawScan] = []

    async def main() -> None:
        driver = make(pty_scanner.link, terminator="none", idle_gap_ms=60)
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            for code in (b"ABC-123", b"XYZ-987"):
                # Paced bytes 1 ms apart stay one scan; the pause after ends it.
                writer = pty_scanner.write_paced(code)
                await asyncio.to_thread(writer.join)
                await asyncio.sleep(0.2)
            await wait_for(lambda: len(sink) >= 2)

    asyncio.run(main())
    assert datas(sink) == [b"ABC-123", b"XYZ-987"]


def test_prefix_and_suffix_are_stripped(pty_scanner: PtyScanner) -> None:
    sink: list[RawScan] = []

    async def main() -> None:
        driver = make(pty_scanner.link, terminator="cr", prefix="02", suffix="03")
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            pty_scanner.write(b"\x02SN-1\x03\r\x02SN-2\x03\rSN-3\r")
            await wait_for(lambda: len(sink) >= 3)

    asyncio.run(main())
    assert datas(sink) == [b"SN-1", b"SN-2", b"SN-3"]


def test_stx_etx_framing_with_etx_as_terminator(pty_scanner: PtyScanner) -> None:
    sink: list[RawScan] = []

    async def main() -> None:
        driver = make(pty_scanner.link, terminator="hex:03", prefix="02")
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            pty_scanner.write(b"\x02A1\x03\x02B2\x03")
            await wait_for(lambda: len(sink) >= 2)

    asyncio.run(main())
    assert datas(sink) == [b"A1", b"B2"]


def test_unplug_discards_partial_scan_and_replug_resumes(pty_scanner: PtyScanner) -> None:
    sink: list[RawScan] = []

    async def main() -> None:
        driver = make(pty_scanner.link, terminator="cr")
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            pty_scanner.write(b"BEFORE\rHALF-A-SC")
            await wait_for(lambda: len(sink) >= 1)
            await asyncio.sleep(0.05)  # let the partial scan reach the driver
            pty_scanner.unplug()
            await wait_for(lambda: not driver.online)
            await asyncio.sleep(0.1)  # offline for a while: reopen attempts fail
            pty_scanner.replug()
            await wait_for(lambda: driver.online)
            pty_scanner.write(b"AFTER\r")
            await wait_for(lambda: len(sink) >= 2)

    asyncio.run(main())
    assert datas(sink) == [b"BEFORE", b"AFTER"]


@pytest.mark.parametrize(
    ("settings", "good", "bad"),
    [
        ({"feedback": "honeywell"}, HONEYWELL_GOOD, HONEYWELL_BAD),
        ({"feedback": "zebra-ssi"}, ssi_beep(0x00), ssi_beep(0x07)),
        ({"feedback": "honeywell", "feedback_bad": "07"}, b"\x1b7,", b"\x07"),
    ],
)
def test_feedback_bytes_arrive_at_the_scanner(
    pty_scanner: PtyScanner, settings: dict[str, str], good: bytes, bad: bytes
) -> None:
    received: list[bytes] = []

    async def main() -> None:
        driver = make(pty_scanner.link, **settings)
        async with running(driver, []):
            await wait_for(lambda: driver.online)
            await driver.feedback(True)
            received.append(await asyncio.to_thread(pty_scanner.read_feedback, len(good)))
            await driver.feedback(False)
            received.append(await asyncio.to_thread(pty_scanner.read_feedback, len(bad)))

    asyncio.run(main())
    assert received == [good, bad]


def test_no_feedback_preset_sends_nothing(pty_scanner: PtyScanner) -> None:
    async def main() -> bytes:
        driver = make(pty_scanner.link)
        async with running(driver, []):
            await wait_for(lambda: driver.online)
            await driver.feedback(True)
            await driver.feedback(False)
            return await asyncio.to_thread(pty_scanner.read_feedback, 1, 0.1)

    assert asyncio.run(main()) == b""


def port_info(device: str, vid: int, pid: int, serial_number: str) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial_number
    return info


def test_usb_identity_follows_the_device_when_it_renumbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = PtyScanner(tmp_path / "ttyACM0")
    second: list[PtyScanner] = []
    other = port_info("/dev/ttyACM9", 0x0C2E, 0x0B61, "OTHER")
    ports = [other, port_info(str(first.link), 0x0C2E, 0x0B61, "21143B4A30")]
    monkeypatch.setattr(serial_port, "comports", lambda: list(ports))
    sink: list[RawScan] = []

    async def main() -> None:
        cfg = SerialConfig.model_validate(
            {"vid": "0c2e", "pid": "0x0B61", "serial_number": "21143B4A30",
             "terminator": "cr", "reopen_interval_s": 0.02}
        )
        driver = SerialScanner("s1", cfg)
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            first.write(b"ONE\r")
            await wait_for(lambda: len(sink) >= 1)
            first.unplug()
            ports[1:] = []  # gone from the port list
            await wait_for(lambda: not driver.online)
            await asyncio.sleep(0.06)
            renumbered = PtyScanner(tmp_path / "ttyACM1")
            second.append(renumbered)
            ports.append(port_info(str(renumbered.link), 0x0C2E, 0x0B61, "21143B4A30"))
            await wait_for(lambda: driver.online)
            renumbered.write(b"TWO\r")
            await wait_for(lambda: len(sink) >= 2)

    try:
        asyncio.run(main())
    finally:
        first.close()
        for s in second:
            s.close()
    assert datas(sink) == [b"ONE", b"TWO"]


def test_identity_matching_rejects_ambiguity() -> None:
    ports = [port_info("/dev/ttyACM0", 1, 2, "A"), port_info("/dev/ttyACM1", 1, 2, "B")]
    assert serial_port.match_ports(ports, 1, 2, "B") == "/dev/ttyACM1"
    assert serial_port.match_ports(ports, 1, 3, None) is None
    with pytest.raises(LookupError, match="ttyACM0, /dev/ttyACM1; add serial_number"):
        serial_port.match_ports(ports, 1, 2, None)


def test_config_needs_port_or_identity() -> None:
    with pytest.raises(ValueError, match="set port"):
        SerialConfig.model_validate({})
    with pytest.raises(ValueError, match="not both"):
        SerialConfig.model_validate({"port": "/dev/ttyACM0", "vid": "0c2e"})
    with pytest.raises(ValueError, match="is not hex"):
        SerialConfig.model_validate({"vid": "zz"})
    with pytest.raises(ValueError, match="needs idle_gap_ms"):
        SerialConfig.model_validate({"port": "/dev/x", "terminator": "none"})
    assert SerialConfig.model_validate({"vid": 0x0C2E}).vid == 0x0C2E


def test_zebra_ssi_acks_do_not_reach_the_scans(pty_scanner: PtyScanner) -> None:
    ack = bytes.fromhex("04d00000ff2c")
    sink: list[RawScan] = []

    async def main() -> bytes:
        driver = make(pty_scanner.link, feedback="zebra-ssi", terminator="cr")
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            pty_scanner.write(b"FIRST\r")
            await wait_for(lambda: len(sink) == 1)
            await driver.feedback(True)
            beep = await asyncio.to_thread(pty_scanner.read_feedback, 7)
            pty_scanner.write(ack[:3])  # the scanner's ACK, split over two reads
            await asyncio.sleep(0.02)
            pty_scanner.write(ack[3:] + b"SECOND\r")
            await wait_for(lambda: len(sink) == 2)
            return beep

    assert asyncio.run(main()) == ssi_beep(0x00)
    assert datas(sink) == [b"FIRST", b"SECOND"]


def test_open_errors_say_what_to_do() -> None:
    denied = serial.SerialException(13, "could not open port /dev/ttyACM0")
    assert "'dialout' group" in serial_port.explain_open_error(denied)
    locked = serial.SerialException(11, "Could not exclusively lock port")
    assert "another program" in serial_port.explain_open_error(locked)
    assert serial_port.explain_open_error(OSError("gone")) == "gone"


def test_second_driver_on_a_locked_port_waits_and_explains(
    pty_scanner: PtyScanner, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        first, second = make(pty_scanner.link), make(pty_scanner.link)
        async with running(first, []):
            await wait_for(lambda: first.online)
            async with running(second, []):
                await asyncio.sleep(0.1)
                assert not second.online

    asyncio.run(main())
    assert "another program has the port open" in caplog.text
