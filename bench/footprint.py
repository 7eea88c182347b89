"""The station as its own process: idle memory, startup time, disk bytes per scan.

idle_rss_mb and startup_s run the real ``scangw station --config FILE``. Ready
means both (a) the scanner is online - the pty slave shows up among the
process's open files in /proc/PID/fd - and (b) the station is subscribed to its
acks topic: a retained, deliberately malformed message waits on that topic, the
broker delivers it right after the SUBACK, and the station logs "dropped a
malformed message on <acks topic>" on stderr. disk_bytes_per_scan reads
/proc/PID/io write_bytes of a station process with an order open
(bench/stationproc.py) around paced scans, until the store confirmed them all.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.harness import ORDER, SITE, STATION, ScenarioFailed, Typist, open_pty, serials
from bench.results import Outcome
from bench.services import spawn, stop, store_process, write_yaml
from scangw import protocol
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig, make_client

READY_TIMEOUT_S = 10.0
PROBE = b"bench readiness probe: not an AckBatch"
SUBSCRIBED_LOG = f"dropped a malformed message on {protocol.acks_topic(SITE, STATION)}"
"""What the uplink logs when it drops the probe (``gateway.uplink._parse``)."""


def run(workdir: Path, quick: bool) -> Outcome:
    starts = 1 if quick else 3
    scans = 150 if quick else 500
    with LocalBroker(workdir / "broker") as broker:
        config = BrokerConfig(host=broker.host, port=broker.port)
        _retain_probe(config)
        with store_process(workdir, config, {ORDER: scans + 10}):
            timings = [_start_once(workdir / f"start-{n}", config) for n in range(starts)]
            written, confirmed = _disk_per_scan(workdir / "disk", config, scans)
    startup = statistics.median(t.ready_s for t in timings)
    rss = statistics.median(t.rss_kib for t in timings) / 1024
    return Outcome(
        figures={"idle_rss_mb": round(rss, 1), "startup_s": round(startup, 3),
                 "disk_bytes_per_scan": round(written / confirmed)},
        notes=[
            f"startup median of {starts}: scanner online after "
            f"{statistics.median(t.online_s for t in timings):.3f}s, subscribed after "
            f"{statistics.median(t.subscribed_s for t in timings):.3f}s, journal file after "
            f"{statistics.median(t.journal_s for t in timings):.3f}s",
            f"idle RSS read 1s after ready; peak (VmHWM) {timings[0].hwm_kib / 1024:.1f} MiB",
            f"disk: {written:,} bytes written for {confirmed} scans at 50/s, "
            "each committed and then settled",
        ],
    )


def _retain_probe(broker: BrokerConfig) -> None:
    client = make_client("bench-retain-probe", broker)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.publish(protocol.acks_topic(SITE, STATION), PROBE, qos=1,
                       retain=True).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _station_yaml(workdir: Path, broker: BrokerConfig, device: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    return write_yaml(workdir / "station.yaml", {
        "station": {"site": SITE, "id": STATION, "database": str(workdir / "station.db")},
        "broker": {"host": broker.host, "port": broker.port},
        "scanners": {"handheld": {"kind": "serial", "port": device, "terminator": "lf"}},
    })


class StartTiming:
    def __init__(self) -> None:
        self.online_s = 0.0
        self.subscribed_s = 0.0
        self.journal_s = 0.0
        self.rss_kib = 0
        self.hwm_kib = 0

    @property
    def ready_s(self) -> float:
        return max(self.online_s, self.subscribed_s)


def _start_once(workdir: Path, broker: BrokerConfig) -> StartTiming:
    timing = StartTiming()
    with open_pty() as pty:
        config = _station_yaml(workdir, broker, pty.path)
        subscribed = threading.Event()
        start = time.perf_counter()
        station = subprocess.Popen(
            [sys.executable, "-m", "scangw.cli", "station", "--config", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        watcher = threading.Thread(target=_watch_log, args=(station, subscribed, timing, start),
                                   daemon=True)
        watcher.start()
        try:
            _poll_ready(station, pty.path, workdir / "station.db", subscribed, timing, start)
            time.sleep(1.0)
            timing.rss_kib, timing.hwm_kib = _memory(station.pid)
        finally:
            stop(station)
            watcher.join(5)
    return timing


def _watch_log(station: subprocess.Popen[str], subscribed: threading.Event,
               timing: StartTiming, start: float) -> None:
    assert station.stderr is not None
    for line in station.stderr:
        if SUBSCRIBED_LOG in line and not subscribed.is_set():
            timing.subscribed_s = time.perf_counter() - start
            subscribed.set()


def _poll_ready(station: subprocess.Popen[str], device: str, journal: Path,
                subscribed: threading.Event, timing: StartTiming, start: float) -> None:
    fd_dir = Path(f"/proc/{station.pid}/fd")
    while not (timing.online_s and subscribed.is_set()):
        now = time.perf_counter() - start
        if station.poll() is not None:
            raise ScenarioFailed(f"scangw station exited with {station.returncode}")
        if now > READY_TIMEOUT_S:
            raise ScenarioFailed(f"scangw station was not ready within {READY_TIMEOUT_S}s "
                                 f"(scanner online: {bool(timing.online_s)}, "
                                 f"subscribed: {subscribed.is_set()})")
        if not timing.journal_s and journal.exists():
            timing.journal_s = now
        if not timing.online_s and _holds(fd_dir, device):
            timing.online_s = now
        time.sleep(0.002)


def _holds(fd_dir: Path, device: str) -> bool:
    try:
        links = [os.readlink(fd_dir / name) for name in os.listdir(fd_dir)]
    except OSError:
        return False
    return device in links


def _memory(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise ScenarioFailed(f"/proc/{pid}/io has no write_bytes")


def _disk_per_scan(workdir: Path, broker: BrokerConfig, count: int) -> tuple[int, int]:
    with open_pty() as pty:
        config = _station_yaml(workdir, broker, pty.path)
        station = spawn([sys.executable, "-m", "bench.stationproc", str(config),
                         str(count + 10)], workdir / "station.log")
        try:
            _wait_for_line(workdir / "station.log", "ready", station)
            before = _write_bytes(station.pid)
            typist = Typist(pty.master, serials(count), rate=50.0)
            typist.start()
            typist.join(count / 50 + 10)
            if typist.error is not None:
                raise ScenarioFailed(f"writing to the pty failed: {typist.error}")
            confirmed = _wait_confirmed(workdir / "station.db", count, station)
            time.sleep(0.2)
            written = _write_bytes(station.pid) - before
        finally:
            stop(station)
    return written, confirmed


def _wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ScenarioFailed(f"the station process did not get ready: {log.read_text()[-300:]}")
        time.sleep(0.01)


def _wait_confirmed(journal: Path, count: int, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    confirmed = 0
    while time.monotonic() < deadline and process.poll() is None:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        try:
            confirmed = int(conn.execute(
                "SELECT COUNT(*) FROM journal WHERE state = 'confirmed'").fetchone()[0])
        finally:
            conn.close()
        if confirmed >= count:
            return confirmed
        time.sleep(0.05)
    raise ScenarioFailed(f"only {confirmed} of {count} scans confirmed")
