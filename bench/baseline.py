"""The burst, run the same way against the naive script (bench/naive.py).

Same pty, same 10,000 scans in one write, same broker; the clock runs from just
before the write to the last PUBACK the script received. ``baseline_ratio`` is
the station's burst rate over this one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.harness import ScenarioFailed, Typist, open_pty, serials
from bench.results import Outcome
from bench.services import stop
from scangw.broker import LocalBroker


def run(workdir: Path, quick: bool) -> Outcome:
    """The same 10,000 scans in --quick, like the burst."""
    count = 10_000
    scans = serials(count)
    with LocalBroker(workdir / "broker") as broker, open_pty() as pty:
        script = subprocess.Popen(
            [sys.executable, "-m", "bench.naive", pty.path, broker.host, str(broker.port),
             str(count)], stdout=subprocess.PIPE, text=True)
        try:
            assert script.stdout is not None
            if script.stdout.readline().strip() != "ready":
                raise ScenarioFailed("the naive script did not start")
            typist = Typist(pty.master, scans, rate=None)
            typist.start()
            last = script.stdout.readline().strip()
            script.wait(10)
        finally:
            stop(script)
    if not last.isdigit() or typist.error is not None:
        raise ScenarioFailed(f"the naive script did not finish (exit {script.returncode})")
    elapsed_s = (int(last) - typist.stamps[0]) / 1e9
    return Outcome(
        figures={"baseline_scans_per_s": round(count / elapsed_s, 1)},
        notes=[f"naive script: {count} scans published at QoS 1 in {elapsed_s:.2f}s "
               f"({count / elapsed_s:,.0f}/s)"],
    )
