"""pty -> station -> real Mosquitto -> order store -> acknowledgement -> journal."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from gateway.config import StationConfig
from gateway.events import DecisionMade, Event, StoreAnswered
from gateway.order_cache import CachedLine
from gateway.service import StationService
from orderstore.config import StoreConfig
from orderstore.service import StoreService
from scangw import protocol
from scangw.mqtt import BrokerConfig, make_client
from tests.conftest import Pty
from tests.harness import register_elsewhere, rows, store_section

pytestmark = pytest.mark.usefixtures("store_backend")

TIMEOUT = 10.0
EPOCH = "e" * 32


def _store(tmp_path: Path, broker: BrokerConfig, site: str) -> StoreService:
    store = StoreService(StoreConfig.model_validate({
        "store": {"id": "store-t", "sites": [site], **store_section(tmp_path / "store.db")},
        "broker": broker.model_dump(),
    }))
    store.db.put_order("SO-1", "C-1", [(1, "PHONE", 2)])
    return store


def _station_config(tmp_path: Path, broker: BrokerConfig, site: str, device: str,
                    ) -> StationConfig:
    return StationConfig.model_validate({
        "station": {"site": site, "id": "pack-01", "database": tmp_path / "station.db"},
        "broker": broker.model_dump(),
        "uplink": {"resend_after_s": 0.5},
        "monitor": {"port": 0},
        "debounce": {"window_ms": 0},  # the duplicate below is a real second scan
        "scanners": {"gun": {"kind": "serial", "port": device, "terminator": "cr"}},
    })


@asynccontextmanager
async def _running_station(config: StationConfig) -> AsyncIterator[
        tuple[StationService, asyncio.Queue[Event]]]:
    service = StationService(config)
    events = service.events.subscribe()
    await service.start()
    try:
        await service.cache_order([CachedLine("SO-1", 1, "PHONE", 2)])
        service.open_document("SO-1", 1)
        await asyncio.wait_for(_online(service), TIMEOUT)
        yield service, events
    finally:
        await service.stop()


async def _online(service: StationService) -> None:
    while not all(d.online for d in service.scanners.values()):
        await asyncio.sleep(0.01)


async def _next(events: asyncio.Queue[Event], kind: type[Any]) -> Any:
    async def find() -> Any:
        while True:
            event = await events.get()
            if isinstance(event, kind):
                return event
    return await asyncio.wait_for(find(), TIMEOUT)


def _journal_states(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT reason, state FROM journal ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_a_scan_typed_on_the_pty_is_confirmed_by_the_store(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    store = _store(tmp_path, broker_config, site)
    store.start()
    assert store.subscribed.wait(TIMEOUT)

    async def scenario() -> None:
        config = _station_config(tmp_path, broker_config, site, pty_pair.path)
        async with _running_station(config) as (service, events):
            await asyncio.wait_for(service.uplink.connected.wait(), TIMEOUT)
            pty_pair.write(b"SN-1\rSN-1\r")
            first, second = await _next(events, DecisionMade), await _next(events, DecisionMade)
            assert (first.entry.accepted, first.entry.serial) == (True, "SN-1")
            assert (second.entry.accepted, second.entry.reason) == (False, "duplicate_serial")
            answer = await _next(events, StoreAnswered)
            assert (answer.entry_id, answer.accepted, answer.reason) == (
                first.entry.id, True, "added")

    try:
        asyncio.run(scenario())
    finally:
        store.stop()
    assert _journal_states(tmp_path / "station.db") == [
        ("added", "confirmed"), ("duplicate_serial", "local")]
    stored = rows(tmp_path / "store.db",
                  "SELECT serial, status, station FROM station_registrations")
    assert stored == [
        ("SN-1", "accepted", "pack-01")]


def test_scans_made_while_the_store_is_down_arrive_after_a_station_restart(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    config = _station_config(tmp_path, broker_config, site, pty_pair.path)

    async def offline_scans() -> None:
        async with _running_station(config) as (_service, events):
            pty_pair.write(b"SN-A\rSN-B\r")
            assert (await _next(events, DecisionMade)).entry.accepted
            assert (await _next(events, DecisionMade)).entry.accepted

    asyncio.run(offline_scans())  # the station stops with both still in its outbox
    assert _journal_states(tmp_path / "station.db") == [("added", "pending")] * 2

    store = _store(tmp_path, broker_config, site)
    store.start()
    assert store.subscribed.wait(TIMEOUT)

    async def restarted() -> list[bool]:
        service = StationService(config)
        events = service.events.subscribe()
        await service.start()
        try:
            return [(await _next(events, StoreAnswered)).accepted for _ in range(2)]
        finally:
            await service.stop()

    try:
        assert asyncio.run(restarted()) == [True, True]
    finally:
        store.stop()
    assert _journal_states(tmp_path / "station.db") == [("added", "confirmed")] * 2
    assert _count(tmp_path) == 2


def _count(tmp_path: Path) -> int:
    return int(rows(tmp_path / "store.db", "SELECT COUNT(*) FROM station_registrations")[0][0])


def test_the_store_refuses_late_what_another_station_registered_first(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    store = _store(tmp_path, broker_config, site)
    store.db.put_order("SO-9", "C-2", [(1, "PHONE", 1)])
    register_elsewhere(store, "SO-9", "SN-X")
    store.start()
    assert store.subscribed.wait(TIMEOUT)

    async def scenario() -> tuple[bool, Any]:
        config = _station_config(tmp_path, broker_config, site, pty_pair.path)
        async with _running_station(config) as (_service, events):
            pty_pair.write(b"SN-X\r")
            local = (await _next(events, DecisionMade)).entry.accepted
            return local, await _next(events, StoreAnswered)

    try:
        local, answer = asyncio.run(scenario())
    finally:
        store.stop()
    assert local is True  # the station did not know SO-9
    assert (answer.accepted, answer.reason) == (False, "duplicate_serial")
    assert _journal_states(tmp_path / "station.db") == [("added", "refused")]


class _Peer:
    """A raw MQTT client standing in for a station (or an attacker)."""

    def __init__(self, broker: BrokerConfig, site: str, station: str) -> None:
        self.acks: list[dict[str, Any]] = []
        self.got = threading.Condition()
        self.client = make_client(f"peer-{uuid.uuid4().hex[:6]}", broker)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(protocol.acks_topic(site, station), qos=1)
        self.client.loop_start()
        assert subscribed.wait(TIMEOUT)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.got:
            self.acks.extend(json.loads(msg.payload)["acks"])
            self.got.notify_all()

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.acks) >= count, TIMEOUT)
            return list(self.acks)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _registration(reg_id: str, serial: str) -> dict[str, Any]:
    return {"id": reg_id, "seq": 1, "scanner": "gun", "order_id": "SO-1", "line_number": 1,
            "item_id": "PHONE", "mode": "add", "serial": serial,
            "scanned_at": "2026-11-25T10:00:00+00:00"}


def test_the_store_is_idempotent_and_survives_hostile_messages(
    tmp_path: Path, broker_config: BrokerConfig
) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    store = _store(tmp_path, broker_config, site)
    store.start()
    assert store.subscribed.wait(TIMEOUT)
    peer = _Peer(broker_config, site, "pack-01")
    topic = protocol.registrations_topic(site, "pack-01")
    good = json.dumps({"v": 1, "station": "pack-01", "epoch": EPOCH,
                       "registrations": [_registration("a" * 32, "SN-1")]})
    hostile = [
        b"{not json",
        json.dumps({"v": 2, "station": "pack-01", "epoch": EPOCH, "registrations": []}).encode(),
        json.dumps({"v": 1, "station": "pack-02", "epoch": EPOCH,
                    "registrations": [_registration("b" * 32, "SN-2")]}).encode(),
        json.dumps({"v": 1, "station": "pack-01", "epoch": EPOCH,
                    "registrations": [{**_registration("c" * 32, "SN-3"), "line_number": "x"}]}
                   ).encode(),
        json.dumps({"v": 1, "station": "pack-01", "epoch": EPOCH,
                    "registrations": [_registration("d" * 32, "S" * 100_000)]}).encode(),
        b"\x00" * (protocol.MAX_PAYLOAD_BYTES + 1),
    ]
    try:
        for payload in hostile:
            peer.client.publish(topic, payload, qos=1)
        peer.client.publish(topic, good, qos=1)
        peer.client.publish(topic, good, qos=1)  # redelivery
        acks = peer.wait_for(2)
    finally:
        peer.close()
        store.stop()
    verdicts = [(a["id"], a["status"], a["reason"]) for a in acks]
    assert verdicts == [("a" * 32, "accepted", "added")] * 2
    assert store.dropped == len(hostile)
    assert _count(tmp_path) == 1


def test_garbage_and_overlong_input_get_bad_reads_and_the_reader_keeps_going(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    config = _station_config(tmp_path, broker_config, site, pty_pair.path)

    async def scenario() -> list[tuple[bool, str]]:
        async with _running_station(config) as (_service, events):
            pty_pair.write(b"\x00\xff\xfe\x07\r" + b"9" * 5000 + b"\r" + b"\x1b]0;pwned\x07\r")
            pty_pair.write(b"SN-GOOD\r")
            return [((e := (await _next(events, DecisionMade)).entry).accepted, e.reason)
                    for _ in range(4)]

    assert asyncio.run(scenario()) == [
        (False, "unreadable"), (False, "overlong"), (False, "unreadable"), (True, "added")]


def test_an_unreachable_broker_is_named_with_what_to_check(tmp_path: Path) -> None:
    from scangw.broker import free_port

    config = StationConfig.model_validate({
        "station": {"site": "s", "id": "p", "database": tmp_path / "s.db"},
        "broker": {"port": free_port()}, "monitor": {"enabled": False},
        "scanners": {"g": {"kind": "serial", "port": str(tmp_path / "no-such-tty")}},
    })

    async def scenario() -> str | None:
        service = StationService(config)
        await service.start()
        try:
            assert service.uplink is not None
            for _ in range(100):
                if service.uplink.last_error:
                    break
                await asyncio.sleep(0.05)
            return service.uplink.last_error
        finally:
            await service.stop()

    error = asyncio.run(scenario())
    assert error is not None
    assert f"cannot connect to the broker at 127.0.0.1:{config.broker.port}" in error
    assert "check broker.host and broker.port" in error
