"""The order store service: take registrations off MQTT, decide, acknowledge.

paho's network thread only checks and queues; one worker thread owns the
database, commits everything queued in one transaction, then publishes each
station's acknowledgements and the changed orders. An acknowledgement is sent
only after the commit, so a station never drops from its outbox what the store
has not stored; acknowledgements go out before order updates, so a station
settles its own registrations before it merges the store's view.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel, ValidationError

from orderstore.config import StoreConfig
from orderstore.database import StoreDatabase
from scangw import __version__, protocol
from scangw.mqtt import make_client

log = logging.getLogger(__name__)

_STOP = object()
_MAX_MESSAGES_PER_COMMIT = 200
_RESEND_ASK_INTERVAL_S = 2.0
_INBOUND_MODELS: dict[str, type[BaseModel]] = {
    protocol.topics.REGISTRATIONS: protocol.RegistrationBatch,
    protocol.topics.REQUESTS: protocol.OrderRequest,
    protocol.topics.PRESENCE: protocol.StationPresence,
}


@dataclass(frozen=True, slots=True)
class _Inbound:
    site: str
    station: str
    message: BaseModel
    response_topic: str | None = None
    correlation: bytes | None = None


class StoreService:
    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.db = StoreDatabase(config.store.database)
        self._client = make_client(f"scangw-store-{config.store.id}", config.broker)
        self._presence_topic = protocol.store_presence_topic(config.store.id)
        self._client.will_set(self._presence_topic, self._presence("offline"), qos=1,
                              retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self.subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: self.subscribed.set()
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._work, name="store-worker", daemon=True)
        self._asked_resend: dict[str, float] = {}
        self.dropped = 0
        """Messages dropped as malformed, oversized or hostile."""

    def healthy(self) -> bool:
        """For the systemd watchdog: the worker that owns the database is alive."""
        return self._worker.is_alive()

    def start(self) -> None:
        broker = self.config.broker
        self._worker.start()
        self._client.connect_async(broker.host, broker.port, keepalive=broker.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        if self._client.is_connected():
            self._client.publish(self._presence_topic, self._presence("offline"), qos=1,
                                 retain=True).wait_for_publish(2.0)
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
        topics = []
        for site in self.config.store.sites:
            for kind in (protocol.topics.REGISTRATIONS, protocol.topics.REQUESTS,
                         protocol.topics.PRESENCE):
                topics.append((protocol.station_topic(site, "+", kind), 1))
        client.subscribe(topics)
        client.publish(self._presence_topic, self._presence("online"), qos=1, retain=True)
        log.info("store %s: listening for sites %s", self.config.store.id,
                 ", ".join(self.config.store.sites))

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        inbound = self._check(message)
        if inbound is not None:
            self._inbox.put(inbound)

    def _check(self, message: mqtt.MQTTMessage) -> _Inbound | None:
        where = protocol.parse_station_topic(message.topic)
        if where is None or where[0] not in self.config.store.sites:
            return self._dropped(message.topic, "not a station topic of a site this store serves")
        site, station, kind = where
        if len(message.payload) > protocol.MAX_PAYLOAD_BYTES:
            return self._dropped(message.topic, f"{len(message.payload)} bytes is over the limit")
        if kind == protocol.topics.PRESENCE and not message.payload:
            return None  # a retained presence being cleared
        model = _INBOUND_MODELS[kind]
        try:
            parsed = model.model_validate_json(message.payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            path = ".".join(str(p) for p in first["loc"])
            return self._dropped(message.topic, f"{path or 'payload'}: {first['msg']}")
        if getattr(parsed, "station", station) != station:
            return self._dropped(message.topic, "station id in the payload differs from the topic")
        if kind != protocol.topics.REQUESTS:
            return _Inbound(site, station, parsed)
        response_topic = getattr(message.properties, "ResponseTopic", None)
        correlation = getattr(message.properties, "CorrelationData", None)
        if response_topic != protocol.station_topic(site, station, protocol.topics.RESPONSES):
            return self._dropped(message.topic, "request without the station's response topic")
        return _Inbound(site, station, parsed, response_topic, correlation)

    def _dropped(self, topic: str, why: str) -> _Inbound | None:
        """Count and log a refused message; nothing goes on to the worker."""
        self.dropped += 1
        log.warning("store: dropped a message on %r: %s", topic[:200], why)
        return None

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
            try:
                self._handle(work)
            except Exception:
                log.exception("store: could not handle %d message(s); stations will resend",
                              len(work))

    def _handle(self, work: list[_Inbound]) -> None:
        by_site: dict[str, list[protocol.RegistrationBatch]] = defaultdict(list)
        for item in work:
            if isinstance(item.message, protocol.RegistrationBatch):
                by_site[item.site].append(item.message)
            elif isinstance(item.message, protocol.StationPresence):
                self.db.record_presence(item.site, item.message)
                log.info("store: station %s/%s is %s", item.site, item.station,
                         item.message.status)
        for site, batches in by_site.items():
            self._register(site, batches)
        for item in work:
            if isinstance(item.message, protocol.OrderRequest):
                self._answer(item, item.message)

    def _register(self, site: str, batches: list[protocol.RegistrationBatch]) -> None:
        applied = self.db.apply(site, batches)
        per_station: dict[str, list[protocol.Ack]] = defaultdict(list)
        for batch, acks in zip(batches, applied.acks, strict=True):
            per_station[batch.station].extend(acks)
        for station, acks in per_station.items():
            for start in range(0, len(acks), protocol.MAX_BATCH):
                reply = protocol.AckBatch(store=self.config.store.id,
                                          acks=acks[start : start + protocol.MAX_BATCH])
                self._client.publish(protocol.acks_topic(site, station),
                                     reply.model_dump_json(), qos=1)
        for order_id in sorted(applied.changed_orders):
            lines = self.db.order_state(order_id)
            if lines:
                update = protocol.OrderUpdate(store=self.config.store.id, order_id=order_id,
                                              lines=lines)
                self._client.publish(protocol.order_topic(site, order_id),
                                     update.model_dump_json(), qos=1)
        now = time.monotonic()
        for station, (epoch, from_seq) in applied.gaps.items():
            if now - self._asked_resend.get(station, 0.0) < _RESEND_ASK_INTERVAL_S:
                continue
            self._asked_resend[station] = now
            log.warning("store: station %s/%s skipped to past #%d; asking it to resend",
                        site, station, from_seq)
            ask = protocol.ResendRequest(store=self.config.store.id, epoch=epoch,
                                         from_seq=from_seq)
            self._client.publish(protocol.station_topic(site, station, protocol.topics.CONTROL),
                                 ask.model_dump_json(), qos=1)

    def _answer(self, item: _Inbound, request: protocol.OrderRequest) -> None:
        lines = self.db.order_state(request.order_id)
        response = protocol.OrderResponse(
            store=self.config.store.id, order_id=request.order_id, found=lines is not None,
            message="" if lines else f"order {request.order_id} is not known to the store",
            lines=lines or [],
        )
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if item.correlation is not None:
            props.CorrelationData = item.correlation
        assert item.response_topic is not None
        self._client.publish(item.response_topic, response.model_dump_json(), qos=1,
                             properties=props)

    def _presence(self, status: str) -> str:
        online = status == "online"
        return protocol.StorePresence(
            store=self.config.store.id, status="online" if online else "offline",
            version=__version__ if online else None,
            sites=list(self.config.store.sites) if online else [],
        ).model_dump_json(exclude_none=True)
