"""systemd/scangw-kiosk.service: Chromium in kiosk mode on the station's page."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.display import DisplayConfig
from gateway.display.auth import OPEN_PATHS
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.display.live import free_port, live_display
from tests.harness import make_store, new_site, started, station_config
from tests.service.unit_file import load, value

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "scangw-kiosk.service"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: scripts/setup test installs it", pytrace=False)
    return path


def test_the_kiosk_runs_chromium_full_screen_on_the_default_page() -> None:
    unit = load(UNIT)
    start = shlex.split(value(unit, "Service", "ExecStart"))
    assert start[0] == "/usr/bin/chromium"
    for flag in ("--kiosk", "--noerrdialogs", "--disable-session-crashed-bubble",
                 "--no-first-run", "--disable-pinch", "--overscroll-history-navigation=0"):
        assert flag in start, flag
    assert start[-1] == "${SCANGW_DISPLAY_URL}"
    env = value(unit, "Service", "Environment")
    assert env == f"SCANGW_DISPLAY_URL=http://127.0.0.1:{DisplayConfig().port}/"
    assert value(unit, "Unit", "After") == "graphical-session.target"
    assert value(unit, "Install", "WantedBy") == "graphical-session.target"
    assert value(unit, "Service", "Restart") == "always"
    assert "/healthz" in OPEN_PATHS  # what ExecStartPre waits for, without a token


def test_systemd_accepts_the_kiosk_unit(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.fail("/usr/bin/chromium is missing: scripts/setup test installs it",
                    pytrace=False)
    shutil.copy(UNIT, tmp_path / UNIT.name)
    (tmp_path / "run").mkdir()
    proc = subprocess.run([analyze, "verify", "--user", f"./{UNIT.name}"], cwd=tmp_path,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / "run")},
                          capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def _wait_for_page(url: str, tries: int) -> subprocess.CompletedProcess[str]:
    """The unit's ExecStartPre as systemd would run it ($$ is a literal $)."""
    _tool("curl")
    pre = shlex.split(value(load(UNIT), "Service", "ExecStartPre").replace("$$", "$"))
    assert pre[:2] == ["/bin/sh", "-c"]
    script = pre[2].replace("$(seq 120)", f"$(seq {tries})")
    return subprocess.run(["/bin/sh", "-c", script], env={**os.environ,
                          "SCANGW_DISPLAY_URL": url}, capture_output=True, text=True,
                          check=False, timeout=30)


def test_the_kiosk_waits_for_the_page_and_says_why_it_gave_up(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    dead = _wait_for_page(f"http://127.0.0.1:{free_port()}/", tries=2)
    assert dead.returncode == 1
    assert "is scangw-station running with display.enabled: true?" in dead.stderr
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site))
    config = station_config(tmp_path, broker_config, site, pty_pair.path)
    (tmp_path / "token").write_text("kiosk-token\n")
    try:  # even with a token: /healthz answers without one
        with live_display(config, DisplayConfig(port=0, token_file=tmp_path / "token")) as live:
            ready = _wait_for_page(live.url, tries=5)
    finally:
        store.stop()
    assert (ready.returncode, ready.stderr) == (0, "")
