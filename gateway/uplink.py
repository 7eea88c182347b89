"""The station's MQTT link to the order store: outbox, acknowledgements,
presence, order requests and order updates.

A broker PUBACK is not delivery (HARDWARE.md): an entry leaves the outbox only
when the store's own acknowledgement for its id arrives. On every connect the
whole outbox is drained oldest first, at most ``window`` registrations
unacknowledged at a time; then new registrations go out as they are committed.
Unacknowledged ones are sent again with exponential backoff once the store has
gone quiet (no acknowledgement at all for ``resend_after_s``: while acks flow,
the store is working through what it has), and whatever the
store asks for again (it noticed a gap in the uplink sequence) is resent from
the journal. The store answers a repeat with its first verdict.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel, ValidationError

from gateway.config import StationConfig
from gateway.database import StationDatabase
from gateway.journal import JournalEntry, StoreVerdict, outbox, sent_from
from scangw import __version__, protocol
from scangw.mqtt import make_client
from scangw.sales.registration import ScanMode

log = logging.getLogger(__name__)

VerdictSink = Callable[[list[StoreVerdict]], None]
OrderSink = Callable[[protocol.OrderUpdate], None]
_MAX_BACKOFF_S = 60.0


def to_registration(entry: JournalEntry) -> protocol.Registration:
    if (entry.order_id is None or entry.line_number is None or entry.item_id is None
            or entry.mode is None or entry.useq is None):
        raise ValueError(f"journal entry #{entry.seq} is not a registration for the store")
    return protocol.Registration(
        id=entry.id, seq=entry.useq, scanner=entry.scanner, order_id=entry.order_id,
        line_number=entry.line_number, item_id=entry.item_id, mode=ScanMode(entry.mode),
        serial=entry.serial, scanned_at=datetime.fromtimestamp(entry.ts, UTC),
    )


class Uplink:
    def __init__(self, config: StationConfig, db: StationDatabase, *, epoch: str,
                 last_seq: Callable[[], int], on_verdicts: VerdictSink,
                 on_order_update: OrderSink) -> None:
        self._config = config
        self._db = db
        self._epoch = epoch
        self._last_seq = last_seq
        self._on_verdicts = on_verdicts
        self._on_order_update = on_order_update
        self._site, self._station = config.station.site, config.station.id
        self._client = make_client(f"scangw-station-{self._site}-{self._station}",
                                   config.broker)
        self._client.will_set(self._topic(protocol.topics.PRESENCE), self._presence("offline"),
                              qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._refused = False
        self._unreachable_logged = False
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: dict[str, tuple[JournalEntry, float, int]] = {}
        self._room = asyncio.Event()
        self._queued: list[JournalEntry] = []
        self._flush_scheduled = False
        self._draining = True
        self._missed = False
        self._drain_task: asyncio.Task[None] | None = None
        self._requests: dict[bytes, tuple[type[BaseModel], asyncio.Future[Any]]] = {}
        self._last_ack = time.monotonic()
        self.resent = 0
        """Registrations sent again by the resend timer (the benchmark reads it)."""
        self._orders: set[str] = set()
        self._orders_at_connect: set[str] = set()
        """The orders ``_on_connect`` subscribed to (a follow during the connect is not)."""
        self.connected = asyncio.Event()
        self.last_error: str | None = None

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        broker = self._config.broker
        self._client.connect_async(broker.host, broker.port, keepalive=broker.keepalive_s)
        self._client.loop_start()

    async def stop(self) -> None:
        if self._drain_task is not None:
            self._drain_task.cancel()
        if self.connected.is_set():
            info = self._client.publish(self._topic(protocol.topics.PRESENCE),
                                        self._presence("offline"), qos=1, retain=True)
            await asyncio.to_thread(info.wait_for_publish, 2.0)
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    async def run(self) -> None:
        """Resend what the store has not acknowledged, with backoff, forever."""
        base = self._config.uplink.resend_after_s
        while True:
            await asyncio.sleep(min(1.0, base / 2))
            if self.connected.is_set():
                self.resend_stale(time.monotonic())

    def resend_stale(self, now: float) -> int:
        """Send again what waited past its backoff, but only once the store went quiet.

        While acknowledgements keep coming the store is busy with what it has (a
        drain of thousands takes longer than ``resend_after_s``): resending then
        only doubles its work. A registration unanswered for ``_MAX_BACKOFF_S``
        goes again anyway, so one lost message cannot hide behind a steady stream.
        Returns how many were sent again.
        """
        base = self._config.uplink.resend_after_s
        quiet = now - self._last_ack >= base
        stale = [(e, n) for e, sent, n in self._inflight.values()
                 if now - sent >= min(base * 2 ** (n - 1), _MAX_BACKOFF_S)
                 and (quiet or now - sent >= _MAX_BACKOFF_S)]
        if stale:
            log.info("uplink: resending %d unacknowledged registration(s)", len(stale))
            by_attempt: dict[int, list[JournalEntry]] = {}
            for entry, attempts in stale:
                by_attempt.setdefault(attempts + 1, []).append(entry)
            for attempt, entries in sorted(by_attempt.items()):
                self._publish(entries, attempt)
            self.resent += len(stale)
        return len(stale)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    # -- registrations --------------------------------------------------------------

    def send(self, entry: JournalEntry) -> None:
        """A registration was committed; everything committed in one loop turn goes
        out as one message (unless the outbox is still draining: then it is read
        from the journal in order)."""
        if self._draining or not self.connected.is_set():
            self._missed = True
            return
        self._queued.append(entry)
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._queued = self._queued, []
        if self.connected.is_set():
            self._publish(batch)

    def _publish(self, entries: list[JournalEntry], attempt: int = 1) -> None:
        size = self._config.uplink.batch_size
        now = time.monotonic()
        topic = self._topic(protocol.topics.REGISTRATIONS)
        for start in range(0, len(entries), size):
            chunk = entries[start : start + size]
            message = protocol.RegistrationBatch(
                station=self._station, epoch=self._epoch,
                registrations=[to_registration(e) for e in chunk],
            )
            self._client.publish(topic, message.model_dump_json(), qos=1)
            for e in chunk:
                self._inflight[e.id] = (e, now, attempt)

    async def _drain(self) -> None:
        """Send the whole outbox in journal order, ``window`` at a time."""
        window = self._config.uplink.window
        cursor, total = 0, 0
        while self.connected.is_set():
            room = window - len(self._inflight)
            if room < min(window, self._config.uplink.batch_size):
                self._room.clear()
                await self._room.wait()
                continue
            self._missed = False
            page = await self._db.run(outbox(room, after_seq=cursor))
            if not page:
                if self._missed:
                    continue
                self._draining = False
                if total:
                    log.info("uplink: outbox drained (%d registration(s) sent)", total)
                return
            self._publish(page)
            cursor, total = page[-1].seq, total + len(page)

    async def _resend_from(self, from_seq: int) -> None:
        entries = await self._db.run(sent_from(from_seq, 100_000))
        log.warning("uplink: the store asked for registrations from #%d: resending %d",
                    from_seq, len(entries))
        if entries:
            self._publish(entries)

    # -- orders ---------------------------------------------------------------------

    async def request_order(self, order_id: str, timeout_s: float) -> protocol.OrderResponse:
        """Ask the store for an order; raises TimeoutError."""
        return await self.request(
            protocol.OrderRequest(station=self._station, order_id=order_id),
            protocol.OrderResponse, timeout_s)

    async def request(self, message: protocol.Message, response_model: type[M],
                      timeout_s: float) -> M:
        """Ask the store something (MQTT v5 request/response) and wait for its answer.

        ``message`` goes on this station's requests topic with this station's
        responses topic and a fresh correlation id; the answer carrying that id is
        parsed as ``response_model``. A malformed answer is logged and dropped.
        Raises TimeoutError when offline or when no answer came in ``timeout_s``.
        """
        assert self._loop is not None
        if not self.connected.is_set():
            raise TimeoutError("not connected to the broker")
        correlation = uuid.uuid4().bytes
        future: asyncio.Future[M] = self._loop.create_future()
        self._requests[correlation] = (response_model, future)
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = self._topic(protocol.topics.RESPONSES)
        props.CorrelationData = correlation
        self._client.publish(self._topic(protocol.topics.REQUESTS), message.model_dump_json(),
                             qos=1, properties=props)
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            self._requests.pop(correlation, None)

    def follow_order(self, order_id: str) -> None:
        """Receive the store's updates of this order (another station, the office)."""
        if order_id not in self._orders:
            self._orders.add(order_id)
            if self.connected.is_set():
                self._client.subscribe(protocol.order_topic(self._site, order_id), qos=1)

    # -- paho callbacks (paho's thread) ----------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any,
                    reason: ReasonCode, _props: Any) -> None:
        if reason.is_failure:
            self.last_error = (f"broker refused the connection: {reason} (check "
                               "broker.username and its password, or the TLS certificate)")
            self._refused = True
            log.error("uplink: %s", self.last_error)
            return
        self._refused = False
        self._unreachable_logged = False
        log.info("uplink: connected to %s:%d", self._config.broker.host,
                 self._config.broker.port)
        topics = [(self._topic(k), 1) for k in (protocol.topics.ACKS,
                                                 protocol.topics.RESPONSES,
                                                 protocol.topics.CONTROL)]
        self._orders_at_connect = set(self._orders)  # one C-level copy: safe under the GIL
        topics += [(protocol.order_topic(self._site, o), 1)
                   for o in sorted(self._orders_at_connect)]
        client.subscribe(topics)
        client.publish(self._topic(protocol.topics.PRESENCE), self._presence("online"),
                       qos=1, retain=True)

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, _mid: int,
                      reasons: list[ReasonCode], _props: Any) -> None:
        if any(r.is_failure for r in reasons):
            self.last_error = "broker refused a subscription (check the broker's ACL)"
            log.error("uplink: %s", self.last_error)
            return
        self._call(self._became_connected)

    def _became_connected(self) -> None:
        if self.connected.is_set():
            return  # a later subscription (a newly followed order)
        self.last_error = None
        self.connected.set()
        for order_id in sorted(self._orders - self._orders_at_connect):
            # followed after _on_connect subscribed and before we were connected
            self._client.subscribe(protocol.order_topic(self._site, order_id), qos=1)
        self._inflight.clear()
        self._last_ack = time.monotonic()
        self._draining = True
        self._drain_task = asyncio.ensure_future(self._drain())

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any,
                       reason: ReasonCode, _props: Any) -> None:
        self._call(self.connected.clear)
        if reason.is_failure and not self._refused:  # keep the refusal's reason readable
            self.last_error = f"lost the broker: {reason}"
            log.warning("uplink: %s; reconnecting", self.last_error)

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        """No connection at all (host, port, TLS): say so once, with what to check."""
        broker = self._config.broker
        self.last_error = (
            f"cannot connect to the broker at {broker.host}:{broker.port} (check broker.host "
            "and broker.port; with TLS, tls.ca_file must hold the CA that signed the "
            f"broker's certificate, whose names must include {broker.host})")
        if not self._unreachable_logged:
            self._unreachable_logged = True
            log.error("uplink: %s; retrying", self.last_error)

    def _on_message(self, _client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        if len(message.payload) > protocol.MAX_PAYLOAD_BYTES:
            log.warning("uplink: dropped an oversized message on %s", message.topic)
            return
        kind = message.topic.rsplit("/", 1)[-1]
        if kind == protocol.topics.ACKS:
            acks = _parse(protocol.AckBatch, message)
            if acks is not None:
                self._call(self._acknowledged, [
                    StoreVerdict(a.id, a.status == "accepted", a.reason, a.message)
                    for a in acks.acks])
        elif kind == protocol.topics.RESPONSES:
            correlation = getattr(message.properties, "CorrelationData", None)
            if correlation is not None:
                self._call(self._answered, bytes(correlation), message)
        elif kind == protocol.topics.CONTROL:
            resend = _parse(protocol.ResendRequest, message)
            if resend is not None and resend.epoch == self._epoch:
                self._call(lambda: asyncio.ensure_future(self._resend_from(resend.from_seq)))
        elif protocol.order_from_topic(message.topic) is not None:
            update = _parse(protocol.OrderUpdate, message)
            if update is not None:
                self._call(self._on_order_update, update)

    # -- on the event loop -----------------------------------------------------------

    def _acknowledged(self, verdicts: list[StoreVerdict]) -> None:
        self._last_ack = time.monotonic()
        for v in verdicts:
            self._inflight.pop(v.id, None)
        self._room.set()
        self._on_verdicts(verdicts)

    def _answered(self, correlation: bytes, message: mqtt.MQTTMessage) -> None:
        pending = self._requests.get(correlation)
        if pending is None or pending[1].done():
            return  # answered already, timed out, or not ours
        model, future = pending
        response = _parse(model, message)
        if response is not None:
            future.set_result(response)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    def _topic(self, kind: str) -> str:
        return protocol.station_topic(self._site, self._station, kind)

    def _presence(self, status: str) -> str:
        online = status == "online"
        return protocol.StationPresence(
            station=self._station, status="online" if online else "offline",
            version=__version__ if online else None,
            config_hash=self._config_hash() if online else None,
            epoch=self._epoch if online else None,
            last_seq=self._last_seq() if online else None,
        ).model_dump_json(exclude_none=True)

    def _config_hash(self) -> str:
        return hashlib.sha256(self._config.model_dump_json().encode()).hexdigest()[:16]


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], message: mqtt.MQTTMessage) -> M | None:
    try:
        return model.model_validate_json(message.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        log.warning("uplink: dropped a malformed message on %s: %s: %s",
                    message.topic[:200], where, first["msg"])
        return None
