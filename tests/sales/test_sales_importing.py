"""Importing master data and orders from CSV and JSON, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orderstore.importing import (
    ImportDataError,
    Kind,
    load_into,
    parse_csv,
    parse_json,
    read_files,
)
from scangw.sales import SalesLedger
from scangw.sales.records import Item, OrderLine, TrackingGroup

GROUPS = """id,name,active_in_sales_process,blank_issue_allowed
SER,Serial in sales,true,false
BLANK,Serial blank issue,yes,1
PLAIN,No serials,,
"""
ITEMS = """id,name,group_id,catch_weight,gtins,warranty_days,warranty_months
TV,Television,SER,false,9521101530001,,24
CABLE,"HDMI cable, 2 m",BLANK,,,,
CHEESE,Cheese wheel,PLAIN,true,,,
"""
CUSTOMERS = "id,name\nC1,Contoso Retail\nC2,Fabrikam\n"
ORDERS = """order_id,customer_id,line_number,item_id,quantity
SO-1,C1,1,TV,5
SO-1,C1,2,CABLE,10
SO-2,C2,1,CHEESE,3
"""


@pytest.fixture
def good_files(tmp_path: Path) -> list[Path]:
    files = {"groups.csv": GROUPS, "items.csv": ITEMS, "customers.csv": CUSTOMERS,
             "orders.csv": ORDERS}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [tmp_path / name for name in files]


def test_good_csv_files_give_records(good_files: list[Path]) -> None:
    batch = read_files(good_files)
    assert batch.groups[1] == TrackingGroup("BLANK", "Serial blank issue", True, False, True)
    assert batch.items[0] == Item("TV", "Television", "SER", False, ("09521101530001",),
                                  None, 24)
    assert batch.items[1].name == "HDMI cable, 2 m"
    assert [o.id for o in batch.orders] == ["SO-1", "SO-2"]
    assert batch.order_lines[1] == OrderLine("SO-1", 2, "CABLE", 10)
    assert len(batch.records()) == 3 + 3 + 2 + 2 + 3


def test_good_json_gives_the_same_records(good_files: list[Path], tmp_path: Path) -> None:
    document = {
        "groups": [{"id": "SER", "name": "Serial in sales", "active_in_sales_process": True}],
        "items": [{"id": "TV", "name": "Television", "group_id": "SER",
                   "gtins": ["09521101530001"], "warranty_months": 24}],
        "customers": [{"id": "C1", "name": "Contoso Retail"}],
        "orders": [{"id": "SO-1", "customer_id": "C1",
                    "lines": [{"line_number": 1, "item_id": "TV", "quantity": 5}]}],
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    batch = read_files([path])
    csv_batch = read_files(good_files)
    assert batch.items[0] == csv_batch.items[0]
    assert batch.order_lines == [OrderLine("SO-1", 1, "TV", 5)]


def test_every_bad_csv_row_is_reported_with_file_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "items.csv"
    bad.write_text(
        "id,name,group_id,catch_weight,gtins,warranty_days,colour\n"
        "TV,Television,SER,maybe,9521101530002,,\n"   # row 2: bool, GTIN check digit
        "A B,Lamp,SER,,,0,\n"                          # row 3: id with space, days 0
        "OK,Fine,SER,,,,red\n",                        # row 4: unknown column
        encoding="utf-8",
    )
    with pytest.raises(ImportDataError) as rejected:
        read_files([bad])
    lines = [str(p) for p in rejected.value.problems]
    assert any(line.startswith("items.csv:2: catch_weight: ") and "(true or false)" in line
               for line in lines), lines
    assert any(line.startswith("items.csv:2: gtins: value 1: Invalid GTIN check digit")
               for line in lines)
    assert any(line.startswith("items.csv:3: id: ") for line in lines)
    assert any(line.startswith("items.csv:3: warranty_days: ") for line in lines)
    assert any(line.startswith("items.csv:4: colour: unknown column") for line in lines)
    assert len(lines) == 5
    assert str(rejected.value).count("\n") == 5


def test_every_bad_json_row_is_reported(tmp_path: Path) -> None:
    text = json.dumps({
        "customers": [{"id": "C1", "name": "A"}, {"id": "C2"}],
        "orders": [{"id": "SO-1", "customer_id": "C1",
                    "lines": [{"line_number": 1, "item_id": "TV", "quantity": 0},
                              {"line_number": "x", "item_id": "TV", "quantity": 1}]}],
        "things": [],
    })
    with pytest.raises(ImportDataError) as rejected:
        parse_json(text, "data.json")
    lines = [str(p) for p in rejected.value.problems]
    assert "data.json:things: json: unknown list 'things'" in lines[0]
    assert any(line.startswith("data.json:customers[1]: name: Field required") for line in lines)
    assert any(line.startswith("data.json:orders[0].lines[0]: quantity: ") for line in lines)
    assert any(line.startswith("data.json:orders[0].lines[1]: line_number: ") for line in lines)


def test_broken_json_and_missing_header_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ImportDataError, match=r"data.json:line 1: json: "):
        parse_json("{oops", "data.json")
    with pytest.raises(ImportDataError, match=r"orders.csv:1: header: missing column\(s\) "
                                              r"line_number, quantity"):
        parse_csv("order_id,customer_id,item_id\nSO-1,C1,TV\n", Kind.ORDERS, "orders.csv")


def test_cross_file_references_are_checked(good_files: list[Path], tmp_path: Path) -> None:
    extra = tmp_path / "more_orders.csv"
    extra.write_text("order_id,customer_id,line_number,item_id,quantity\n"
                     "SO-3,C9,1,TV,1\nSO-3,C9,2,RADIO,1\nSO-1,C1,1,TV,1\n", encoding="utf-8")
    bad_items = tmp_path / "items2.json"
    bad_items.write_text(json.dumps({"items": [
        {"id": "HAM", "name": "Ham", "group_id": "SER", "catch_weight": True},
        {"id": "X", "name": "X", "group_id": "NOPE", "gtins": ["09521101530001"]},
    ]}), encoding="utf-8")
    with pytest.raises(ImportDataError) as rejected:
        read_files([*good_files, extra, bad_items])
    lines = [str(p) for p in rejected.value.problems]
    assert any(line.startswith("more_orders.csv:2: customer_id: unknown customer 'C9'")
               for line in lines), lines
    assert any(line.startswith("more_orders.csv:3: item_id: unknown item 'RADIO'")
               for line in lines)
    assert any(line.startswith("more_orders.csv:4: id: duplicate order line SO-1 line 1")
               for line in lines)
    assert any(line.startswith("items2.json:items[0]: catch_weight: ") for line in lines)
    assert any(line.startswith("items2.json:items[1]: group_id: unknown tracking group 'NOPE'")
               for line in lines)
    assert any(line.startswith("items2.json:items[1]: gtins: GTIN 09521101530001 already")
               for line in lines)


def test_load_into_ledger_is_all_or_nothing(good_files: list[Path], tmp_path: Path) -> None:
    ledger = SalesLedger()
    load_into(ledger, read_files(good_files))
    changed = ledger.take_changes()
    assert ledger.open_packing_slip("SO-1").order_id == "SO-1"
    assert any(isinstance(r, TrackingGroup) and r.serial_number_control for r in changed)
    again = tmp_path / "orders.csv"
    again.write_text("order_id,customer_id,line_number,item_id,quantity\n"
                     "SO-9,C1,1,TV,1\n", encoding="utf-8")
    turn_off = tmp_path / "groups.csv"
    turn_off.write_text("id,name\nSER,Serial switched off\n", encoding="utf-8")
    before = ledger.records()
    with pytest.raises(ImportDataError) as rejected:
        load_into(ledger, read_files([turn_off, again], known=ledger.records()))
    assert str(rejected.value.problems[0]).startswith("groups.csv:2: group_has_transactions: ")
    assert ledger.records() == before
    assert "SO-9" not in {r.key for r in ledger.records()}


def test_unreadable_or_unnamed_files_are_reported_with_the_rest(tmp_path: Path) -> None:
    unnamed = tmp_path / "stuff.csv"
    unnamed.write_text("id,name\nC1,A\n", encoding="utf-8")
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nC1,A\nC1,B\n,C\n", encoding="utf-8")
    with pytest.raises(ImportDataError) as rejected:
        read_files([unnamed, tmp_path / "missing.json", customers])
    lines = [str(p) for p in rejected.value.problems]
    assert lines[0].startswith("stuff.csv:-: file: cannot tell what stuff.csv holds")
    assert "customers.csv" in lines[0]
    assert lines[1].startswith("missing.json:-: file: ")
    assert lines[2].startswith("customers.csv:4: id: ")
    assert lines[3].startswith("customers.csv:3: id: duplicate customer C1")
    assert len(lines) == 4
