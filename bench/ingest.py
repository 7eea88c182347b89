"""Store ingest: 50 simulated stations publish RegistrationBatch messages to one
order store on SQLite; the figure is acknowledged registrations per second.
Then the same stations on PostgreSQL, one store and two (``bench.ingest_pg``):
the pair's rate over the single store's.

Each simulated station is a paho client (MQTT v5, QoS 1) subscribed to its own
acks topic, registering on its own orders of ORDER_SIZE units, in messages of
BATCH registrations (the station's default uplink batch size). Payloads are
built before the clock starts; the clock runs from the first publish to the
last acknowledgement. The store runs in its own process (``scangw store``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from bench.harness import ITEM, SITE, ScenarioFailed
from bench.results import Outcome
from bench.services import store_process
from scangw import protocol
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig, make_client
from scangw.sales.registration import ScanMode

STATIONS = 50
BATCH = 200
ORDER_SIZE = 100
STALL_S = 15.0


class Acks:
    """Acknowledgements counted across every simulated station's thread."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.accepted = 0
        self.refused = 0
        self.subscribed = 0
        self.last_ns = 0

    def on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        acks = json.loads(message.payload)["acks"]
        ok = sum(1 for a in acks if a["status"] == "accepted")
        with self.changed:
            self.accepted += ok
            self.refused += len(acks) - ok
            self.last_ns = time.perf_counter_ns()
            self.changed.notify_all()

    def on_subscribe(self, *_: object) -> None:
        with self.changed:
            self.subscribed += 1
            self.changed.notify_all()


def run(workdir: Path, quick: bool) -> Outcome:
    per_station = 200 if quick else 1000
    names = [f"sim-{n:02d}" for n in range(STATIONS)]
    orders = {_order(name, k): ORDER_SIZE for name in names
              for k in range(per_station // ORDER_SIZE)}
    payloads = {name: _payloads(name, per_station) for name in names}
    total = STATIONS * per_station
    with LocalBroker(workdir / "broker") as broker:
        config = BrokerConfig(host=broker.host, port=broker.port)
        with store_process(workdir, config, orders, timeout_s=30):
            acks = Acks()
            clients = [_connect(config, name, acks) for name in names]
            try:
                wait_for(acks, lambda: acks.subscribed >= STATIONS, "subscriptions")
                start = time.perf_counter_ns()
                for round_ in range(per_station // BATCH):
                    for name, client in zip(names, clients, strict=True):
                        client.publish(protocol.registrations_topic(SITE, name),
                                       payloads[name][round_], qos=1)
                wait_for(acks, lambda: acks.accepted + acks.refused >= total, "acknowledgements")
            finally:
                for client in clients:
                    client.disconnect()
                    client.loop_stop()
    if acks.refused:
        raise ScenarioFailed(f"the store refused {acks.refused} registrations")
    elapsed_s = (acks.last_ns - start) / 1e9
    outcome = Outcome(
        figures={"store_ingest_per_s": round(acks.accepted / elapsed_s, 1),
                 "store_ingest_pg_scaling": None},
        notes=[f"{STATIONS} simulated stations x {per_station} registrations in messages of "
               f"{BATCH}: {total} acknowledged in {elapsed_s:.2f}s"],
    )
    from bench import ingest_pg  # imports this module's pieces
    from bench.pgdb import PostgresUnavailable

    try:
        single, pair = ingest_pg.measure(workdir, orders, payloads, total)
    except (PostgresUnavailable, ScenarioFailed) as exc:  # the SQLite figure stands
        outcome.why["store_ingest_pg_scaling"] = str(exc)
        return outcome
    outcome.figures["store_ingest_pg_scaling"] = round(pair.rate / single.rate, 3)
    outcome.notes += [ingest_pg.describe(single), ingest_pg.describe(pair)]
    return outcome


def _order(station: str, k: int) -> str:
    return f"SO-{station}-{k:03d}"


def _payloads(station: str, count: int) -> list[str]:
    now = datetime.now(UTC)
    registrations = [
        protocol.Registration(
            id=uuid.uuid4().hex, seq=i + 1, scanner="handheld",
            order_id=_order(station, i // ORDER_SIZE), line_number=1, item_id=ITEM,
            mode=ScanMode.ADD, serial=f"SN-{station}-{i:06d}", scanned_at=now)
        for i in range(count)
    ]
    epoch = uuid.uuid4().hex
    return [protocol.RegistrationBatch(station=station, epoch=epoch,
                                       registrations=registrations[i : i + BATCH]
                                       ).model_dump_json()
            for i in range(0, count, BATCH)]


def _connect(broker: BrokerConfig, station: str, acks: Acks) -> mqtt.Client:
    client = make_client(f"bench-{station}-{uuid.uuid4().hex[:6]}", broker)
    client.on_message = acks.on_message
    client.on_subscribe = acks.on_subscribe
    client.connect(broker.host, broker.port)
    client.subscribe(protocol.acks_topic(SITE, station), qos=1)
    client.loop_start()
    return client


def wait_for(acks: Acks, done: Callable[[], bool], what: str) -> None:
    with acks.changed:
        while not done():
            before = (acks.accepted, acks.refused, acks.subscribed)
            acks.changed.wait(STALL_S)
            if (acks.accepted, acks.refused, acks.subscribed) == before and not done():
                raise ScenarioFailed(
                    f"no progress for {STALL_S}s waiting for {what}: {acks.accepted} accepted, "
                    f"{acks.refused} refused")
