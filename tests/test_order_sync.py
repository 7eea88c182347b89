"""Orders reach the station over MQTT v5 request/response, stay usable offline, and
follow what other stations do; a late refusal makes the station follow the store."""

from __future__ import annotations

import asyncio
import os
import select
from pathlib import Path

import pytest

from gateway.events import DecisionMade, StoreAnswered
from gateway.service import OrderUnavailable, StationService
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.harness import (
    TIMEOUT,
    make_store,
    new_site,
    next_event,
    register_elsewhere,
    rows,
    running_station,
    started,
    station_config,
)

pytestmark = pytest.mark.usefixtures("store_backend")


def test_opening_an_order_fetches_it_from_the_store(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site,
                               {"SO-7": [(1, "PHONE", 4), (2, "DRILL", 1)]}))

    async def scenario() -> tuple[int, str, list[tuple[str, int]]]:
        async with running_station(station_config(tmp_path, broker_config, site,
                                                  pty_pair.path), order=None) as (svc, _):
            line = await svc.open_order("SO-7", 2)
            with pytest.raises(OrderUnavailable, match="SO-404 is not known to the store"):
                await svc.open_order("SO-404")
            cached = rows(tmp_path / "pack-01.db",
                          "SELECT item_id, quantity FROM cached_lines ORDER BY line_number")
            return line.quantity, line.item_id, cached

    try:
        assert asyncio.run(scenario()) == (1, "DRILL", [("PHONE", 4), ("DRILL", 1)])
    finally:
        store.stop()


def test_a_cached_order_keeps_working_while_the_store_is_away(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = new_site()
    config = station_config(tmp_path, broker_config, site, pty_pair.path)
    store = started(make_store(tmp_path, broker_config, site))

    async def cache_it() -> None:
        async with running_station(config):
            pass

    try:
        asyncio.run(cache_it())
    finally:
        store.stop()

    async def offline() -> tuple[str, bool]:
        async with running_station(config, order=None) as (svc, events):
            with pytest.raises(OrderUnavailable, match="not cached here"):
                await svc.open_order("SO-2")
            line = await svc.open_order("SO-1")
            pty_pair.write(b"OFFLINE-1\r")
            return line.item_id, (await next_event(events, DecisionMade)).entry.accepted

    assert asyncio.run(offline()) == ("PHONE", True)
    assert rows(tmp_path / "pack-01.db", "SELECT serial, state FROM journal") == [
        ("OFFLINE-1", "pending")]


def test_a_registration_at_one_station_reaches_another_holding_the_order(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site))
    other = Pty()

    async def scenario() -> tuple[str, str]:
        a_cfg = station_config(tmp_path, broker_config, site, pty_pair.path, station="pack-a")
        b_cfg = station_config(tmp_path, broker_config, site, other.path, station="pack-b")
        async with running_station(a_cfg) as (_a, a_events), \
                running_station(b_cfg) as (b, b_events):
            pty_pair.write(b"SHARED-1\r")
            assert (await next_event(a_events, StoreAnswered)).accepted
            await asyncio.wait_for(_line_has(b, "SHARED-1"), TIMEOUT)
            other.write(b"SHARED-1\r")
            refused = (await next_event(b_events, DecisionMade)).entry
            return refused.reason, refused.message

    try:
        reason, message = asyncio.run(scenario())
    finally:
        store.stop()
        other.close()
    assert reason == "duplicate_serial"
    assert "SHARED-1 is already registered on SO-1 line 1" in message


async def _line_has(service: StationService, serial: str) -> None:
    while True:
        line = service.station.line("SO-1", 1)
        if line is not None and serial in line.serials:
            return
        await asyncio.sleep(0.01)


def test_a_late_refusal_beeps_bad_and_the_line_follows_the_store(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = new_site()
    store = make_store(tmp_path, broker_config, site, {"SO-1": [(1, "PHONE", 2)],
                                                       "SO-9": [(1, "PHONE", 1)]})
    register_elsewhere(store, "SO-9", "SN-X")
    started(store)
    config = station_config(tmp_path, broker_config, site, pty_pair.path,
                            feedback_good="474f4f44", feedback_bad="424144")

    async def scenario() -> tuple[bool, bool, list[str | None]]:
        async with running_station(config) as (svc, events):
            pty_pair.write(b"SN-X\r")
            local = (await next_event(events, DecisionMade)).entry.accepted
            answer = await next_event(events, StoreAnswered)
            line = svc.station.line("SO-1", 1)
            assert line is not None
            return local, answer.accepted, list(line.serials)

    try:
        local, at_store, serials = asyncio.run(scenario())
    finally:
        store.stop()
    assert (local, at_store, serials) == (True, False, [])
    assert _read_all(pty_pair.master) == b"GOODBAD"  # good beep, then the late bad beep
    assert rows(tmp_path / "pack-01.db", "SELECT COUNT(*) FROM cached_serials") == [(0,)]


def _read_all(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0.2)[0]:
        data += os.read(fd, 1024)
    return data


def test_an_order_too_large_for_one_message_is_refused_clearly_not_resent_forever(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = new_site()
    store = make_store(tmp_path, broker_config, site, {"SO-BIG": [(1, "PHONE", 60_000)],
                                                       "SO-1": [(1, "PHONE", 2)]})
    with store.db.write() as ledger:
        slip = ledger.open_packing_slip("SO-BIG")
        for i in range(50_000):
            assert ledger.register(slip.id, 1, f"SERIAL-NUMBER-{i:08d}").accepted
    started(store)

    async def scenario() -> str:
        async with running_station(station_config(tmp_path, broker_config, site,
                                                  pty_pair.path), order=None) as (svc, _):
            with pytest.raises(OrderUnavailable) as refused:
                await svc.open_order("SO-BIG")
            line = await svc.open_order("SO-1")  # the store still answers
            assert line.item_id == "PHONE"
            return str(refused.value)

    try:
        message = asyncio.run(scenario())
    finally:
        store.stop()
    assert "SO-BIG is too large for a station (50000 serials)" in message
