"""The harness's own checks: percentiles, the JSON contract, and that an
overrunning scenario is ended with everything it started."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from bench.harness import Typist, open_pty, percentile, serials
from bench.report import KEYS, print_json
from bench.runner import run_isolated


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 1001)]
    assert percentile(values, 50) == 500
    assert percentile(values, 99) == 990
    assert percentile([3.0], 99) == 3.0


def test_json_prints_exactly_the_budget_keys_with_reasons_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_json({"decision_p50_ms": 0.4, "not_a_key": 1}, {"startup_s": "timed out"})
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert tuple(data) == KEYS
    assert data["decision_p50_ms"] == 0.4
    assert data["startup_s"] is None
    assert "startup_s: null because timed out" in err


def test_typist_writes_every_scan_with_its_terminator() -> None:
    scans = serials(50)
    with open_pty() as pty:
        typist = Typist(pty.master, scans, rate=1000.0)
        typist.start()
        typist.join(5)
        received = b""
        while received.count(b"\n") < len(scans):
            received += os.read(pty.slave, 4096)
    assert received.split(b"\n")[:-1] == scans
    assert len(typist.stamps) == len(scans)
    assert typist.stamps == sorted(typist.stamps)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(pid))
    return found


@pytest.mark.slow
def test_an_overrunning_scenario_is_ended_with_its_processes_and_files() -> None:
    marker = "scangw-bench-latency-"
    outcome = run_isolated("latency", quick=True, timeout_s=1.5)
    assert outcome.failure is not None
    assert outcome.failure.startswith("timed out after 1.5s")
    assert outcome.figures == {}
    assert _processes_mentioning(marker) == []
    assert not [p for p in os.listdir(tempfile.gettempdir()) if p.startswith(marker)]
