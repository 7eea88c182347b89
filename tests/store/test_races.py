"""Several store instances (threads with their own connection and ledger) on one
database, racing on the same serials: the database orders them, nobody crashes."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from orderstore.registrations import apply_batches
from scangw import protocol
from scangw.sales.records import Registration
from tests.store.conftest import OpenStore
from tests.store.test_storage import batch

pytestmark = pytest.mark.usefixtures("store_backend")

INSTANCES = 4
STATIONS_PER_INSTANCE = 3
SERIALS = 12
"""Every station scans the same 12 serials, each onto its own order."""


def test_racing_instances_sell_each_serial_once_and_answer_every_scan(
        open_store: OpenStore) -> None:
    seed = open_store()
    stations = [f"p{i}-{j}" for i in range(INSTANCES) for j in range(STATIONS_PER_INSTANCE)]
    for station in stations:
        seed.put_order(f"SO-{station}", "C-1", [(1, "PHONE", SERIALS)])
    instances = [open_store() for _ in range(INSTANCES)]
    acks: dict[str, list[protocol.Ack]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(INSTANCES)

    def run(index: int) -> None:
        db = instances[index]
        mine = stations[index * STATIONS_PER_INSTANCE:(index + 1) * STATIONS_PER_INSTANCE]
        start.wait()
        try:
            for seq in range(1, SERIALS + 1):  # one commit per scan: the most interleaving
                batches = [batch(s, [seq], [f"SN-{seq}"], f"SO-{s}") for s in mine]
                for s, got in zip(mine, apply_batches(db, "dc-1", batches).acks, strict=True):
                    acks.setdefault(s, []).extend(got)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(INSTANCES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(len(a) for a in acks.values()) == len(stations) * SERIALS  # all answered
    verdicts = Counter(a.reason for got in acks.values() for a in got)
    assert verdicts == {"added": SERIALS, "duplicate_serial": (len(stations) - 1) * SERIALS}
    live = seed.query("SELECT serial, COUNT(*) FROM sales_registration WHERE status = 'live'"
                      " GROUP BY serial")
    assert sorted(live) == sorted((f"SN-{n}", 1) for n in range(1, SERIALS + 1))
    assert seed.registration_count() == len(stations) * SERIALS
    for db in instances:  # every instance's ledger agrees with the database
        sold = {r.serial for r in db.read().records() if isinstance(r, Registration) and r.live}
        assert sold == {f"SN-{n}" for n in range(1, SERIALS + 1)}
