"""`scangw listen` shows each scan with its bytes and each online change."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from driver_testkit import PtyScanner, wait_for

from drivers.base import RawScan
from drivers.listen import describe_scan, listen
from drivers.registry import parse_scanner_config


def test_describe_scan_names_control_bytes() -> None:
    line = describe_scan(RawScan("s1", b"]C1\x1d0104"))
    assert line == "s1: ]C1<GS>0104  [5d 43 31 1d 30 31 30 34]"
    assert describe_scan(RawScan("s1", b"\xffx", overlong=True)).endswith(
        "<FF>x  [ff 78]  OVERLONG (cut off)")


def test_listen_prints_scans_from_a_pty(tmp_path: Path) -> None:
    pty = PtyScanner(tmp_path / "tty")
    lines: list[str] = []

    async def main() -> None:
        cfg = parse_scanner_config({"kind": "serial", "port": str(pty.link), "terminator": "cr"})
        task = asyncio.create_task(listen({"desk": cfg}, lines.append, status_interval_s=0.01))
        await wait_for(lambda: "desk: online" in lines)
        pty.write(b"ABC\x1d1\r")
        await wait_for(lambda: any(line.startswith("desk: ABC") for line in lines))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    finally:
        pty.close()
    assert "desk: ABC<GS>1  [41 42 43 1d 31]" in lines
