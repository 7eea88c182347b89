"""Simulated stations for the store-at-scale tests: paho clients that speak the
uplink protocol (docs/protocol.md) the way a station's outbox does."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from scangw import protocol
from scangw.mqtt import BrokerConfig, make_client
from scangw.sales.registration import ScanMode

RESEND_AFTER_S = 1.0
BATCH = 3


class SimStation:
    """Registrations with one epoch and consecutive seq; sends in order, resends
    whatever is unacknowledged after a while and from ``from_seq`` when asked."""

    def __init__(self, broker: BrokerConfig, site: str, station: str,
                 scans: list[tuple[str, str]]) -> None:
        self.site, self.station = site, station
        self.epoch = hashlib.md5(station.encode(), usedforsecurity=False).hexdigest()
        now = datetime.now(UTC)
        self.registrations = [
            protocol.Registration(
                id=hashlib.md5(f"{station}/{seq}".encode(), usedforsecurity=False).hexdigest(),
                seq=seq, scanner="gun", order_id=order, line_number=1, item_id="PHONE",
                mode=ScanMode.ADD, serial=serial, scanned_at=now)
            for seq, (order, serial) in enumerate(scans, start=1)]
        self.acks: dict[str, list[protocol.Ack]] = {}
        self.resend_asks = 0
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = make_client(f"sim-{site}-{station}", broker)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe([(protocol.acks_topic(site, station), 1),
                               (protocol.station_topic(site, station,
                                                       protocol.topics.CONTROL), 1)])
        assert self._subscribed.wait(10), f"{station} could not subscribe"

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/control"):
            ask = protocol.ResendRequest.model_validate_json(message.payload)
            with self._lock:
                self.resend_asks += 1
            self.send(ask.from_seq)
            return
        reply = protocol.AckBatch.model_validate_json(message.payload)
        with self._lock:
            for ack in reply.acks:
                self.acks.setdefault(ack.id, []).append(ack)

    def unacked(self) -> list[protocol.Registration]:
        with self._lock:
            return [r for r in self.registrations if r.id not in self.acks]

    def send(self, from_seq: int = 1, *, everything: bool = False) -> None:
        """Publish registrations from ``from_seq`` on (only unacknowledged ones,
        unless ``everything``), in order, ``BATCH`` to a message."""
        pending = [r for r in self.registrations if r.seq >= from_seq
                   and (everything or r.id not in self.acks)]
        for start in range(0, len(pending), BATCH):
            batch = protocol.RegistrationBatch(station=self.station, epoch=self.epoch,
                                               registrations=pending[start:start + BATCH])
            self.client.publish(
                protocol.station_topic(self.site, self.station, protocol.topics.REGISTRATIONS),
                batch.model_dump_json(), qos=1)

    def run(self, deadline: float) -> None:
        """Send everything, then resend what is unacknowledged until all is."""
        self.send()
        while self.unacked() and time.monotonic() < deadline:
            time.sleep(RESEND_AFTER_S)
            if self.unacked():
                self.send(min(r.seq for r in self.unacked()))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
