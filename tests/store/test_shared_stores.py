"""Two ``scangw store`` processes on one PostgreSQL database share the stations'
messages through an MQTT v5 shared subscription, while 20 stations race on the
same serials: each serial is sold once, every registration gets exactly one
verdict (the same on redelivery), nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from orderstore.config import StoreSection
from orderstore.database import StoreDatabase
from scangw import protocol
from scangw.mqtt import BrokerConfig, make_client
from tests.harness import new_site
from tests.store.stations import SimStation
from tests.store_backends import SessionPostgres

STATIONS = 20
SCANS = 15
POOL = 40
"""Station i scans serials i*5 .. i*5+14 (mod 40): every serial by about 7 stations."""
INSTANCES = ("store-a", "store-b")


@dataclass
class Shared:
    site: str
    section: StoreSection
    logs: list[Path]
    procs: list[subprocess.Popen[bytes]]


@pytest.fixture
def shared_stores(tmp_path: Path, broker_config: BrokerConfig, test_postgres: SessionPostgres,
                  ) -> Iterator[Shared]:
    site = new_site()
    pg = {"dsn": test_postgres.dsn, "schema_name": f"shared_{site}"}
    section = StoreSection.model_validate({"sites": [site], "postgres": pg})
    seed = StoreDatabase(section)
    for i in range(STATIONS):
        seed.put_order(f"SO-{i}", "C-1", [(1, "PHONE", SCANS)])
    seed.close()
    online = _presence_watch(broker_config)
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    for store_id in INSTANCES:
        config = tmp_path / f"{store_id}.yaml"
        config.write_text(yaml.safe_dump({
            "store": {"id": store_id, "sites": [site], "postgres": pg,
                      "shared_group": "scangw-stores"},
            "broker": broker_config.model_dump(mode="json")}))
        log = tmp_path / f"{store_id}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "scangw.cli", "-v", "store", "--config", str(config)],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NOTIFY_SOCKET": ""}))
    try:
        deadline = time.monotonic() + 20
        while online() != set(INSTANCES) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert online() == set(INSTANCES), [p.read_text()[-2000:] for p in logs]
        yield Shared(site, section, logs, procs)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _presence_watch(broker: BrokerConfig) -> Any:
    seen: set[str] = set()
    client = make_client("presence-watch", broker)

    def on_message(_c: object, _u: object, message: Any) -> None:
        if message.payload and json.loads(message.payload).get("status") == "online":
            seen.add(json.loads(message.payload)["store"])

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    for store_id in INSTANCES:
        client.subscribe(protocol.store_presence_topic(store_id), 1)
    return lambda: set(seen)


def _race(broker_config: BrokerConfig, shared: Shared,
          during: Callable[[], None] = lambda: None) -> list[SimStation]:
    """20 stations send their scans, resend until all are answered, then send
    everything once more; ``during`` runs while they are at it."""
    stations = [SimStation(broker_config, shared.site, f"pack-{i:02d}",
                           [(f"SO-{i}", f"SN-{(i * 5 + j) % POOL}") for j in range(SCANS)])
                for i in range(STATIONS)]
    try:
        deadline = time.monotonic() + 60
        threads = [threading.Thread(target=s.run, args=(deadline,)) for s in stations]
        for t in threads:
            t.start()
        during()
        for t in threads:
            t.join()
        for s in stations:  # a redelivery of everything: the same verdicts again
            s.send(everything=True)
        time.sleep(1.5)
    finally:
        for s in stations:
            s.close()
    return stations


def _check(stations: list[SimStation], section: StoreSection) -> None:
    assert [s.station for s in stations if s.unacked()] == []
    verdicts: Counter[str] = Counter()
    for s in stations:
        for r in s.registrations:
            answers = s.acks[r.id]
            assert len(answers) >= 2, "the redelivery was not answered"
            assert len(set(answers)) == 1, f"{s.station} #{r.seq} got differing verdicts"
            verdicts[answers[0].reason] += 1
    assert verdicts == {"added": POOL, "duplicate_serial": STATIONS * SCANS - POOL}
    db = StoreDatabase(section)
    try:
        assert db.registration_count() == STATIONS * SCANS
        assert db.registration_count("accepted") == POOL
        live = db.query("SELECT serial, COUNT(*) FROM sales_registration WHERE status = 'live'"
                        " GROUP BY serial")
        assert sorted(live) == sorted((f"SN-{n}", 1) for n in range(POOL))
    finally:
        db.close()


@pytest.mark.slow
def test_two_stores_on_postgres_answer_twenty_racing_stations(
        broker_config: BrokerConfig, shared_stores: Shared) -> None:
    _check(_race(broker_config, shared_stores), shared_stores.section)
    shared = [p.read_text() for p in shared_stores.logs]
    assert all("changed elsewhere since revision" in text for text in shared), \
        "both store instances should have written (each catches up on the other)"


@pytest.mark.slow
def test_a_store_killed_mid_stream_loses_nothing(broker_config: BrokerConfig,
                                                 shared_stores: Shared) -> None:
    """SIGKILL one instance while the stations send: the other answers the rest
    (the broker hands the group's messages to it; stations resend the rest)."""
    def kill_one() -> None:
        time.sleep(0.3)
        shared_stores.procs[0].kill()

    _check(_race(broker_config, shared_stores, kill_one), shared_stores.section)
    assert shared_stores.procs[0].wait(5) == -signal.SIGKILL
