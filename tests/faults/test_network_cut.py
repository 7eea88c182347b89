"""The network between station and broker is cut mid-stream (every connection
closed, new ones refused) and comes back: nothing answered good is lost or
booked twice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.events import DecisionMade, Event
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.faults.rig import CuttableProxy, account, pending, serial
from tests.harness import TIMEOUT, make_store, new_site, running_station, started, station_config

SCANS = 300
CUT_S = 1.5


@pytest.fixture
def proxy(own_broker: LocalBroker) -> Iterator[CuttableProxy]:
    p = CuttableProxy((own_broker.host, own_broker.port))
    yield p
    p.close()


def _type(pty: Pty, first: int, count: int, gap_s: float) -> threading.Thread:
    def run() -> None:
        for i in range(first, first + count):
            pty.write(f"{serial(i)}\r".encode())
            time.sleep(gap_s)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_network_cut_between_station_and_broker(
    tmp_path: Path, own_broker: LocalBroker, proxy: CuttableProxy, pty_pair: Pty
) -> None:
    site = new_site()
    direct = BrokerConfig(host=own_broker.host, port=own_broker.port)
    store = started(make_store(tmp_path, direct, site, {"SO-1": [(1, "PHONE", 10_000)]}))
    via_proxy = BrokerConfig(host="127.0.0.1", port=proxy.port)
    config = station_config(tmp_path, via_proxy, site, pty_pair.path)
    db = config.station.database
    answered_good = 0
    was_cut = False

    async def run() -> None:
        nonlocal answered_good, was_cut
        async with running_station(config) as (service, events):
            assert service.uplink is not None
            typing = _type(pty_pair, 0, SCANS, 0.005)
            await asyncio.sleep(0.3)
            proxy.cut()
            await asyncio.wait_for(_until_disconnected(service.uplink.connected), TIMEOUT)
            was_cut = True
            await asyncio.sleep(CUT_S)
            proxy.restore()
            for _ in range(SCANS):
                event = await asyncio.wait_for(_decision(events), 20)
                answered_good += event.entry.accepted
            typing.join()
            await asyncio.wait_for(service.uplink.connected.wait(), 30)
            deadline = time.monotonic() + 30
            while pending(db):
                assert time.monotonic() < deadline, "the outbox did not drain after the cut"
                await asyncio.sleep(0.1)

    try:
        asyncio.run(run())
    finally:
        store.stop()
    figures = account(db, tmp_path / "store.db", SCANS, "network cut")
    print(f"proxy accepted {proxy.accepted} connection(s)")
    assert was_cut
    assert proxy.accepted >= 2, "the station never reconnected through the proxy"
    assert answered_good == SCANS
    assert figures.lost == 0
    assert figures.doubled == 0
    assert figures.confirmed == figures.answered_good == SCANS


async def _until_disconnected(connected: asyncio.Event) -> None:
    while connected.is_set():
        await asyncio.sleep(0.01)


async def _decision(events: asyncio.Queue[Event]) -> DecisionMade:
    while True:
        event = await events.get()
        if isinstance(event, DecisionMade):
            return event


STALL_S = 12.0
"""Longer than the keepalive (5 s, the least the config allows) can bridge."""


def test_network_black_hole_between_station_and_broker(
    tmp_path: Path, own_broker: LocalBroker, proxy: CuttableProxy, pty_pair: Pty
) -> None:
    """Nothing gets through, nothing is closed: the station must find out by
    keepalive, reconnect and resend; what the black hole held arrives late."""
    site = new_site()
    direct = BrokerConfig(host=own_broker.host, port=own_broker.port)
    store = started(make_store(tmp_path, direct, site, {"SO-1": [(1, "PHONE", 10_000)]}))
    via_proxy = BrokerConfig(host="127.0.0.1", port=proxy.port, keepalive_s=5)
    config = station_config(tmp_path, via_proxy, site, pty_pair.path)
    db = config.station.database
    answered_good = 0
    saw_loss = False

    async def run() -> None:
        nonlocal answered_good, saw_loss
        async with running_station(config) as (service, events):
            assert service.uplink is not None
            typing = _type(pty_pair, 0, SCANS, 0.005)
            await asyncio.sleep(0.3)
            proxy.stall()
            for _ in range(SCANS):
                event = await asyncio.wait_for(_decision(events), 20)
                answered_good += event.entry.accepted
            typing.join()
            await asyncio.wait_for(_until_disconnected(service.uplink.connected), STALL_S)
            saw_loss = True
            proxy.flow()
            await asyncio.wait_for(service.uplink.connected.wait(), 40)
            deadline = time.monotonic() + 40
            while pending(db):
                assert time.monotonic() < deadline, "the outbox did not drain after the stall"
                await asyncio.sleep(0.1)

    try:
        asyncio.run(run())
    finally:
        proxy.flow()
        store.stop()
    figures = account(db, tmp_path / "store.db", SCANS, "network black hole")
    assert saw_loss, "the station never noticed the black hole"
    assert answered_good == SCANS
    assert figures.lost == 0
    assert figures.doubled == 0
    assert figures.confirmed == figures.answered_good == SCANS
