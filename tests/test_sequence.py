"""The store applies a station's registrations in uplink order and asks for gaps."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from scangw import protocol
from scangw.mqtt import BrokerConfig, make_client
from tests.harness import TIMEOUT, make_store, new_site, rows, started

pytestmark = pytest.mark.usefixtures("store_backend")

EPOCH = "ab" * 16


class Peer:
    """A raw MQTT client acting as station ``pack-01``."""

    def __init__(self, broker: BrokerConfig, site: str) -> None:
        self.site = site
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self.client = make_client(f"peer-{uuid.uuid4().hex[:6]}", broker)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.subscribe([(protocol.station_topic(site, "pack-01", kind), 1)
                               for kind in ("acks", "control")])
        self.client.loop_start()
        assert subscribed.wait(TIMEOUT)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.cond:
            self.messages.append((msg.topic.rsplit("/", 1)[-1], json.loads(msg.payload)))
            self.cond.notify_all()

    def wait(self, kind: str, count: int = 1) -> list[dict[str, Any]]:
        with self.cond:
            assert self.cond.wait_for(
                lambda: len([m for k, m in self.messages if k == kind]) >= count, TIMEOUT)
            return [m for k, m in self.messages if k == kind]

    def acks(self, count: int) -> list[dict[str, Any]]:
        """Acknowledgements in arrival order, however the store batched them."""
        with self.cond:
            def flat() -> list[dict[str, Any]]:
                return [a for k, m in self.messages if k == "acks" for a in m["acks"]]
            assert self.cond.wait_for(lambda: len(flat()) >= count, TIMEOUT)
            return flat()

    def send(self, *seqs: int) -> list[str]:
        ids = [uuid.uuid4().hex for _ in seqs]
        batch = protocol.RegistrationBatch(station="pack-01", epoch=EPOCH, registrations=[
            protocol.Registration(id=i, seq=s, scanner="g", order_id="SO-1", line_number=1,
                                  item_id="PHONE", mode="add", serial=f"SN-{s}",
                                  scanned_at="2026-11-25T10:00:00Z")  # type: ignore[arg-type]
            for i, s in zip(ids, seqs, strict=True)])
        self.client.publish(protocol.registrations_topic(self.site, "pack-01"),
                            batch.model_dump_json(), qos=1)
        return ids

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_registration_ahead_of_a_gap_is_held_and_the_gap_is_asked_for(
    tmp_path: Path, broker_config: BrokerConfig
) -> None:
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site, {"SO-1": [(1, "PHONE", 9)]}))
    peer = Peer(broker_config, site)
    try:
        first = peer.send(1)
        assert [a["id"] for a in peer.acks(1)] == first
        ahead = peer.send(3)
        ask = peer.wait("control")[0]
        assert (ask["from_seq"], ask["epoch"]) == (2, EPOCH)
        missing = peer.send(2)
        again = peer.send(3)  # resent from 2 on (a real station would keep 3's id)
        acks = peer.acks(3)
    finally:
        peer.close()
        store.stop()
    assert [a["id"] for a in acks] == first + missing + again
    serials = rows(tmp_path / "store.db",
                   "SELECT seq, serial FROM station_registrations ORDER BY rowid")
    assert serials[:2] == [(1, "SN-1"), (2, "SN-2")]
    assert ahead[0] not in [r[0] for r in rows(tmp_path / "store.db",
                                                "SELECT id FROM station_registrations")]
