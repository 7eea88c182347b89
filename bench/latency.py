"""Decision and confirmation latency at a steady 50 scans/s.

The clock starts just before the terminator is written to the pty master and
stops when this process observes the station's DecisionMade (journal committed)
or StoreAnswered (store's acknowledgement recorded in the journal) event.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from bench.harness import (
    ORDER,
    ScenarioFailed,
    Typist,
    open_pty,
    percentile,
    ready_station,
    serials,
    station_config,
)
from bench.results import Outcome
from bench.services import store_process
from gateway.events import DecisionMade, Event
from gateway.service import StationService
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig

RATE = 50.0
WARMUP = 20


def run(workdir: Path, quick: bool) -> Outcome:
    count = 250 if quick else 1000
    floor = fsync_floor(workdir / "fsync-probe", 50 if quick else 150)
    with LocalBroker(workdir / "broker") as broker:
        config = BrokerConfig(host=broker.host, port=broker.port)
        with store_process(workdir, config, {ORDER: WARMUP + count + 10}):
            outcome = asyncio.run(_measure(workdir, config, count))
    outcome.notes.append(floor)
    return outcome


def fsync_floor(path: Path, samples: int) -> str:
    """What one durable commit costs this disk at the same pace: append 4 KiB to a
    file and fdatasync it, 50 times a second (the WAL does at least that)."""
    took = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(samples):
            time.sleep(1 / RATE)
            os.write(fd, b"\0" * 4096)
            start = time.perf_counter_ns()
            os.fdatasync(fd)
            took.append((time.perf_counter_ns() - start) / 1e6)
    finally:
        os.close(fd)
    return (f"fsync floor: fdatasync of a 4 KiB append at {RATE:.0f}/s on the same disk: "
            f"p50 {percentile(took, 50):.3f} ms, p99 {percentile(took, 99):.3f} ms")


async def _measure(workdir: Path, broker: BrokerConfig, count: int) -> Outcome:
    scans = serials(WARMUP + count)
    with open_pty() as pty:
        service = StationService(station_config(workdir, broker, pty.path))
        events = service.events.subscribe(maxsize=4 * len(scans))
        await service.start()
        try:
            await ready_station(service, len(scans) + 10, timeout_s=10)
            typist = Typist(pty.master, scans, rate=RATE)
            typist.start()
            seen = await _observe(events, len(scans), timeout_s=len(scans) / RATE + 10)
        finally:
            await service.stop()
    if typist.error is not None:
        raise ScenarioFailed(f"writing to the pty failed: {typist.error}")
    decided, confirmed, own = seen
    decision_ms, confirm_ms = [], []
    for i, scan in enumerate(scans[WARMUP:], start=WARMUP):
        serial = scan.decode()
        if serial not in decided or serial not in confirmed:
            raise ScenarioFailed(f"scan {serial} was not decided and confirmed")
        decision_ms.append((decided[serial] - typist.stamps[i]) / 1e6)
        confirm_ms.append((confirmed[serial] - typist.stamps[i]) / 1e6)
    own_ms = [own[s.decode()] / 1e6 for s in scans[WARMUP:]]
    return Outcome(
        figures={
            "decision_p50_ms": round(percentile(decision_ms, 50), 3),
            "decision_p99_ms": round(percentile(decision_ms, 99), 3),
            "confirm_p50_ms": round(percentile(confirm_ms, 50), 3),
            "confirm_p99_ms": round(percentile(confirm_ms, 99), 3),
        },
        notes=[
            f"{count} scans at {RATE:.0f}/s after {WARMUP} warm-up scans",
            f"decision max {max(decision_ms):.2f} ms; confirm max {max(confirm_ms):.2f} ms",
            "station's own latency_ns (driver stamp to commit): "
            f"p50 {percentile(own_ms, 50):.3f} ms, p99 {percentile(own_ms, 99):.3f} ms",
        ],
    )


Seen = tuple[dict[str, int], dict[str, int], dict[str, int]]


async def _observe(events: asyncio.Queue[Event], count: int, timeout_s: float) -> Seen:
    """Stamp each scan's DecisionMade and StoreAnswered as they come off the bus."""
    decided: dict[str, int] = {}
    confirmed: dict[str, int] = {}
    own: dict[str, int] = {}
    serial_of: dict[str, str] = {}

    async def consume() -> None:
        while len(confirmed) < count:
            event = await events.get()
            now = time.perf_counter_ns()
            if isinstance(event, DecisionMade):
                entry = event.entry
                if not entry.accepted or entry.serial is None:
                    raise ScenarioFailed(f"the station refused {entry.data!r}: {entry.message}")
                decided[entry.serial] = now
                own[entry.serial] = event.latency_ns
                serial_of[entry.id] = entry.serial
            else:
                if not event.accepted:
                    raise ScenarioFailed(f"the store refused {event.entry_id}: {event.message}")
                confirmed[serial_of[event.entry_id]] = now

    try:
        await asyncio.wait_for(consume(), timeout_s)
    except TimeoutError:
        raise ScenarioFailed(
            f"only {len(decided)} decisions and {len(confirmed)} confirmations of {count}"
            f" scans within {timeout_s:.0f}s") from None
    return decided, confirmed, own
