"""A docked handheld's upload: 10,000 scans written to the pty at once.

The clock runs from just before the first byte is written until the store's
acknowledgement of the last scan is recorded at the station. Every scan must
be framed whole (its decision's data is exactly one written serial, once) and
confirmed accepted by the store; the rest counts as misframed or lost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    ORDER,
    ScenarioFailed,
    Typist,
    open_pty,
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

STALL_S = 15.0
"""Give up when nothing was decided or confirmed for this long."""


def run(workdir: Path, quick: bool) -> Outcome:
    """The same 10,000 scans in --quick: the rate depends on the count."""
    count = 10_000
    with LocalBroker(workdir / "broker") as broker:
        config = BrokerConfig(host=broker.host, port=broker.port)
        with store_process(workdir, config, {ORDER: count + 10}):
            return asyncio.run(_measure(workdir, config, count))


@dataclass
class Tally:
    expected: set[str]
    decided: dict[str, str] = field(default_factory=dict)
    """entry id -> serial, for scans framed whole and accepted."""
    confirmed: set[str] = field(default_factory=set)
    misframed: int = 0
    refused: int = 0
    last_decision_ns: int = 0
    last_confirm_ns: int = 0


async def _measure(workdir: Path, broker: BrokerConfig, count: int) -> Outcome:
    scans = serials(count)
    tally = Tally({s.decode() for s in scans})
    with open_pty() as pty:
        service = StationService(station_config(workdir, broker, pty.path))
        events = service.events.subscribe(maxsize=4 * count)
        await service.start()
        try:
            await ready_station(service, count + 10, timeout_s=10)
            typist = Typist(pty.master, scans, rate=None)
            typist.start()
            await _follow(events, tally, count)
        finally:
            await service.stop()
    if typist.error is not None:
        raise ScenarioFailed(f"writing to the pty failed: {typist.error}")
    start = typist.stamps[0]
    lost = count - len(tally.confirmed)
    end = tally.last_confirm_ns if not lost else time.perf_counter_ns()
    decided_s = (tally.last_decision_ns - start) / 1e9
    return Outcome(
        figures={
            "burst_scans_per_s": round(len(tally.confirmed) / ((end - start) / 1e9), 1),
            "burst_lost": lost,
            "burst_misframed": tally.misframed,
        },
        notes=[
            f"{count} scans of {len(scans[0]) + 1} bytes in one write; all decided at the "
            f"station after {decided_s:.2f}s ({len(tally.decided) / decided_s:,.0f}/s), "
            f"all confirmed after {(end - start) / 1e9:.2f}s",
            f"{tally.refused} refused by the station or store",
        ],
    )


async def _follow(events: asyncio.Queue[Event], tally: Tally, count: int) -> None:
    """Count decisions and confirmations until all are in or nothing moves."""
    while len(tally.confirmed) + tally.refused + tally.misframed < count:
        try:
            event = await asyncio.wait_for(events.get(), STALL_S)
        except TimeoutError:
            return
        now = time.perf_counter_ns()
        if isinstance(event, DecisionMade):
            tally.last_decision_ns = now
            entry = event.entry
            serial = entry.serial if entry.accepted else entry.data
            if serial not in tally.expected:
                tally.misframed += 1
            elif not entry.accepted:
                tally.refused += 1
            else:
                tally.expected.discard(serial)
                tally.decided[entry.id] = serial
        elif event.entry_id in tally.decided:
            if event.accepted:
                tally.confirmed.add(event.entry_id)
                tally.last_confirm_ns = now
            else:
                tally.refused += 1
