"""Forward accepted registrations to the order store over MQTT and take its
acknowledgements.

A broker PUBACK is not delivery (HARDWARE.md): an entry leaves the outbox only
when the store's own acknowledgement for its id arrives. Until then it is sent
again after ``resend_after_s`` and after every reconnect; the store answers a
repeat with its first verdict, so a resend never books a serial twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from gateway.config import StationConfig
from gateway.database import StationDatabase
from gateway.journal import JournalEntry, StoreVerdict, outbox
from scangw import protocol
from scangw.mqtt import make_client
from scangw.sales.registration import ScanMode

log = logging.getLogger(__name__)

VerdictSink = Callable[[list[StoreVerdict]], None]


def to_registration(entry: JournalEntry) -> protocol.Registration:
    assert entry.order_id is not None
    assert entry.line_number is not None
    assert entry.item_id is not None
    assert entry.mode is not None
    return protocol.Registration(
        id=entry.id, seq=entry.seq, scanner=entry.scanner, order_id=entry.order_id,
        line_number=entry.line_number, item_id=entry.item_id, mode=ScanMode(entry.mode),
        serial=entry.serial, scanned_at=datetime.fromtimestamp(entry.ts, UTC),
    )


class Uplink:
    def __init__(self, config: StationConfig, db: StationDatabase, on_verdicts: VerdictSink,
                 ) -> None:
        self._config = config
        self._db = db
        self._on_verdicts = on_verdicts
        site, station = config.station.site, config.station.id
        self._topic = protocol.registrations_topic(site, station)
        self._acks_topic = protocol.acks_topic(site, station)
        self._client = make_client(f"scangw-station-{site}-{station}", config.broker)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: dict[str, tuple[JournalEntry, float]] = {}
        self._queued: list[JournalEntry] = []
        self._flush_scheduled = False
        self.connected = asyncio.Event()
        self._resend_task: asyncio.Future[None] | None = None

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        broker = self._config.broker
        self._client.connect_async(broker.host, broker.port, keepalive=broker.keepalive_s)
        self._client.loop_start()

    async def stop(self) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    async def run(self) -> None:
        """Resend what the store has not acknowledged, forever."""
        resend_after = self._config.uplink.resend_after_s
        while True:
            await asyncio.sleep(min(1.0, resend_after / 2))
            if not self.connected.is_set():
                continue
            now = time.monotonic()
            stale = [e for e, sent in self._inflight.values() if now - sent >= resend_after]
            if stale:
                log.info("uplink: resending %d unacknowledged registration(s)", len(stale))
                self._publish(stale)

    # -- sending --------------------------------------------------------------------

    def send(self, entry: JournalEntry) -> None:
        """Queue a committed registration; everything queued in one loop turn goes
        out as one message."""
        self._queued.append(entry)
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._queued = self._queued, []
        if self.connected.is_set():
            self._publish(batch)
        # else: they wait in the journal's outbox, sent after the next connect

    def _publish(self, entries: list[JournalEntry]) -> None:
        size = self._config.uplink.batch_size
        now = time.monotonic()
        for start in range(0, len(entries), size):
            chunk = entries[start : start + size]
            message = protocol.RegistrationBatch(
                station=self._config.station.id,
                registrations=[to_registration(e) for e in chunk],
            )
            self._client.publish(self._topic, message.model_dump_json(), qos=1)
            for e in chunk:
                self._inflight[e.id] = (e, now)

    async def _resend_outbox(self) -> None:
        pending = await self._db.run(outbox(100_000))
        if pending:
            log.info("uplink: sending %d registration(s) from the outbox", len(pending))
            self._publish(pending)

    # -- paho callbacks (paho's thread) ----------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any,
                    reason: ReasonCode, _props: Any) -> None:
        if reason.is_failure:
            log.error("uplink: broker refused the connection: %s", reason)
            return
        log.info("uplink: connected to %s:%d", self._config.broker.host,
                 self._config.broker.port)
        client.subscribe(self._acks_topic, qos=1)

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, _mid: int,
                      reasons: list[ReasonCode], _props: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("uplink: broker refused the subscription to %s", self._acks_topic)
            return
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._became_connected)

    def _became_connected(self) -> None:
        self.connected.set()
        self._inflight.clear()
        self._resend_task = asyncio.ensure_future(self._resend_outbox())

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any,
                       reason: ReasonCode, _props: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.connected.clear)
        if reason.is_failure:
            log.warning("uplink: lost the broker (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        if len(message.payload) > protocol.MAX_PAYLOAD_BYTES:
            log.warning("uplink: dropped an oversized message on %s", message.topic)
            return
        try:
            batch = protocol.AckBatch.model_validate_json(message.payload)
        except ValidationError as exc:
            log.warning("uplink: dropped a malformed acknowledgement on %s: %s",
                        message.topic, exc.errors()[0]["msg"])
            return
        verdicts = [StoreVerdict(a.id, a.status == "accepted", a.reason, a.message)
                    for a in batch.acks]
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._acknowledged, verdicts)

    def _acknowledged(self, verdicts: list[StoreVerdict]) -> None:
        for v in verdicts:
            self._inflight.pop(v.id, None)
        self._on_verdicts(verdicts)
