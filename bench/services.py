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
from orderstore.database import StoreDatabase
from scangw import protocol
from scangw.mqtt import BrokerConfig, make_client
from scangw.sales.registration import ScanMode

PROBE_STATION = "bench-probe"


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def prepare_store_db(path: Path, orders: dict[str, int]) -> None:
    """Orders (id -> quantity of its one line of ITEM) in a fresh store database."""
    db = StoreDatabase(path)
    try:
        for order_id, quantity in orders.items():
            db.put_order(order_id, f"C-{order_id}", [(1, ITEM, quantity)])
    finally:
        db.close()


@contextlib.contextmanager
def store_process(workdir: Path, broker: BrokerConfig, orders: dict[str, int] | None = None,
                  timeout_s: float = 15.0) -> Iterator[subprocess.Popen[bytes]]:
    """``scangw store`` on a fresh database holding ``orders``; stopped on exit."""
    database = workdir / "store.db"
    prepare_store_db(database, orders if orders is not None else {ORDER: 1})
    config = write_yaml(workdir / "store.yaml", {
        "store": {"id": "store-bench", "sites": [SITE], "database": str(database)},
        "broker": {"host": broker.host, "port": broker.port},
    })
    process = spawn([sys.executable, "-m", "scangw.cli", "store", "--config", str(config)],
                    workdir / "store.log")
    try:
        wait_until_store_answers(broker, process, timeout_s)
        yield process
    finally:
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


def wait_until_store_answers(broker: BrokerConfig, process: subprocess.Popen[bytes],
                             timeout_s: float) -> None:
    answered = threading.Event()
    client = make_client(f"bench-probe-{uuid.uuid4().hex[:8]}", broker)

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        answered.set()

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.subscribe(protocol.acks_topic(SITE, PROBE_STATION), qos=1)
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
        while not answered.is_set():
            if process.poll() is not None:
                raise ScenarioFailed(f"the order store exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise ScenarioFailed(f"the order store did not answer within {timeout_s}s")
            client.publish(protocol.registrations_topic(SITE, PROBE_STATION), probe, qos=1)
            answered.wait(0.2)
    finally:
        client.disconnect()
        client.loop_stop()
