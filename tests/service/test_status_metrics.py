"""A running station tells how it is: /status (scangw status), /metrics, SIGHUP
reloads, and old settled journal rows go away."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from gateway.config import StationConfig
from gateway.database import StationDatabase
from gateway.events import StoreAnswered
from gateway.journal import EntryState, JournalEntry, append
from gateway.retention import prune
from scangw.broker import LocalBroker, free_port
from scangw.cli import main
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.harness import make_store, new_site, next_event, rows, running_station, started
from tests.harness import station_config as harness_config


def test_status_and_metrics_of_a_running_station(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site))
    config = harness_config(tmp_path, broker_config, site, pty_pair.path)

    async def scenario() -> tuple[str, str, dict[str, object]]:
        async with running_station(config) as (svc, events):
            pty_pair.write(b"SN-M1\r")
            await next_event(events, StoreAnswered)
            assert svc.monitor is not None
            url = f"http://127.0.0.1:{svc.monitor.port}"
            metrics = await asyncio.to_thread(_get, url + "/metrics")
            assert await asyncio.to_thread(main, ["status", "--url", url]) == 0
            human = capsys.readouterr().out
            await asyncio.to_thread(main, ["status", "--url", url, "--json"])
            return metrics, human, json.loads(capsys.readouterr().out)

    try:
        metrics, human, status = asyncio.run(scenario())
    finally:
        store.stop()
    assert 'scangw_scans_total{decision="good",reason="added"} 1.0' in metrics
    assert 'scangw_store_acks_total{status="accepted"} 1.0' in metrics
    assert 'scangw_scanner_online{scanner="gun"} 1.0' in metrics
    assert "scangw_broker_connected 1.0" in metrics
    assert "scangw_decision_seconds_bucket" in metrics
    assert "broker  connected" in human
    assert "online" in human
    assert "SO-1" in human
    assert status["scanners"] == [{"name": "gun", "kind": "serial", "online": True}]
    assert status["contexts"][0]["registered"] == 1  # type: ignore[index]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        return str(response.read().decode())


def test_status_without_a_running_station_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["status", "--url", url]) == 1
    assert "no running station answered" in capsys.readouterr().err


def test_station_process_reloads_on_sighup_and_reports_through_status(
    tmp_path: Path, mosquitto: LocalBroker, pty_pair: Pty, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    config = {
        "station": {"site": "proc", "id": "pack-01", "database": str(tmp_path / "s.db")},
        "broker": {"host": mosquitto.host, "port": mosquitto.port},
        "monitor": {"port": port},
        "scanners": {"gun": {"kind": "serial", "port": pty_pair.path}},
    }
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(config))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "n.sock"))
    notify.settimeout(15)
    proc = subprocess.Popen(
        [sys.executable, "-m", "scangw.cli", "station", "--config", str(path)],
        env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "n.sock")},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert "READY=1" in notify.recv(4096).decode()
        assert main(["status", "--config", str(path)]) == 0
        assert "gun" in capsys.readouterr().out
        config["debounce"] = {"window_ms": 50}       # live
        config["broker"] = {"host": "127.0.0.2", "port": mosquitto.port}  # needs a restart
        path.write_text(yaml.safe_dump(config))
        proc.send_signal(signal.SIGHUP)
        assert "RELOADING=1" in notify.recv(4096).decode()
        assert "READY=1" in notify.recv(4096).decode()
        time.sleep(0.2)
        assert proc.poll() is None  # still running
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=15)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
    assert "reloaded debounce" in output
    assert "not applied until the station restarts: broker" in output


def test_reload_applies_rules_at_once_and_names_what_needs_a_restart(tmp_path: Path) -> None:
    from gateway.service import StationService

    base = {"station": {"site": "s", "id": "p", "database": str(tmp_path / "s.db")},
            "scanners": {"gun": {"kind": "serial", "port": "/dev/null"}}}
    service = StationService(StationConfig.model_validate(base))
    changed = StationConfig.model_validate({
        **base, "scan_rules": [{"when": "length > 30", "then": [{"reject": "too long"}]}],
        "scanners": {"gun": {"kind": "serial", "port": "/dev/ttyACM9"}}})
    assert service.reload(changed) == ["scanners"]
    assert len(service.workflow.config.scan_rules) == 1
    assert service.config.scanners["gun"].port == "/dev/null"  # kept until a restart


def test_retention_deletes_old_settled_rows_but_never_pending_or_the_newest(
    tmp_path: Path,
) -> None:
    old = time.time() - 40 * 86400

    def entry(seq: int, state: EntryState, ts: float) -> JournalEntry:
        return JournalEntry(seq, f"{seq:032x}", ts, "g", "x", True, "added", "m", state,
                            "SO-1", 1, "I", "add", f"S{seq}")

    async def run() -> int:
        db = StationDatabase(tmp_path / "s.db")
        await db.open()
        for seq, state, ts in [(1, EntryState.CONFIRMED, old), (2, EntryState.PENDING, old),
                               (3, EntryState.LOCAL, old), (4, EntryState.CONFIRMED, time.time()),
                               (5, EntryState.CONFIRMED, old)]:
            await db.run(append(entry(seq, state, ts)))
        deleted = await prune(db, keep_days=30)
        await db.close()
        return deleted

    assert asyncio.run(run()) == 2
    assert [r[0] for r in rows(tmp_path / "s.db", "SELECT seq FROM journal ORDER BY seq")] == [
        2, 4, 5]
