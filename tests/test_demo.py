"""`scangw demo` is the README's first command: it must run whole and clean up."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(cmdline)
    return found


def test_demo_prints_every_decision_and_confirmation_and_leaves_nothing_running() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scangw.cli", "demo"], capture_output=True, text=True,
        timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("station GOOD added") == 6
    assert out.count("store   OK   added") == 6
    assert out.count("store   OK   removed") == 1
    for refused in ("duplicate_serial", "over_quantity", "unreadable", "not_enough_serials"):
        assert f"station BAD  {refused}" in out
    assert "station GOOD order_opened" in out
    assert "packing slip PS-1 posted for SO-1001; the order is fully shipped" in out
    assert "16 scans, 0 unexpected; store holds 7 registration(s)" in out
    assert "\x1b" not in out  # the hostile scan is shown escaped, not sent to the terminal
    workdir = re.search(r"SQLite (\S+)/store\.db", out)
    assert workdir is not None, out
    assert _processes_mentioning(workdir.group(1)) == []  # its mosquitto is gone
    assert not Path(workdir.group(1)).exists()
