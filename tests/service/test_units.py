"""The systemd units in systemd/: the keys the service relies on, and the CLI they call.

These checks read the files with a small parser and run everywhere; the units as
installed are also judged by ``systemd-analyze verify`` and ``security`` in
test_install.py where systemd-analyze exists.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from scangw.cli import build_parser

from .unit_file import load, parse_unit, value, values

REPO = Path(__file__).resolve().parents[2]
SERVICES = ["station", "store"]

REQUIRED = {
    "Type": "notify",
    "NotifyAccess": "main",
    "Restart": "on-failure",
    "User": "scangw",
    "Group": "scangw",
    "StateDirectory": "scangw",
    "ConfigurationDirectory": "scangw",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/scangw",
    "ProtectHome": "true",
    "PrivateTmp": "true",
    "NoNewPrivileges": "true",
    "CapabilityBoundingSet": "",
    "ExecReload": "/bin/kill -HUP $MAINPID",
}


@pytest.mark.parametrize("service", SERVICES)
def test_unit_has_required_keys_by_parser(service: str) -> None:
    unit = load(REPO / "systemd" / f"scangw-{service}.service")
    for key, expected in REQUIRED.items():
        assert value(unit, "Service", key) == expected, key
    assert int(value(unit, "Service", "WatchdogSec")) >= 10
    assert value(unit, "Install", "WantedBy") == "multi-user.target"


@pytest.mark.parametrize("service", SERVICES)
def test_unit_commands_are_what_the_cli_accepts(service: str) -> None:
    unit = load(REPO / "systemd" / f"scangw-{service}.service")
    config = f"/etc/scangw/{service}.yaml"
    pre = shlex.split(value(unit, "Service", "ExecStartPre"))
    start = shlex.split(value(unit, "Service", "ExecStart"))
    assert pre == ["/opt/scangw/venv/bin/scangw", "check", config]
    assert start == ["/opt/scangw/venv/bin/scangw", service, "--config", config]
    parser = build_parser()
    assert parser.parse_args(pre[1:]).files == [Path(config)]
    args = parser.parse_args(start[1:])
    assert (args.command, args.config) == (service, Path(config))


def test_station_reaches_scanners_through_groups() -> None:
    unit = load(REPO / "systemd" / "scangw-station.service")
    assert value(unit, "Service", "SupplementaryGroups").split() == ["dialout", "input",
                                                                      "plugdev"]
    # device classes are not pinned at start: a scanner plugged in later must work
    assert values(unit, "Service", "DevicePolicy") == []
    assert values(unit, "Service", "PrivateDevices") == []  # it would hide the scanners


def test_store_has_no_devices() -> None:
    unit = load(REPO / "systemd" / "scangw-store.service")
    assert value(unit, "Service", "PrivateDevices") == "true"
    assert values(unit, "Service", "SupplementaryGroups") == []


def test_parser_reads_repeated_keys_and_continuations() -> None:
    unit = parse_unit("[Service]\n# c\nA=1\nA=2\nB=x \\\n  y\n")
    assert unit == {"Service": [("A", "1"), ("A", "2"), ("B", "x y")]}
    with pytest.raises(ValueError, match="not a Key=value"):
        parse_unit("A=1\n")
