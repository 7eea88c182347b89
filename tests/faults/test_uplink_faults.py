"""Faults on the way to the store lose nothing that was answered good, and book
nothing twice: broker restart, store restart, a resend asked for by the store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.events import DecisionMade
from gateway.service import StationService
from orderstore.service import StoreService
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.faults.rig import account
from tests.harness import make_store, new_site, rows, running_station, started, station_config

pytestmark = pytest.mark.usefixtures("store_backend")

SCANS = 300


def _type_scans(pty: Pty, count: int, gap_s: float) -> threading.Thread:
    def run() -> None:
        for i in range(count):
            pty.write(f"SN-{i:05d}\r".encode())
            time.sleep(gap_s)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def _answered(events: asyncio.Queue[object], count: int) -> int:
    good = 0
    for _ in range(count):
        event = await asyncio.wait_for(_decision(events), 20)
        good += event.entry.accepted
    return good


async def _decision(events: asyncio.Queue[object]) -> DecisionMade:
    while True:
        event = await events.get()
        if isinstance(event, DecisionMade):
            return event


async def _outbox_empty(service: StationService, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while rows(service.config.station.database,
               "SELECT COUNT(*) FROM journal WHERE state = 'pending'")[0][0]:
        assert time.monotonic() < deadline, "the outbox did not drain"
        await asyncio.sleep(0.1)


def _scenario(tmp_path: Path, broker: LocalBroker, pty: Pty,
              fault: Callable[[StoreService], StoreService]) -> tuple[int, int, int, int]:
    label = fault.__name__.replace("_", " ")
    site = new_site()
    config_broker = BrokerConfig(host=broker.host, port=broker.port)
    store = started(make_store(tmp_path, config_broker, site, {"SO-1": [(1, "PHONE", 10_000)]}))
    config = station_config(tmp_path, config_broker, site, pty.path)

    async def run() -> StoreService:
        nonlocal store
        async with running_station(config) as (service, events):
            typing = _type_scans(pty, SCANS, 0.004)
            answered = asyncio.ensure_future(_answered(events, SCANS))  # type: ignore[arg-type]
            await asyncio.sleep(0.4)
            store = await asyncio.to_thread(fault, store)
            assert await answered == SCANS
            typing.join()
            await _outbox_empty(service)
        return store

    try:
        store = asyncio.run(run())
    finally:
        store.stop()
    figures = account(config.station.database, tmp_path / "store.db", SCANS, label)
    return figures.answered_good, figures.confirmed, figures.lost, figures.doubled


def test_broker_restart_during_a_stream_of_scans(
    tmp_path: Path, own_broker: LocalBroker, pty_pair: Pty
) -> None:
    def restart_broker(store: StoreService) -> StoreService:
        own_broker.stop()
        time.sleep(1.0)
        own_broker.start()
        return store

    good, confirmed, lost, doubled = _scenario(tmp_path, own_broker, pty_pair, restart_broker)
    assert (good, confirmed, lost, doubled) == (SCANS, SCANS, 0, 0)


def test_order_store_restart_during_a_stream_of_scans(
    tmp_path: Path, own_broker: LocalBroker, pty_pair: Pty
) -> None:
    def restart_store(store: StoreService) -> StoreService:
        store.stop()
        time.sleep(1.0)
        again = StoreService(store.config)
        return started(again)

    good, confirmed, lost, doubled = _scenario(tmp_path, own_broker, pty_pair, restart_store)
    assert (good, confirmed, lost, doubled) == (SCANS, SCANS, 0, 0)
