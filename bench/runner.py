"""Run one scenario in its own process group with a time limit.

Each scenario runs as ``python -m bench.child`` in a new session, with its own
temp dir (also its TMPDIR). When it ends - or overruns and is killed - every
process left in its group (mosquitto, a station subprocess) is terminated and
the temp dir removed (and a PostgreSQL database it listed there dropped), so
one scenario can neither hang the run nor leak into the next.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import Outcome

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_isolated(name: str, quick: bool, timeout_s: float) -> Outcome:
    workdir = Path(tempfile.mkdtemp(prefix=f"scangw-bench-{name}-"))
    result = workdir / "outcome.json"
    command = [sys.executable, "-m", "bench.child", name, "--workdir", str(workdir),
               "--out", str(result)] + (["--quick"] if quick else [])
    log = workdir / "child.log"
    try:
        with log.open("wb") as sink:
            child = subprocess.Popen(
                command, cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT,
                env={**os.environ, "TMPDIR": str(workdir)}, start_new_session=True,
            )
            try:
                child.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _end_group(child)
                return Outcome(failure=f"timed out after {timeout_s:g}s"
                               f"{_tail(log)}")
        leftovers = _end_group(child)
        if result.exists():
            outcome = Outcome.from_json(json.loads(result.read_text()))
        else:
            outcome = Outcome(failure=f"exited {child.returncode} without a result{_tail(log)}")
        if leftovers:
            outcome.notes.append("left processes behind; they were terminated")
        return outcome
    finally:
        if (workdir / "postgres-databases.txt").exists():
            from bench.pgdb import sweep

            sweep(workdir)
        shutil.rmtree(workdir, ignore_errors=True)


def _end_group(child: subprocess.Popen[bytes]) -> bool:
    """Terminate what is left of the child's process group (its id is the child's
    pid: a new session); True if anything was left."""
    pgid = child.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        child.poll()  # reap the child itself, or the group never looks empty
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    child.wait()
    return True


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return f": {lines[-1][:300]}" if lines else ""
