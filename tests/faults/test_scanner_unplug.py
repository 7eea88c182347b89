"""The scanner is unplugged and plugged in again mid-stream (the config names a
by-id style symlink that points at the new device afterwards): a scan cut by
the unplug is never half-registered, nothing answered good is lost."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig
from tests.faults.rig import PluggedPty, account, count, pending, serial, wait_for
from tests.harness import make_store, new_site, rows, running_station, started, station_config

PACED = 80
BURST = 1000


def _operate(scanner: PluggedPty, online: Callable[[], bool], answers: Callable[[], int],
             ) -> int:
    """The packer's side; returns how many whole scans were sent."""
    sent = 0

    def paced(n: int) -> None:
        nonlocal sent
        for _ in range(n):
            scanner.write(f"{serial(sent)}\r".encode())
            sent += 1
            time.sleep(0.003)

    def replug() -> None:
        wait_for("the station to notice the unplug", lambda: not online(), 10, 0.01)
        time.sleep(0.2)
        scanner.plug()
        wait_for("the station to reopen the scanner", online, 10, 0.01)

    paced(PACED)
    scanner.write(b"SN-HALF")  # the trigger is let go mid-scan: the cable comes out
    time.sleep(0.2)
    scanner.unplug()
    replug()
    paced(PACED)
    # A burst trickling in 37-byte pieces is cut by the unplug somewhere in a scan.
    burst = b"".join(f"{serial(sent + i)}\r".encode() for i in range(BURST))
    out: list[bytes] = []
    writer = threading.Thread(target=lambda: out.append(scanner.trickle(burst, 37, 0.001)))
    writer.start()
    wait_for("the station to answer part of the burst", lambda: answers() >= 2 * PACED + 50,
             10, 0.005)
    scanner.unplug()
    writer.join()
    assert 0 < len(out[0]) < len(burst), "the unplug did not come mid-burst"
    sent += out[0].count(b"\r")
    replug()
    paced(PACED)
    return sent


def test_scanner_unplugged_and_replugged_mid_stream(
    tmp_path: Path, own_broker: LocalBroker
) -> None:
    site = new_site()
    broker = BrokerConfig(host=own_broker.host, port=own_broker.port)
    store = started(make_store(tmp_path, broker, site, {"SO-1": [(1, "PHONE", 10_000)]}))
    scanner = PluggedPty(tmp_path / "usb-Scanner_1234-if00")
    config = station_config(tmp_path, broker, site, str(scanner.link), reopen_interval_s=0.05)
    db = config.station.database
    sent = 0

    async def run() -> None:
        nonlocal sent
        async with running_station(config) as (service, _events):
            driver = service.scanners["gun"]
            sent = await asyncio.to_thread(_operate, scanner, lambda: driver.online,
                                           lambda: count(db, "SELECT COUNT(*) FROM journal"))
            deadline = time.monotonic() + 30
            while pending(db) or not _quiet(db, sent):
                assert time.monotonic() < deadline, "the station did not settle"
                await asyncio.sleep(0.2)

    try:
        asyncio.run(run())
    finally:
        store.stop()
        scanner.unplug()
    figures = account(db, tmp_path / "store.db", sent, "scanner unplug/replug")
    data = [r[0] for r in rows(db, "SELECT data FROM journal ORDER BY seq")]
    cut = [d for d in data if not re.fullmatch(r"SN-[0-9]{6}", d)]
    assert cut == [], f"a cut scan was registered or refused as data: {cut}"
    numbers = [int(d[3:]) for d in data]
    assert numbers == sorted(numbers), "scans were answered out of order"
    assert len(numbers) == len(set(numbers))
    assert figures.answered_good == len(data) >= 3 * PACED
    assert figures.lost == 0
    assert figures.doubled == 0
    assert figures.confirmed == figures.answered_good


def _quiet(db: Path, sent: int) -> bool:
    """The journal stopped growing (the burst's unread tail is gone with the unplug)."""
    before = rows(db, "SELECT COUNT(*) FROM journal")[0][0]
    time.sleep(0.3)
    return bool(rows(db, "SELECT COUNT(*) FROM journal")[0][0] == before) and sent > 0
