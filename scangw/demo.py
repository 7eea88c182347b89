"""``scangw demo``: the whole path on one machine, with nothing to set up.

A private Mosquitto (unless a broker is given), an order store on SQLite with a
sample order, and a station whose scanner is a simulated serial scanner on a
pseudo-terminal. A short scan script is typed into the pty; each scan's station
decision and the store's confirmation are printed as they happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import tty
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from gateway.config import StationConfig
from gateway.events import DecisionMade, Event, StoreAnswered
from gateway.journal import EntryState
from gateway.service import StationService
from orderstore.config import StoreConfig
from orderstore.sample import SAMPLE_CUSTOMER, SAMPLE_GTINS, SAMPLE_LINES, SAMPLE_ORDER_ID
from orderstore.service import StoreService
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig

T = TypeVar("T")
E = TypeVar("E", DecisionMade, StoreAnswered)

SITE = "demo"
STATION = "pack-01"


@dataclass(frozen=True)
class ScriptedScan:
    data: bytes
    expect: str
    """The reason code the station should answer with."""


SCAN_SCRIPT = [
    ScriptedScan(b"SO-1001\r", "order_opened"),           # the pick list's order barcode
    ScriptedScan(b"SN-PX1-0001\r", "added"),
    ScriptedScan(b"SN-PX1-0002\r", "added"),
    ScriptedScan(b"SN-PX1-0001\r", "duplicate_serial"),   # R17
    ScriptedScan(b"SGW-NOT-READABLE\r", "added"),          # R7: a blank counts
    ScriptedScan(b"SN-PX1-0004\r", "over_quantity"),      # R4: 3 of 3 already
    ScriptedScan(b"SGW-MODE-REMOVE\r", "mode_remove"),     # R6
    ScriptedScan(b"SGW-NOT-READABLE\r", "removed"),
    ScriptedScan(b"SGW-MODE-ADD\r", "mode_add"),
    ScriptedScan(b"]C10109521101530001\x1d21SN-PX1-0003\r", "added"),  # GS1-128 by GTIN
    ScriptedScan(b"SGW-POST\r", "not_enough_serials"),     # R2: line 2 is not scanned
    ScriptedScan(b"SGW-NEXT-LINE\r", "line_selected"),
    ScriptedScan(b"DR18-0001\r", "added"),
    ScriptedScan(b"\x00\xff\x1b[2J\r", "unreadable"),    # garbage: a bad read
    ScriptedScan(b"DR18-0002\r", "added"),
    ScriptedScan(b"SGW-POST\r", "posted"),                 # packing slip posted
]


_STORE_DECIDED = {"order_opened", "not_enough_serials", "too_many_serials", "posted"}
"""Answers the station got from the store by request/response (not the outbox)."""


class DemoFailed(RuntimeError):
    pass


@contextlib.contextmanager
def _pty() -> Iterator[tuple[int, str]]:
    """A pseudo-terminal: we write to the master, the station opens the slave."""
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def run_demo(broker: BrokerConfig | None = None, timeout_s: float = 10.0) -> int:
    """Run the demo; returns the process exit code."""
    with tempfile.TemporaryDirectory(prefix="scangw-demo-") as tmp:
        workdir = Path(tmp)
        if broker is not None:
            return asyncio.run(_demo(workdir, broker, timeout_s))
        with LocalBroker(workdir / "broker") as local:
            print(f"broker     mosquitto on {local.host}:{local.port} (private to this demo)")
            return asyncio.run(
                _demo(workdir, BrokerConfig(host=local.host, port=local.port), timeout_s)
            )


async def _demo(workdir: Path, broker: BrokerConfig, timeout_s: float) -> int:
    store = StoreService(StoreConfig.model_validate({
        "store": {"id": "store-1", "sites": [SITE], "database": workdir / "store.db"},
        "broker": broker.model_dump(),
    }))
    store.db.put_order(SAMPLE_ORDER_ID, SAMPLE_CUSTOMER, SAMPLE_LINES, SAMPLE_GTINS)
    store.start()
    try:
        await _wait_for(asyncio.to_thread(_subscribed, store, timeout_s), timeout_s + 1,
                        f"the order store to subscribe at {broker.host}:{broker.port}")
        print(f"store      SQLite {workdir / 'store.db'}, order {SAMPLE_ORDER_ID} "
              f"for {SAMPLE_CUSTOMER}")
        with _pty() as (master, device):
            return await _run_station(workdir, broker, store, master, device, timeout_s)
    except DemoFailed as exc:
        print(f"demo failed: {exc}")
        return 1
    finally:
        store.stop()


async def _run_station(workdir: Path, broker: BrokerConfig, store: StoreService,
                       master: int, device: str, timeout_s: float) -> int:
    config = StationConfig.model_validate({
        "station": {"site": SITE, "id": STATION, "database": workdir / "station.db"},
        "broker": broker.model_dump(),
        "scanners": {"handheld": {"kind": "serial", "port": device, "terminator": "cr"}},
        "monitor": {"port": 0},
    })
    service = StationService(config)
    events = service.events.subscribe()
    await service.start()
    try:
        assert service.uplink is not None
        await _wait_for(service.uplink.connected.wait(), timeout_s, "the station's uplink")
        await _wait_for(_scanner_online(service), timeout_s, "the simulated scanner")
        print(f"station    {SITE}/{STATION}, scanner on {device}; driven by barcodes only\n")
        failures = 0
        for scan in SCAN_SCRIPT:
            failures += await _one_scan(master, scan, events, timeout_s)
        print(f"\n{len(SCAN_SCRIPT)} scans, {failures} unexpected; "
              f"store holds {store.db.registration_count('accepted')} registration(s)"
              f" from this station")
        return 0 if failures == 0 else 1
    finally:
        await service.stop()


async def _one_scan(master: int, scan: ScriptedScan, events: asyncio.Queue[Event],
                    timeout_s: float) -> int:
    os.write(master, scan.data)
    decision = await _next(events, DecisionMade, None, timeout_s)
    entry = decision.entry
    verdict = "GOOD" if entry.accepted else "BAD "
    shown = ascii(scan.data.rstrip(b"\r"))[2:-1]
    print(f"scan {shown:<24} station {verdict} {entry.reason:<17} {entry.message}"
          f"  [{decision.latency_ns / 1e6:.2f} ms]")
    unexpected = int(entry.reason != scan.expect)
    if entry.state is not EntryState.PENDING:
        what = ("refused at the station" if not entry.accepted and entry.reason not in
                _STORE_DECIDED else "answered by the store" if entry.reason in _STORE_DECIDED
                or entry.reason == "posted" else "a command, kept at the station")
        print(f"{'':29}store   -    {what}")
        return unexpected
    answer = await _next(events, StoreAnswered, entry.id, timeout_s)
    status = "OK  " if answer.accepted else "REFUSED"
    print(f"{'':29}store   {status} {answer.reason:<17} confirmed in the journal")
    return unexpected + int(not answer.accepted)


async def _next(
    events: asyncio.Queue[Event], kind: type[E], entry_id: str | None, timeout_s: float
) -> E:
    async def find() -> E:
        while True:
            event = await events.get()
            if isinstance(event, kind) and (entry_id is None or _id(event) == entry_id):
                return event

    return await _wait_for(find(), timeout_s, f"a {kind.__name__} event")


def _id(event: Event) -> str:
    return event.entry.id if isinstance(event, DecisionMade) else event.entry_id


def _subscribed(store: StoreService, timeout_s: float) -> None:
    if not store.subscribed.wait(timeout_s):
        raise TimeoutError


async def _scanner_online(service: StationService) -> None:
    while not all(d.online for d in service.scanners.values()):
        await asyncio.sleep(0.01)


async def _wait_for(awaitable: Awaitable[T], timeout_s: float, what: str) -> T:
    try:
        return await asyncio.wait_for(awaitable, timeout_s)
    except TimeoutError:
        raise DemoFailed(f"timed out after {timeout_s}s waiting for {what}") from None
