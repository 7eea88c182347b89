"""SIGKILL of the station process in the middle of bursts: whatever the journal says
was answered good reaches the store exactly once, after the restart."""

from __future__ import annotations

import re
import time
from pathlib import Path

from gateway.config import StationConfig
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.faults.rig import (
    SERIAL_PATTERN,
    StationProcess,
    account,
    count,
    pending,
    serial,
    wait_for,
    write_config,
    write_in_background,
)
from tests.harness import make_store, new_site, rows, started, station_config

BURST = 2000
KILL_AFTER = (200, 600, 1000)
"""Journal rows of each burst to wait for before the kill: early, middle, late (the
station commits what it read in one transaction, so a loaded machine may see the
whole burst at once: then the kill still comes with the outbox full)."""
JOURNAL = "SELECT COUNT(*) FROM journal"


def open_order(station: StationProcess, pty: Pty, db: Path, order: str = "SO-1") -> None:
    """Scan the order barcode until the station (starting, connecting) opens it;
    what is typed before it opened the port is flushed, like a real serial port."""
    deadline = time.monotonic() + 30
    while count(db, "SELECT COUNT(*) FROM journal WHERE reason = 'order_opened'") == 0:
        assert station.alive, f"the station exited: {station.log_tail()}"
        assert time.monotonic() < deadline, f"the order was never opened: {station.log_tail()}"
        pty.write(f"{order}\r".encode())
        time.sleep(0.5)


def settled(db: Path, quiet_s: float = 0.8) -> bool:
    """Nothing pending and the journal did not grow for ``quiet_s``."""
    before = count(db, JOURNAL)
    time.sleep(quiet_s)
    return count(db, JOURNAL) == before and pending(db) == 0


def test_sigkill_during_bursts_loses_and_doubles_nothing(
    tmp_path: Path, own_broker: LocalBroker, pty_pair: Pty
) -> None:
    site = new_site()
    broker = BrokerConfig(host=own_broker.host, port=own_broker.port)
    store = started(make_store(tmp_path, broker, site, {"SO-1": [(1, "PHONE", 10_000)]}))
    config = StationConfig.model_validate({
        **station_config(tmp_path, broker, site, pty_pair.path).model_dump(),
        "serial_patterns": SERIAL_PATTERN})
    db = config.station.database
    station = StationProcess(write_config(config, tmp_path / "station.yaml"),
                             tmp_path / "station.log")
    sent = 0
    at_kill: list[tuple[int, int]] = []
    started_at = time.monotonic()
    try:
        station.start()
        open_order(station, pty_pair, db)
        for kill_after in KILL_AFTER:
            wait_for("the station to open the scanner port", station.reading, 30)
            base = count(db, JOURNAL)
            blob = b"".join(f"{serial(sent + i)}\r".encode() for i in range(BURST))
            writer = write_in_background(pty_pair.write, blob)
            sent += BURST
            target = base + kill_after
            try:
                wait_for(f"{kill_after} answers of the burst",
                         lambda: count(db, JOURNAL) >= target, 20, 0.01)  # noqa: B023
            except AssertionError as exc:
                raise AssertionError(f"{exc}; the station's stacks:\n{station.dump()}") from None
            station.kill()
            at_kill.append((count(db, JOURNAL) - base, pending(db)))
            station.start()
            writer.join(60)
            assert not writer.is_alive(), "the restarted station does not read the scanner"
        wait_for("the station to answer everything and empty its outbox",
                 lambda: settled(db), 90, 0.1)
        station.stop()
    finally:
        station.stop()
        store.stop()
    print(f"killed {len(at_kill)} times; (journal rows of the burst, outbox) at each kill:"
          f" {at_kill}; {time.monotonic() - started_at:.1f}s")
    figures = account(db, tmp_path / "store.db", sent, "SIGKILL during bursts")
    assert all(n < BURST or outbox > 0 for n, outbox in at_kill), \
        f"a kill came when the burst was all answered and delivered: {at_kill}"
    assert figures.lost == 0
    assert figures.doubled == 0
    assert figures.confirmed == figures.answered_good > BURST
    store_serials = [r[0] for r in rows(tmp_path / "store.db",
                                        "SELECT serial FROM sales_registration")]
    assert all(re.fullmatch(r"SN-[0-9]{6}", s) for s in store_serials), \
        "a fragment of a cut scan was registered"
