"""The services as systemd runs them: READY=1 once serving, STOPPING=1 on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from scangw.broker import LocalBroker
from scangw.cli import main
from tests.conftest import Pty


def _notify_socket(tmp_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(15)
    return sock


def _run(tmp_path: Path, command: str, config: dict[str, object]) -> None:
    path = tmp_path / f"{command}.yaml"
    path.write_text(yaml.safe_dump(config))
    sock = _notify_socket(tmp_path)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    proc = subprocess.Popen([sys.executable, "-m", "scangw.cli", command, "--config", str(path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        try:
            ready = sock.recv(4096).decode()
        except TimeoutError:
            proc.kill()
            raise AssertionError(proc.communicate()[0].decode()[-3000:]) from None
        assert "READY=1" in ready, ready
        proc.send_signal(signal.SIGTERM)
        stopping = sock.recv(4096).decode()
        assert "STOPPING=1" in stopping
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()


def test_station_process_tells_systemd_it_is_ready_and_stops_cleanly(
    tmp_path: Path, mosquitto: LocalBroker, pty_pair: Pty
) -> None:
    _run(tmp_path, "station", {
        "station": {"site": "proc", "id": "pack-01", "database": str(tmp_path / "s.db")},
        "broker": {"host": mosquitto.host, "port": mosquitto.port},
        "scanners": {"gun": {"kind": "serial", "port": pty_pair.path}},
    })
    assert (tmp_path / "s.db").exists()


def test_store_process_tells_systemd_it_is_ready_and_stops_cleanly(
    tmp_path: Path, mosquitto: LocalBroker
) -> None:
    _run(tmp_path, "store", {
        "store": {"id": "store-p", "sites": ["proc"], "database": str(tmp_path / "o.db")},
        "broker": {"host": mosquitto.host, "port": mosquitto.port},
    })


def test_a_bad_config_stops_the_station_with_the_problem(
    tmp_path: Path, capsys: object
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("station: {site: s, id: p}\nscanners: {}\n")
    assert main(["station", "--config", str(path)]) == 1


def test_command_sheet_and_config_reference_commands(tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    assert main(["commands", "sheet", "--out", str(out), "--order", "SO-1001"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    reference = Path(__file__).resolve().parents[2] / "docs" / "config-reference.md"
    assert main(["config", "reference", "--check", str(reference)]) == 0
    stale = tmp_path / "stale.md"
    stale.write_text(reference.read_text().replace("state_scope", "stale_key"))
    assert main(["config", "reference", "--check", str(stale)]) == 1
