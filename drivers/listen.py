"""``scangw listen``: show what each scanner sends, before any rule judges it.

For setting up a station: scan a barcode and see the exact bytes that arrive
(terminator, prefix and AIM identifier already handled by the driver), so a
wrong layout or terminator is obvious. No station logic, no journal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from drivers.base import RawScan, ScannerDriver
from drivers.registry import ScannerConfig, make_driver


def describe_scan(scan: RawScan) -> str:
    """One line per scan: scanner, printable text with control bytes named, and hex."""
    shown = "".join(
        chr(b) if 0x20 <= b < 0x7F else f"<{_CONTROL_NAMES.get(b, f'{b:02X}')}>" for b in scan.data
    )
    flag = "  OVERLONG (cut off)" if scan.overlong else ""
    return f"{scan.scanner}: {shown}  [{scan.data.hex(' ')}]{flag}"


_CONTROL_NAMES = {0x1D: "GS", 0x1E: "RS", 0x04: "EOT", 0x09: "TAB", 0x0D: "CR", 0x0A: "LF"}


async def listen(
    scanners: Mapping[str, ScannerConfig],
    out: Callable[[str], None] = print,
    *,
    status_interval_s: float = 0.5,
) -> None:
    """Run every scanner and print each scan and each online/offline change until cancelled."""
    drivers: dict[str, ScannerDriver] = {n: make_driver(n, c) for n, c in scanners.items()}
    tasks = [asyncio.create_task(d.run(lambda s: out(describe_scan(s)))) for d in drivers.values()]
    seen = dict.fromkeys(drivers, False)
    out(f"listening to {', '.join(drivers) or 'no scanners'}; Ctrl+C to stop")
    try:
        while True:
            for name, driver in drivers.items():
                if driver.online != seen[name]:
                    seen[name] = driver.online
                    out(f"{name}: {'online' if driver.online else 'offline'}")
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            await asyncio.sleep(status_interval_s)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
