"""Store ingest on PostgreSQL: one store process, then two sharing the database
through an MQTT v5 shared subscription; the figure is the pair's rate divided
by the single store's.

Both runs take the same 50 simulated stations and the same payloads, each run on
a fresh database (``bench.pgdb``) with the orders put in through the store's own
code, and a broker of its own. A station keeps one message in flight: it sends
its next batch when every registration of the last one is acknowledged. With a
shared subscription consecutive messages of one station can go to different
store instances, and a store holds (does not acknowledge) registrations that
overtake a missing predecessor until the station resends, as a real station
does on the store's resend request; the simulated stations do not resend, so
they send in order instead - in both runs, so the ratio compares like with like.

While a run is going a sampler reads ``pg_stat_activity`` of the bench database
every 10 ms: the share of samples in which a store's backend waits for a lock
(the ledger's revision row) is in the notes, as is each store's CPU time.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from bench.harness import SITE, ScenarioFailed
from bench.ingest import BATCH, Acks, wait_for
from bench.pgdb import admin_connect, fresh_database
from bench.services import prepare_store_db, store_processes
from orderstore.config import PostgresSection, StoreSection
from scangw import protocol
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig, make_client

SHARED_GROUP = "bench-stores"
SAMPLE_S = 0.01


class PacedStation:
    """One simulated station with one message in flight."""

    def __init__(self, name: str, payloads: list[str], acks: Acks,
                 broker: BrokerConfig) -> None:
        self.name = name
        self.payloads = payloads
        self.acks = acks
        self.sent = 0
        self.acked = 0
        self.topic = protocol.registrations_topic(SITE, name)
        self.client = make_client(f"bench-{name}-{uuid.uuid4().hex[:6]}", broker)
        self.client.on_message = self.on_message
        self.client.on_subscribe = acks.on_subscribe
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(protocol.acks_topic(SITE, name), qos=1)
        self.client.loop_start()

    def send_next(self) -> None:
        index, self.sent = self.sent, self.sent + 1  # counted first: the ack may beat us
        self.client.publish(self.topic, self.payloads[index], qos=1)

    def on_message(self, client: mqtt.Client, userdata: object,
                   message: mqtt.MQTTMessage) -> None:
        self.acks.on_message(client, userdata, message)
        self.acked += len(json.loads(message.payload)["acks"])
        if self.acked >= self.sent * BATCH and self.sent < len(self.payloads):
            self.send_next()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class LockSampler(threading.Thread):
    """Samples what the store backends of one database are waiting for."""

    def __init__(self, dbname: str) -> None:
        super().__init__(daemon=True)
        self.dbname = dbname
        self.samples = 0
        self.busy = 0
        self.in_transaction = 0
        self.waiting_on_lock = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        with admin_connect() as conn:
            while not self.stop_event.wait(SAMPLE_S):
                rows = conn.execute(
                    "SELECT state, wait_event_type FROM pg_stat_activity WHERE datname = %s"
                    " AND pid <> pg_backend_pid()",
                    (self.dbname,)).fetchall()
                self.samples += 1
                self.busy += sum(1 for state, _ in rows if state == "active")
                self.in_transaction += sum(1 for state, _ in rows
                                           if state == "idle in transaction")
                self.waiting_on_lock += sum(1 for _, wait in rows if wait == "Lock")


@dataclass(frozen=True)
class PgRun:
    stores: int
    rate: float
    elapsed_s: float
    cpu_s: list[float]
    lock_share: float
    """Store backends waiting on a lock, per sample."""
    active_share: float
    """Store backends running a statement (or waiting in one), per sample."""
    python_share: float
    """Store backends idle in a transaction (the store's Python deciding), per sample."""


def measure(workdir: Path, orders: dict[str, int], payloads: dict[str, list[str]],
            total: int) -> tuple[PgRun, PgRun]:
    """The single store's run and the pair's; PostgresUnavailable if no server."""
    single = _run(workdir / "pg-single", orders, payloads, total, stores=1)
    pair = _run(workdir / "pg-pair", orders, payloads, total, stores=2)
    return single, pair


def _run(workdir: Path, orders: dict[str, int], payloads: dict[str, list[str]], total: int,
         stores: int) -> PgRun:
    workdir.mkdir()
    with fresh_database() as dsn:
        dbname = dsn.rsplit("dbname=", 1)[1]
        postgres = {"dsn": dsn}
        prepare_store_db(StoreSection(sites=[SITE], postgres=PostgresSection(dsn=dsn)),
                         orders)
        section: dict[str, object] = {"postgres": postgres}
        if stores > 1:
            section["shared_group"] = SHARED_GROUP
        with LocalBroker(workdir / "broker") as broker:
            config = BrokerConfig(host=broker.host, port=broker.port)
            with store_processes(workdir, config, section, stores, timeout_s=30) as procs:
                acks = Acks()
                stations = [PacedStation(name, messages, acks, config)
                            for name, messages in payloads.items()]
                sampler = LockSampler(dbname)
                try:
                    wait_for(acks, lambda: acks.subscribed >= len(stations), "subscriptions")
                    cpu_before = [_cpu_s(p.pid) for p in procs]
                    sampler.start()
                    start = time.perf_counter_ns()
                    for station in stations:
                        station.send_next()
                    wait_for(acks, lambda: acks.accepted + acks.refused >= total,
                             "acknowledgements")
                    cpu = [_cpu_s(p.pid) - b for p, b in zip(procs, cpu_before, strict=True)]
                finally:
                    sampler.stop_event.set()
                    for station in stations:
                        station.close()
                    if sampler.is_alive():
                        sampler.join(2)
    if acks.refused:
        raise ScenarioFailed(f"the PostgreSQL store(s) refused {acks.refused} registrations")
    elapsed_s = (acks.last_ns - start) / 1e9
    samples = max(sampler.samples, 1)
    return PgRun(stores=stores, rate=acks.accepted / elapsed_s, elapsed_s=elapsed_s, cpu_s=cpu,
                 lock_share=sampler.waiting_on_lock / samples,
                 active_share=sampler.busy / samples,
                 python_share=sampler.in_transaction / samples)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def describe(run: PgRun) -> str:
    cpu = " + ".join(f"{c:.2f}" for c in run.cpu_s)
    return (f"PostgreSQL, {run.stores} store process(es): {run.rate:,.0f}/s in"
            f" {run.elapsed_s:.2f}s; store CPU {cpu} s; store backends per 10 ms sample:"
            f" in a statement {run.active_share:.2f} (of which waiting on a lock"
            f" {run.lock_share:.2f}), idle in a transaction {run.python_share:.2f}")
