"""The order store (and a station) as separate processes, as in production.

A station's latency must not share its interpreter lock with the store, so the
scenarios run the store as ``scangw store --config FILE`` in a subprocess. The
store is ready when it answers: a probe registration for a line it does not
have, sent until its refusal comes back (proof that it is subscribed, decides
and publishes). The probe lands in the store's own table as refused
``unknown_line`` and touches no order.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml

from bench.harness import ITEM, ORDER, SITE, ScenarioFailed
from orderstore.config import StoreSection
from orderstore.database import StoreDatabase
from scangw import protocol
from scangw.mqtt import BrokerConfig, make_client
from scangw.sales.registration import ScanMode

PROBE_STATION = "bench-probe"


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def prepare_store_db(target: Path | StoreSection, orders: dict[str, int]) -> None:
    """Orders (id -> quantity of its one line of ITEM) in a fresh store database:
    a SQLite file, or the database a ``store`` section names (PostgreSQL), written
    through the store's own code (migrations, ledger, revision)."""
    db = StoreDatabase(target)
    try:
        for order_id, quantity in orders.items():
            db.put_order(order_id, f"C-{order_id}", [(1, ITEM, quantity)])
    finally:
        db.close()


@contextlib.contextmanager
def store_process(workdir: Path, broker: BrokerConfig, orders: dict[str, int] | None = None,
                  timeout_s: float = 15.0) -> Iterator[subprocess.Popen[bytes]]:
    """``scangw store`` on a fresh SQLite database holding ``orders``; stopped on exit."""
    database = workdir / "store.db"
    prepare_store_db(database, orders if orders is not None else {ORDER: 1})
    with store_processes(workdir, broker, {"database": str(database)}, 1,
                         timeout_s) as processes:
        yield processes[0]


@contextlib.contextmanager
def store_processes(workdir: Path, broker: BrokerConfig, section: dict[str, Any],
                    count: int, timeout_s: float = 15.0,
                    ) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` ``scangw store`` processes (ids store-bench-N) on the database
    ``section`` names (its ``database``, or ``postgres`` and ``shared_group``);
    all stopped on exit. Ready when every one has said it is online (it
    subscribes first) and one of them has answered the probe."""
    ids = [f"store-bench-{n}" for n in range(1, count + 1)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for store_id in ids:
            config = write_yaml(workdir / f"{store_id}.yaml", {
                "store": {"id": store_id, "sites": [SITE], **section},
                "broker": {"host": broker.host, "port": broker.port},
            })
            processes.append(spawn(
                [sys.executable, "-m", "scangw.cli", "store", "--config", str(config)],
                workdir / f"{store_id}.log"))
        wait_until_store_answers(broker, processes, timeout_s, ids)
        yield processes
    finally:
        for process in processes:
            stop(process)


def spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[Any], grace_s: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_store_answers(broker: BrokerConfig,
                             process: subprocess.Popen[bytes] | list[subprocess.Popen[bytes]],
                             timeout_s: float, ids: list[str] | None = None) -> None:
    """Until a store answers the probe and every store of ``ids`` is online."""
    processes = process if isinstance(process, list) else [process]
    answered = threading.Event()
    online: set[str] = set()
    client = make_client(f"bench-probe-{uuid.uuid4().hex[:8]}", broker)
    acks_topic = protocol.acks_topic(SITE, PROBE_STATION)

    def on_message(_c: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
        if m.topic == acks_topic:
            answered.set()
        elif b'"online"' in m.payload:
            online.add(m.topic)

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.subscribe(acks_topic, qos=1)
    presence = {protocol.store_presence_topic(i) for i in ids or []}
    for topic in presence:
        client.subscribe(topic, qos=1)
    client.loop_start()
    probe = protocol.RegistrationBatch(station=PROBE_STATION, epoch=uuid.uuid4().hex,
                                       registrations=[
        protocol.Registration(
            id=uuid.uuid4().hex, seq=1, scanner="probe", order_id="PROBE-NO-SUCH-ORDER",
            line_number=1, item_id=ITEM, mode=ScanMode.ADD, serial="PROBE",
            scanned_at=datetime.now(UTC),
        )]).model_dump_json()
    deadline = time.monotonic() + timeout_s
    try:
        while not answered.is_set() or not presence <= online:
            for p in processes:
                if p.poll() is not None:
                    raise ScenarioFailed(f"an order store exited with {p.returncode}")
            if time.monotonic() > deadline:
                raise ScenarioFailed(
                    f"the order store(s) did not answer within {timeout_s}s"
                    f" ({len(online)} of {len(presence)} online)")
            if answered.is_set():
                answered.wait(0.05)
                continue
            client.publish(protocol.registrations_topic(SITE, PROBE_STATION), probe, qos=1)
            answered.wait(0.2)
    finally:
        client.disconnect()
        client.loop_stop()
