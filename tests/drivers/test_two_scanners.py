"""Two serial scanners typing at once into one station sink."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from driver_testkit import PtyScanner, wait_for

from drivers.base import RawScan
from drivers.serial_port import SerialConfig, SerialScanner


def test_two_scanners_at_once_every_scan_whole_and_attributed(tmp_path: Path) -> None:
    left, right = PtyScanner(tmp_path / "left"), PtyScanner(tmp_path / "right")
    sink: list[RawScan] = []
    expected = {
        "left": [f"L{i:05d}-4006381333931".encode() for i in range(400)],
        "right": [f"R{i:05d}-0104012345678901".encode() for i in range(30)],
    }

    async def main() -> None:
        scanners = [
            SerialScanner(name, SerialConfig(port=str(pty.link), terminator="cr"))
            for name, pty in (("left", left), ("right", right))
        ]
        tasks = [asyncio.create_task(s.run(sink.append)) for s in scanners]
        try:
            await wait_for(lambda: all(s.online for s in scanners))
            # left dumps a burst in small writes, right is paced like a 9600 baud line.
            def dump() -> None:
                for scan in expected["left"]:
                    left.write(scan + b"\r")

            burst = threading.Thread(target=dump)
            burst.start()
            paced = right.write_paced(b"".join(s + b"\r" for s in expected["right"]))
            await asyncio.to_thread(burst.join)
            await asyncio.to_thread(paced.join)
            await wait_for(lambda: len(sink) == 430)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(main())
    finally:
        left.close()
        right.close()
    for name, scans in expected.items():
        assert [s.data for s in sink if s.scanner == name] == scans
    assert len(sink) == 430
