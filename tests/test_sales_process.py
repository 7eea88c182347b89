"""The whole sales process with real parts: import, scan at a station, POST,
office corrections and invoicing by CLI, inquiry, trace and printing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.events import DecisionMade
from orderstore.config import StoreConfig
from orderstore.service import StoreService
from scangw.cli import main
from scangw.mqtt import BrokerConfig
from tests.conftest import Pty
from tests.harness import (
    new_site,
    next_event,
    running_station,
    started,
    station_config,
    store_section,
)

pytestmark = pytest.mark.usefixtures("store_backend")

SAMPLE = Path(__file__).resolve().parent.parent / "config" / "sample-data"


@pytest.fixture
def store_files(tmp_path: Path, broker_config: BrokerConfig) -> tuple[Path, str]:
    site = new_site()
    config = {"store": {"id": "store-t", "sites": [site], **store_section(tmp_path / "o.db")},
              "broker": broker_config.model_dump(mode="json")}
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, site


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def _scan(pty: Pty, events: Any, *scans: str) -> list[tuple[bool, str, str]]:
    answers = []
    for text in scans:
        pty.write(text.encode() + b"\r")
        entry = (await next_event(events, DecisionMade)).entry
        answers.append((entry.accepted, entry.reason, entry.message))
    return answers


def test_scan_post_invoice_trace_and_print(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, store_files: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_yaml, site = store_files
    cfg = ["--store-config", str(store_yaml)]
    code, out = _cli(capsys, "orders", "import", *map(str, sorted(SAMPLE.glob("*.csv"))), *cfg)
    assert code == 0, out
    store = started(StoreService(StoreConfig.model_validate(yaml.safe_load(
        store_yaml.read_text()))))
    config = station_config(tmp_path, broker_config, site, pty_pair.path)

    async def pack() -> list[tuple[bool, str, str]]:
        async with running_station(config, order=None) as (_svc, events):
            return await _scan(pty_pair, events, "SO-1001", "SN-A", "SN-B", "SGW-POST",
                               "SGW-NOT-READABLE", "SGW-NEXT-LINE", "DR-1", "DR-2",
                               "SGW-POST", "SN-D")

    try:
        answers = asyncio.run(pack())
    finally:
        store.stop()
    reasons = [(ok, reason) for ok, reason, _ in answers]
    assert reasons == [
        (True, "order_opened"), (True, "added"), (True, "added"),
        (False, "not_enough_serials"),  # R2: 2 of 3 is refused
        (True, "added"),                # R7: a blank counts
        (True, "line_selected"),
        (True, "added"), (True, "added"),
        (True, "posted"),
        (False, "no_document"),         # fully shipped: the order is closed
    ]
    assert "not enough serial numbers registered: 2 of 3" in answers[3][2]
    assert answers[8][2].endswith("the order is fully shipped")
    slip = answers[8][2].split()[2]  # "packing slip PS-n posted for SO-1001; ..."

    # R10: the office fills the blank once the label is readable
    code, out = _cli(capsys, "slip", "change-serial", slip, "1", "-", "SN-C", *cfg)
    assert code == 0, out
    # R8: invoice the phones from the first slip, then trace a serial (R18)
    assert _cli(capsys, "invoice", "open", "SO-1001", "--qty", "1=3", *cfg)[0] == 0
    assert _cli(capsys, "invoice", "select-slip", "INV-1", slip, *cfg)[0] == 0
    code, out = _cli(capsys, "invoice", "post", "INV-1", "--date", "2026-11-02", *cfg)
    assert code == 0, out
    code, out = _cli(capsys, "trace", "SN-C", "--today", "2027-01-01", *cfg)
    assert code == 0, out
    assert "invoice INV-1 on 2026-11-02" in out
    assert "customer C-042 Contoso Retail" in out
    assert "warranty valid until 2028-11-02" in out  # PHONE-X1: 24 months
    code, out = _cli(capsys, "trace", "SN-C", "--today", "2029-01-01", "--json", *cfg)
    assert json.loads(out)[0]["warranty_valid"] is False
    # R13 and R14: the journal line and the printed documents list their serials
    code, out = _cli(capsys, "inquiry", "INV-1", "1", "--json", *cfg)
    assert sorted(json.loads(out)["serials"]) == ["SN-A", "SN-B", "SN-C"]
    code, out = _cli(capsys, "print", slip, *cfg)
    assert code == 0
    assert "DR-1" in out
    assert "DR-2" in out
    pdf = tmp_path / "inv.pdf"
    assert _cli(capsys, "print", "INV-1", "--pdf", str(pdf), *cfg)[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_cancelled_slip_gives_its_serials_to_the_next_draft_without_scanning(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, store_files: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_yaml, site = store_files
    cfg = ["--store-config", str(store_yaml)]
    assert _cli(capsys, "orders", "import", *map(str, sorted(SAMPLE.glob("*.csv"))), *cfg)[0] == 0
    assert _cli(capsys, "slip", "open", "SO-1002", "--qty", "1=2", *cfg)[0] == 0
    store = started(StoreService(StoreConfig.model_validate(yaml.safe_load(
        store_yaml.read_text()))))
    config = station_config(tmp_path, broker_config, site, pty_pair.path)

    async def first() -> list[tuple[bool, str, str]]:
        async with running_station(config, order=None) as (_svc, events):
            return await _scan(pty_pair, events, "SO-1002", "D-1", "D-2", "SGW-POST")

    async def second() -> tuple[list[str | None], list[tuple[bool, str, str]]]:
        async with running_station(config, order=None) as (svc, events):
            answers = await _scan(pty_pair, events, "SO-1002", "D-1")
            line = svc.station.line("SO-1002", 1)
            assert line is not None
            return list(line.serials), answers

    try:
        assert [r for _, r, _ in asyncio.run(first())][-1] == "posted"
        code, out = _cli(capsys, "slip", "cancel", "PS-1", *cfg)  # R11: the whole slip
        assert code == 0, out
        code, out = _cli(capsys, "slip", "correct", "PS-1", "1", *cfg)
        assert code == 1
        assert "already" in out
        serials, answers = asyncio.run(second())
    finally:
        store.stop()
    assert serials[:2] == ["D-1", "D-2"]  # reused, not scanned again
    assert answers[1][:2] == (False, "duplicate_serial")
