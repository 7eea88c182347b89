"""The order store service: take registrations off MQTT, decide, acknowledge.

paho's network thread only parses and queues; one worker thread owns the
database, commits everything queued in one transaction, then publishes each
station's acknowledgements. An acknowledgement is sent only after the commit,
so a station never drops from its outbox what the store has not stored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from orderstore.config import StoreConfig
from orderstore.database import StoreDatabase
from scangw import protocol
from scangw.mqtt import make_client

log = logging.getLogger(__name__)

_STOP = object()
_MAX_MESSAGES_PER_COMMIT = 200


class StoreService:
    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.db = StoreDatabase(config.store.database)
        self._client = make_client(f"scangw-store-{config.store.id}", config.broker)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self.subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: self.subscribed.set()
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._work, name="store-worker", daemon=True)
        self.dropped = 0
        """Messages dropped as malformed, oversized or hostile."""

    def start(self) -> None:
        broker = self.config.broker
        self._worker.start()
        self._client.connect_async(broker.host, broker.port, keepalive=broker.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._inbox.put(_STOP)
        self._worker.join()
        self.db.close()

    # -- paho's thread ------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode,
                    _p: Any) -> None:
        if reason.is_failure:
            log.error("store: broker refused the connection: %s", reason)
            return
        for site in self.config.store.sites:
            client.subscribe(protocol.registrations_topic(site, "+"), qos=1)
        log.info("store %s: listening for sites %s", self.config.store.id,
                 ", ".join(self.config.store.sites))

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        parsed = self._parse(message)
        if parsed is not None:
            self._inbox.put(parsed)

    def _parse(self, message: mqtt.MQTTMessage) -> tuple[str, protocol.RegistrationBatch] | None:
        where = protocol.station_from_topic(message.topic)
        if where is None:
            self._drop(message.topic, "not a station topic")
            return None
        if len(message.payload) > protocol.MAX_PAYLOAD_BYTES:
            self._drop(message.topic, f"{len(message.payload)} bytes is over the limit")
            return None
        try:
            batch = protocol.RegistrationBatch.model_validate_json(message.payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            path = ".".join(str(p) for p in first["loc"])
            self._drop(message.topic, f"{path or 'payload'}: {first['msg']}")
            return None
        if batch.station != where[1]:
            self._drop(message.topic, f"station id {batch.station!r} differs from topic")
            return None
        return where[0], batch

    def _drop(self, topic: str, why: str) -> None:
        self.dropped += 1
        log.warning("store: dropped a message on %r: %s", topic[:200], why)

    # -- worker thread ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            first = self._inbox.get()
            if first is _STOP:
                return
            work = [first]
            while len(work) < _MAX_MESSAGES_PER_COMMIT:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    self._inbox.put(_STOP)
                    break
                work.append(more)
            self._handle(work)

    def _handle(self, work: list[tuple[str, protocol.RegistrationBatch]]) -> None:
        by_site: dict[str, list[protocol.RegistrationBatch]] = defaultdict(list)
        for site, batch in work:
            by_site[site].append(batch)
        for site, batches in by_site.items():
            try:
                results = self.db.apply(site, batches)
            except Exception:
                # Not acknowledged: the stations send again and we retry then.
                log.exception("store: could not store %d message(s) from %s", len(batches), site)
                continue
            per_station: dict[str, list[protocol.Ack]] = defaultdict(list)
            for batch, acks in zip(batches, results, strict=True):
                per_station[batch.station].extend(acks)
            for station, acks in per_station.items():
                for start in range(0, len(acks), protocol.MAX_BATCH):
                    reply = protocol.AckBatch(store=self.config.store.id,
                                              acks=acks[start : start + protocol.MAX_BATCH])
                    self._client.publish(protocol.acks_topic(site, station),
                                         reply.model_dump_json(), qos=1)
