"""A packer with only a scanner: whole packing-slip scenarios through a pty."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gateway.config import StationConfig
from gateway.events import DecisionMade
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.harness import (
    make_store,
    new_site,
    next_event,
    rows,
    running_station,
    started,
    station_config,
)

pytestmark = pytest.mark.usefixtures("store_backend")

PHONE_GTIN = "09521101530001"
DRILL_GTIN = "04012345678901"
OTHER_GTIN = "07612345678900"
GS = "\x1d"


def _setup(tmp_path: Path, broker: BrokerConfig, pty: Pty, **config: Any) -> Any:
    site = new_site()
    store = make_store(tmp_path, broker, site, {"SO-1001": [(1, "PHONE-X1", 3),
                                                             (2, "DRILL-18V", 2)]})
    store.db.put_item_gtins("PHONE-X1", [PHONE_GTIN])
    store.db.put_item_gtins("DRILL-18V", [DRILL_GTIN])
    cfg = station_config(tmp_path, broker, site, pty.path)
    cfg = StationConfig.model_validate({**cfg.model_dump(), **config})
    return started(store), cfg


async def _scan_all(pty: Pty, events: Any, scans: list[str]) -> list[tuple[bool, str, str]]:
    answers = []
    for text in scans:
        pty.write(text.encode() + b"\r")
        entry = (await next_event(events, DecisionMade)).entry
        answers.append((entry.accepted, entry.reason, entry.message))
    return answers


def test_a_whole_slip_with_commands_only(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    script = [
        "SN-A",                      # nothing open yet
        "SO-1001",                   # the pick list's order barcode
        "SN-A", "SN-B",
        "SGW-NOT-READABLE",          # R7: a blank counts
        "SN-C",                      # line full: R4
        "SGW-MODE-REMOVE",
        "SN-Z",                      # not on the list
        "SN-B",                      # removed
        "SGW-MODE-ADD",
        "SN-C",
        "SGW-NEXT-LINE",
        "SN-D1",
        "SGW-UNDO-LAST",             # takes SN-D1 off again
        "SGW-NEXT-LINE",             # there is no line 3
        "SGW-FROBNICATE",            # a command that does not exist
        "SGW-CANCEL",
    ]

    async def scenario() -> list[tuple[bool, str, str]]:
        async with running_station(config, order=None) as (_svc, events):
            return await _scan_all(pty_pair, events, script)

    try:
        answers = asyncio.run(scenario())
    finally:
        store.stop()
    assert [(ok, reason) for ok, reason, _ in answers] == [
        (False, "no_document"),
        (True, "order_opened"),
        (True, "added"), (True, "added"),
        (True, "added"),
        (False, "over_quantity"),
        (True, "mode_remove"),
        (False, "not_on_list"),
        (True, "removed"),
        (True, "mode_add"),
        (True, "added"),
        (True, "line_selected"),
        (True, "added"),
        (True, "removed"),
        (False, "no_more_lines"),
        (False, "unknown_command"),
        (True, "document_closed"),
    ]
    assert answers[1][2] == "SO-1001 open: line 1 PHONE-X1, 0 of 3 registered"
    assert answers[11][2] == "line 2 DRILL-18V, 0 of 2 registered"
    cached = rows(tmp_path / "pack-01.db", "SELECT line_number, serial FROM cached_serials"
                  " ORDER BY line_number, position")
    assert cached == [(1, "SN-A"), (1, None), (1, "SN-C")]


def test_gs1_codes_select_the_line_and_refuse_what_is_not_on_the_order(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    script = [
        "SO-1001",
        f"]d201{DRILL_GTIN}21DR-0001{GS}10LOT7",   # DataMatrix: selects line 2
        f"]C101{OTHER_GTIN}21X-1",                # GS1-128 of an item not on the order
        f"]C101{PHONE_GTIN}2199",                 # back to line 1 by GTIN
        f"https://id.example.com/01/{PHONE_GTIN}/21/PX-DL-7",  # GS1 Digital Link
        f"]C101{PHONE_GTIN}10LOT-ONLY",           # GS1 without a serial
        f"]C101{PHONE_GTIN}21AB",                 # rejected by the item's serial pattern
    ]
    config = StationConfig.model_validate({**config.model_dump(), "serial_patterns": {
        "PHONE-X1": {"regex": r"[0-9A-Z-]{2,12}", "min_length": 2, "max_length": 12}},
        "scan_rules": [{"name": "no-AB", "when": "data == 'AB'",
                        "then": [{"reject": "AB is a demo label, not a serial"}]}]})

    async def scenario() -> list[tuple[bool, str, str]]:
        async with running_station(config, order=None) as (_svc, events):
            return await _scan_all(pty_pair, events, script)

    try:
        answers = asyncio.run(scenario())
    finally:
        store.stop()
    assert [(ok, reason) for ok, reason, _ in answers] == [
        (True, "order_opened"),
        (True, "added"),
        (False, "item_not_on_order"),
        (True, "added"),
        (True, "added"),
        (False, "no_serial"),
        (False, "rule_rejected"),
    ]
    assert f"GTIN {OTHER_GTIN} is not on SO-1001" in answers[2][2]
    assert "AB is a demo label" in answers[6][2]
    registered = rows(tmp_path / "pack-01.db", "SELECT line_number, serial FROM journal"
                      " WHERE state != 'local' ORDER BY seq")
    assert registered == [(2, "DR-0001"), (1, "99"), (1, "PX-DL-7")]


def test_a_restart_in_the_middle_of_a_slip_resumes_where_it_was(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)

    async def before() -> list[tuple[bool, str, str]]:
        async with running_station(config, order=None) as (_svc, events):
            return await _scan_all(pty_pair, events, ["SO-1001", "SGW-NEXT-LINE",
                                                      "SGW-MODE-REMOVE"])

    async def after() -> tuple[str | None, list[tuple[bool, str, str]]]:
        async with running_station(config, order=None) as (svc, events):
            mode = svc.station.mode.value
            return mode, await _scan_all(pty_pair, events, ["SGW-MODE-ADD", "SN-D9", "SN-D8",
                                                       "SN-D9"])

    try:
        asyncio.run(before())
        mode, answers = asyncio.run(after())
    finally:
        store.stop()
    assert mode == "remove"
    assert [(ok, reason) for ok, reason, _ in answers] == [
        (True, "mode_add"), (True, "added"), (True, "added"), (False, "duplicate_serial")]
    assert "SO-1001 line 2" in answers[1][2]


def test_a_bounce_is_one_scan_not_a_duplicate(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)

    async def scenario() -> list[tuple[bool, str, str]]:
        async with running_station(config, order="SO-1001") as (_svc, events):
            pty_pair.write(b"SN-1\rSN-1\rSN-2\r")
            return [((e := (await next_event(events, DecisionMade)).entry).accepted, e.reason,
                     e.serial or "") for _ in range(2)]

    try:
        answers = asyncio.run(scenario())
    finally:
        store.stop()
    assert answers == [(True, "added", "SN-1"), (True, "added", "SN-2")]


def test_scans_held_behind_a_failing_order_open_are_still_answered(
    tmp_path: Path, pty_pair: Pty
) -> None:
    from drivers.base import RawScan
    from gateway.service import StationService
    from scangw.broker import free_port

    config = station_config(tmp_path, BrokerConfig(port=free_port()), new_site(),
                            pty_pair.path)

    async def broken_fetch(order_id: str) -> list[Any]:
        raise RuntimeError(f"bug while fetching {order_id}")

    async def scenario() -> list[tuple[bool, str]]:
        service = StationService(config)
        events = service.events.subscribe()
        await service.start()
        try:
            service.workflow._fetch_order = broken_fetch  # inject the fault
            service.on_scan(RawScan("gun", b"SO-1001"))
            service.on_scan(RawScan("gun", b"SN-HELD"))
            return [((e := (await next_event(events, DecisionMade)).entry).accepted, e.reason)
                    for _ in range(2)]
        finally:
            await service.stop()

    assert asyncio.run(scenario()) == [(False, "internal_error"), (False, "no_document")]
