"""``scangw store import`` and ``scangw store export`` on both backends."""

from __future__ import annotations

import argparse
import csv
import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from orderstore.admin import add_store_tools
from orderstore.config import StoreSection
from orderstore.database import StoreDatabase
from orderstore.export import EXPORTS, export
from orderstore.registrations import apply_batches
from tests.store.test_storage import batch
from tests.store_backends import StoreBackend

pytestmark = pytest.mark.usefixtures("store_backend")
SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample-data"
STATION_ROWS = 2500
"""More than one streamed chunk (1000 rows)."""


def _tools(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scangw")
    sub = parser.add_subparsers(dest="command", required=True)
    add_store_tools(sub.add_parser("store"))
    return parser.parse_args(["store", *args])


@pytest.fixture
def config(tmp_path: Path, store_backend: StoreBackend) -> Path:
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump({"store": {
        "sites": ["dc-1"], **store_backend.section(tmp_path / "store.db")}}))
    return path


def _sell(config: Path) -> None:
    """Two serials scanned and posted on SO-1001, invoiced; a draft left on SO-1002."""
    section = StoreSection.model_validate(yaml.safe_load(config.read_text())["store"])
    db = StoreDatabase(section)
    try:
        got = apply_batches(db, "dc-1", [batch("p1", [1, 2], ["SN-1", "SN-2"], "SO-1001")])
        assert [a.reason for a in got.acks[0]] == ["wrong_item", "wrong_item"]
        with db.write() as ledger:
            slip = ledger.open_packing_slip("SO-1001", {1: 2})
            for serial in ("SN-1", "SN-2"):
                assert ledger.register(slip.id, 1, serial).accepted
            ledger.post_packing_slip(slip.id, date(2026, 11, 2))
            invoice = ledger.open_invoice("SO-1001", {1: 2})
            ledger.select_packing_slip(invoice.id, slip.id)
            ledger.post_invoice(invoice.id, date(2026, 11, 3))
            ledger.open_packing_slip("SO-1002")  # a draft: not exported
        db.db.executemany(
            "INSERT INTO station_registrations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(f"{n:032x}", "dc-1", "p9", "e" * 32, n, "gun", "SO-1001", 1, "PHONE-X1", "add",
              f"X-{n}", "2026-11-02T10:00:00+00:00", "2026-11-02T10:00:01+00:00", None,
              "refused", "duplicate_serial", "m") for n in range(1, STATION_ROWS + 1)])
    finally:
        db.close()


def test_import_then_export_as_csv_and_json(config: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(SAMPLE / f"{k}.csv") for k in ("groups", "items", "customers", "orders")]
    args = _tools(["import", "--config", str(config), *files])
    assert args.func(args) == 0
    assert "2 Customer" in capsys.readouterr().out
    _sell(config)
    for fmt in ("csv", "json"):
        args = _tools(["export", "--config", str(config), "--format", fmt,
                       "--out", str(tmp_path / fmt), "--quiet"])
        assert args.func(args) == 0
    out = capsys.readouterr().out
    assert f"{STATION_ROWS + 2:>9} station_registrations.csv" in out
    for kind in EXPORTS:
        with (tmp_path / "csv" / f"{kind.name}.csv").open(newline="") as f:
            as_csv = list(csv.DictReader(f))
        as_json = json.loads((tmp_path / "json" / f"{kind.name}.json").read_text())
        assert as_json, f"{kind.name} should not be empty here"
        assert list(as_json[0]) == list(kind.columns)
        assert [{k: "" if v is None else str(v) for k, v in r.items()} for r in as_json] == \
            as_csv, kind.name
    slips = json.loads((tmp_path / "json" / "packing_slips.json").read_text())
    assert [(s["order_id"], s["status"], s["posted_on"]) for s in slips] == [
        ("SO-1001", "posted", "2026-11-02")]
    lines = json.loads((tmp_path / "json" / "packing_slip_lines.json").read_text())
    assert [(ln["line_number"], ln["quantity"]) for ln in lines] == [(1, 2)]
    regs = json.loads((tmp_path / "json" / "registrations.json").read_text())
    assert sorted((r["serial"], r["status"], r["invoice_id"] is not None) for r in regs) == [
        ("SN-1", "live", True), ("SN-2", "live", True)]
    invoices = json.loads((tmp_path / "json" / "invoices.json").read_text())
    assert [(i["order_id"], i["status"]) for i in invoices] == [("SO-1001", "posted")]


def test_the_progress_bar_counts_every_row(config: Path, tmp_path: Path) -> None:
    from rich.console import Console

    from orderstore.backends import open_backend
    from orderstore.export import progress_bar

    files = [str(SAMPLE / f"{k}.csv") for k in ("groups", "items", "customers", "orders")]
    args = _tools(["import", "--config", str(config), *files])
    assert args.func(args) == 0
    _sell(config)
    section = StoreSection.model_validate(yaml.safe_load(config.read_text())["store"])
    db = open_backend(section)
    try:
        with (tmp_path / "bar.txt").open("w") as screen, \
                progress_bar(Console(file=screen, width=100, force_terminal=True)) as bar:
            written = export(db, tmp_path / "out", "csv", progress=bar)
    finally:
        db.close()
    assert "station_registrations" in (tmp_path / "bar.txt").read_text()
    assert written["station_registrations"] == STATION_ROWS + 2
    assert {t.description: (t.completed, t.total) for t in bar.tasks}[
        "station_registrations"] == (STATION_ROWS + 2, STATION_ROWS + 2)


def test_a_bad_import_changes_nothing_and_says_where(config: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,customer_id,line_number,item_id,quantity\nSO-1,C-404,1,X,1\n")
    args = _tools(["import", "--config", str(config), str(bad)])
    assert args.func(args) == 1
    assert "orders.csv" in capsys.readouterr().err
