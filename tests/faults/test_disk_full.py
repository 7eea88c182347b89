"""The disk under the station's database fills up: scans are answered bad with
``journal_failed`` (never good without a journal row), nothing answered good
before is lost, and the station recovers by itself when space returns."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.events import DecisionMade, Event
from gateway.journal import EntryState
from gateway.service import StationService
from orderstore.service import StoreService
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.faults.rig import account, pending, serial
from tests.harness import (
    TIMEOUT,
    make_store,
    new_site,
    rows,
    running_station,
    started,
    station_config,
)

STEP = 40
"""Scans per phase: before, while the store is away, while full (twice), after."""
SETTLE_S = 8.0
"""Time the outbox gets to empty once space is back (resends come after 0.5 s)."""


class SmallDisk:
    """A 2 MiB tmpfs the station's database lives on; ``fill`` takes every free
    byte with a filler file, ``free`` deletes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> int:
        written = 0
        chunk = b"\0" * 4096
        with self.filler.open("ab", buffering=0) as f:
            while True:
                try:
                    written += f.write(chunk) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
            with contextlib.suppress(OSError):  # the last few bytes of a page
                while f.write(b"\0"):
                    written += 1
        return written

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, (
        f"cannot mount a 2 MiB tmpfs at {mount} (needs root or CAP_SYS_ADMIN; "
        "test_file_size_limit.py covers the same fault without): "
        f"{done.stderr.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def _scan(pty: Pty, events: asyncio.Queue[Event], first: int, n: int,
                ) -> list[DecisionMade]:
    pty.write(b"".join(f"{serial(i)}\r".encode() for i in range(first, first + n)))
    answers: list[DecisionMade] = []
    while len(answers) < n:
        event = await asyncio.wait_for(events.get(), TIMEOUT)
        if isinstance(event, DecisionMade):
            answers.append(event)
    return answers


async def _until(what: str, check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s: {what}"
        await asyncio.sleep(0.1)


def test_disk_full_under_the_station_database(
    tmp_path: Path, own_broker: LocalBroker, pty_pair: Pty, small_disk: SmallDisk
) -> None:
    site = new_site()
    broker = BrokerConfig(host=own_broker.host, port=own_broker.port)
    store = started(make_store(tmp_path, broker, site, {"SO-1": [(1, "PHONE", 10_000)]}))
    config = station_config(small_disk.path, broker, site, pty_pair.path)
    db = config.station.database
    heard_good: set[str] = set()

    async def scenario(service: StationService, events: asyncio.Queue[Event]) -> None:
        nonlocal store
        before = await _scan(pty_pair, events, 0, STEP)
        assert all(a.entry.accepted for a in before)
        # The store is away, so the next answers wait in the outbox; its
        # acknowledgements then arrive while the disk is full.
        await asyncio.to_thread(store.stop)
        waiting = await _scan(pty_pair, events, STEP, STEP)
        assert all(a.entry.accepted for a in waiting)
        filled = await asyncio.to_thread(small_disk.fill)
        print(f"filled the station's disk with {filled} bytes")
        full = await _scan(pty_pair, events, 2 * STEP, STEP)
        store = await asyncio.to_thread(lambda: started(StoreService(store.config)))
        await asyncio.sleep(2)  # acknowledgements and order updates land on a full disk
        full += await _scan(pty_pair, events, 3 * STEP, STEP)
        refused = [a.entry for a in full if not a.entry.accepted]
        print(f"while full: {len(full)} scans, {len(refused)} answered bad: "
              f"{sorted({(e.reason, e.message[:70]) for e in refused})}")
        assert refused, "no scan was refused while the disk was full"
        for e in refused:
            assert e.reason == "journal_failed", e
            assert "not saved: the station's disk is full or failing" in e.message
            assert "full" in e.message, e.message
        small_disk.free()
        after = await _scan(pty_pair, events, 4 * STEP, STEP)
        assert all(a.entry.accepted for a in after), [a.entry.reason for a in after]
        heard_good.update(a.entry.id for a in before + waiting + full + after
                          if a.entry.accepted and a.entry.state is not EntryState.LOCAL)
        with contextlib.suppress(AssertionError):
            await _until("the outbox to empty", lambda: pending(db) == 0, SETTLE_S)

    async def run() -> None:
        async with running_station(config) as (service, events):
            await scenario(service, events)

    try:
        asyncio.run(run())
    finally:
        store.stop()
    figures = account(db, tmp_path / "store.db", 5 * STEP, "disk full")
    journaled = {r[0] for r in rows(db, "SELECT id FROM journal")}
    assert heard_good <= journaled, "a scan was answered good without a journal row"
    assert figures.lost == 0
    assert figures.doubled == 0
    assert figures.confirmed == figures.answered_good == len(heard_good)
    stuck = [r[0] for r in rows(db, "SELECT id FROM journal WHERE state = 'pending'")]
    confirmed = {r[0] for r in rows(tmp_path / "store.db", "SELECT id FROM"
                                    " station_registrations WHERE status = 'accepted'")}
    assert not stuck, (
        f"{len(stuck)} registration(s) stay pending in the station's outbox "
        f"{SETTLE_S}s after space returned ({len(set(stuck) & confirmed)} of them accepted "
        "by the store): their acknowledgements arrived while the disk was full, "
        "StationService._settled only logged the failed settle, and Uplink._acknowledged "
        "had already dropped them from _inflight, so nothing resends them until the next "
        "reconnect")
