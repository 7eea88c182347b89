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
from datetime import UTC, date, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel, TypeAdapter, ValidationError

from orderstore.config import StoreConfig
from orderstore.database import LiveSaleConflict, StoreDatabase
from orderstore.registrations import apply_batches, draft_slip, order_state
from scangw import __version__, protocol
from scangw.mqtt import make_client
from scangw.sales.reasons import SalesRuleError

log = logging.getLogger(__name__)

_STOP = object()
_MAX_MESSAGES_PER_COMMIT = 200
_RESEND_ASK_INTERVAL_S = 2.0
_IDLE_CHECK_S = 1.0
_INBOUND_MODELS: dict[str, TypeAdapter[Any]] = {
    protocol.topics.REGISTRATIONS: TypeAdapter(protocol.RegistrationBatch),
    protocol.topics.REQUESTS: TypeAdapter(protocol.StationRequest),
    protocol.topics.PRESENCE: TypeAdapter(protocol.StationPresence),
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
        self.db = StoreDatabase(config.store)
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
                topic = protocol.station_topic(site, "+", kind)
                if self.config.store.shared_group is not None:
                    # MQTT v5 shared subscription: the broker hands each message
                    # to one store instance of the group
                    topic = f"$share/{self.config.store.shared_group}/{topic}"
                topics.append((topic, 1))
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
        model = _INBOUND_MODELS.get(kind)
        if model is None:
            return self._dropped(message.topic, f"the store does not take {kind} messages")
        try:
            parsed = model.validate_json(message.payload)
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
            try:
                first = self._inbox.get(timeout=_IDLE_CHECK_S)
            except queue.Empty:
                self._publish_changed_orders()  # the office may have changed something
                continue
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
                self.db.record_presence(item.site, item.message, datetime.now(UTC).isoformat())
                log.info("store: station %s/%s is %s", item.site, item.station,
                         item.message.status)
        for site, batches in by_site.items():
            self._register(site, batches)
        for item in work:
            if isinstance(item.message, protocol.OrderRequest):
                self._answer(item, item.message)
            elif isinstance(item.message, protocol.PostRequest):
                self._post(item, item.message)
        self._publish_changed_orders()

    def _register(self, site: str, batches: list[protocol.RegistrationBatch]) -> None:
        applied = apply_batches(self.db, site, batches)
        per_station: dict[str, list[protocol.Ack]] = defaultdict(list)
        for batch, acks in zip(batches, applied.acks, strict=True):
            per_station[batch.station].extend(acks)
        for station, acks in per_station.items():
            for start in range(0, len(acks), protocol.MAX_BATCH):
                reply = protocol.AckBatch(store=self.config.store.id,
                                          acks=acks[start : start + protocol.MAX_BATCH])
                self._client.publish(protocol.acks_topic(site, station),
                                     reply.model_dump_json(), qos=1)
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
        with self.db.write() as ledger:
            state = order_state(ledger, request.order_id, self.config.store.id)
        response = (
            protocol.OrderResponse(store=self.config.store.id, order_id=request.order_id,
                                   found=False,
                                   message=f"order {request.order_id} is not known to the store")
            if state is None else state)
        self._reply(item, response)

    def _post(self, item: _Inbound, request: protocol.PostRequest) -> None:
        """The station's POST: post the order's draft packing slip (R2-R4)."""
        slip_id = None
        refused: tuple[str, str] | None = None
        try:
            with self.db.write() as ledger:
                slip = draft_slip(ledger, request.order_id, open_new=False)
                if slip is None:
                    refused = ("nothing_to_post",
                               f"{request.order_id} has no draft packing slip to post")
                else:
                    slip_id = slip.id
                    ledger.post_packing_slip(slip.id, date.today())
        except SalesRuleError as exc:
            refused = (str(exc.reason), exc.message)
        except LiveSaleConflict as exc:
            refused = ("duplicate_serial", f"{exc}; scan the order again")
        if refused is not None:
            response = protocol.PostResponse(
                store=self.config.store.id, order_id=request.order_id, posted=False,
                document_id=slip_id, reason=refused[0], message=refused[1])
        else:
            log.info("store: %s posted packing slip %s for %s/%s", request.order_id, slip_id,
                     item.site, item.station)
            response = protocol.PostResponse(
                store=self.config.store.id, order_id=request.order_id, posted=True,
                document_id=slip_id, reason="posted",
                message=f"packing slip {slip_id} posted for {request.order_id}")
        self._reply(item, response)

    def _reply(self, item: _Inbound, response: BaseModel) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if item.correlation is not None:
            props.CorrelationData = item.correlation
        assert item.response_topic is not None
        payload = response.model_dump_json()
        if len(payload) > protocol.MAX_PAYLOAD_BYTES and isinstance(
                response, protocol.OrderResponse):
            # Over the broker's limit it would be refused and resent forever.
            log.error("store: %s is too large to send to a station (%d bytes)",
                      response.order_id, len(payload))
            payload = protocol.OrderResponse(
                store=response.store, order_id=response.order_id, found=False,
                message=f"{response.order_id} is too large for a station "
                        f"({sum(len(ln.serials) for ln in response.lines)} serials): "
                        "ship it on several packing slips (scangw slip open --qty)",
            ).model_dump_json()
        self._client.publish(item.response_topic, payload, qos=1, properties=props)

    def _publish_changed_orders(self) -> None:
        """Tell stations about every order changed since last time (by a station, or
        by the office through the CLI): after the acknowledgements, always."""
        orders = self.db.take_changed_orders()
        if not orders:
            return
        with self.db.write() as ledger:
            states = {o: order_state(ledger, o, self.config.store.id, open_new=False)
                      for o in sorted(orders)}
        for order_id, state in states.items():
            if state is None:
                continue
            update = protocol.OrderUpdate(store=self.config.store.id, order_id=order_id,
                                          document_id=state.document_id, lines=state.lines)
            payload = update.model_dump_json()
            if len(payload) > protocol.MAX_PAYLOAD_BYTES:
                # Stations keep deciding on their copy; the store still decides last.
                log.warning("store: update of %s not sent: %d bytes is over the limit",
                            order_id, len(payload))
                continue
            for site in self.config.store.sites:
                self._client.publish(protocol.order_topic(site, order_id), payload, qos=1)

    def _presence(self, status: str) -> str:
        online = status == "online"
        return protocol.StorePresence(
            store=self.config.store.id, status="online" if online else "offline",
            version=__version__ if online else None,
            sites=list(self.config.store.sites) if online else [],
        ).model_dump_json(exclude_none=True)
