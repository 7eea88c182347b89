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
from collections.abc import Iterator
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


@pytest.fixture
def shared_stores(tmp_path: Path, broker_config: BrokerConfig, test_postgres: SessionPostgres,
                  ) -> Iterator[tuple[str, StoreSection, list[Path]]]:
    site = new_site()
    pg = {"dsn": test_postgres.dsn, "schema_name": f"shared_{site}"}
    section = StoreSection.model_validate({"sites": [site], "postgres": pg})
    seed = StoreDatabase(section)
    for i in range(STATIONS):
        seed.put_order(f"SO-{i}", "C-1", [(1, "PHONE", SCANS)])
    seed.close()
    online = _presence_watch(broker_config)
    procs, logs = [], []
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
        yield site, section, logs
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


@pytest.mark.slow
def test_two_stores_on_postgres_answer_twenty_racing_stations(
        broker_config: BrokerConfig, shared_stores: tuple[str, StoreSection, list[Path]]) -> None:
    site, section, logs = shared_stores
    stations = [SimStation(broker_config, site, f"pack-{i:02d}",
                           [(f"SO-{i}", f"SN-{(i * 5 + j) % POOL}") for j in range(SCANS)])
                for i in range(STATIONS)]
    try:
        deadline = time.monotonic() + 60
        threads = [threading.Thread(target=s.run, args=(deadline,)) for s in stations]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for s in stations:  # a redelivery of everything: the same verdicts again
            s.send(everything=True)
        time.sleep(1.5)
    finally:
        for s in stations:
            s.close()
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
    shared = [p.read_text() for p in logs]
    assert all("changed elsewhere since revision" in text for text in shared), \
        "both store instances should have written (each catches up on the other)"
