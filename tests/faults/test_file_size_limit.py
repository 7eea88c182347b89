"""The station process may not grow its files any more (RLIMIT_FSIZE, set on the
running process with prlimit; SIGXFSZ ignored so writes fail with EFBIG): the
disk-full fault without root or a small filesystem. Scans are answered bad, none
good without a journal row, and the station recovers when the limit is lifted."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from gateway.config import StationConfig
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.faults.rig import (
    Answers,
    StationProcess,
    account,
    count,
    pending,
    serial,
    wait_for,
    write_config,
)
from tests.harness import make_store, new_site, rows, started, station_config

STEP = 40


def _scan(pty: Pty, answers: Answers, first: int, n: int) -> bytes:
    for i in range(first, first + n):
        pty.write(f"{serial(i)}\r".encode())
    return answers.take(n)


def test_file_size_limit_on_the_station_process(
    tmp_path: Path, own_broker: LocalBroker, pty_pair: Pty
) -> None:
    site = new_site()
    broker = BrokerConfig(host=own_broker.host, port=own_broker.port)
    store = started(make_store(tmp_path, broker, site, {"SO-1": [(1, "PHONE", 10_000)]}))
    config = StationConfig.model_validate({
        **station_config(tmp_path, broker, site, pty_pair.path,
                         feedback_good="06", feedback_bad="15").model_dump()})
    db = config.station.database
    station = StationProcess(write_config(config, tmp_path / "station.yaml"),
                             tmp_path / "station.log", ignore_sigxfsz=True)
    answers = Answers(pty_pair.master)
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    try:
        station.start()
        deadline = time.monotonic() + 30
        while count(db, "SELECT COUNT(*) FROM journal WHERE reason = 'order_opened'") == 0:
            assert station.alive, station.log_tail()
            assert time.monotonic() < deadline, station.log_tail()
            pty_pair.write(b"SO-1\r")
            time.sleep(0.5)
        time.sleep(0.3)
        answers.clear()
        before = _scan(pty_pair, answers, 0, STEP)
        assert before == Answers.GOOD * STEP
        wait_for("the outbox to empty", lambda: pending(db) == 0, 20)
        files = [p for p in tmp_path.glob("pack-01.db*") if p.is_file()]
        limit = max(p.stat().st_size for p in files)
        resource.prlimit(station.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        limited = _scan(pty_pair, answers, STEP, STEP) + _scan(pty_pair, answers, 2 * STEP,
                                                               STEP)
        journaled_while_limited = count(db, "SELECT COUNT(*) FROM journal") - 1 - STEP
        resource.prlimit(station.pid, resource.RLIMIT_FSIZE, unlimited)
        after = _scan(pty_pair, answers, 3 * STEP, STEP)
        wait_for("the outbox to empty", lambda: pending(db) == 0, 20)
        assert station.alive, f"the station died at the file size limit: {station.log_tail()}"
        station.stop()
    finally:
        answers.close()
        station.stop()
        store.stop()
    log = station.log_tail(10**6)
    print(f"file size limit {limit} bytes: {limited.count(Answers.BAD)} of {len(limited)} "
          f"scans answered bad, {journaled_while_limited} journaled; after: "
          f"{after.count(Answers.GOOD)} of {len(after)} good")
    figures = account(db, tmp_path / "store.db", 4 * STEP, "file size limit")
    assert "write failed" in log, "the failed writes were not logged"
    assert limited.count(Answers.BAD) > 0, "no scan was refused at the file size limit"
    assert limited.count(Answers.GOOD) == journaled_while_limited, \
        "a scan was answered good without a journal row"
    assert after == Answers.GOOD * STEP
    assert figures.lost == 0
    assert figures.doubled == 0
    assert figures.confirmed == figures.answered_good == 2 * STEP + journaled_while_limited
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
