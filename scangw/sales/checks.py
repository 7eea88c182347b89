"""Checking a batch of master-data and order records before it is loaded.

Used by the importer to report every problem at once (instead of the ledger's
first refusal), with the same rules the ledger applies (R16, warranty, ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scangw.sales.reasons import SalesRuleError
from scangw.sales.records import Customer, Item, OrderLine, Record, SalesOrder, TrackingGroup
from scangw.sales.rules import check_catch_weight, check_warranty_period


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """What is wrong with one record of a batch, and how to fix it."""

    record: Record
    column: str
    problem: str
    hint: str = ""


def check_batch(batch: Sequence[Record], known: Iterable[Record] = ()) -> list[RecordProblem]:
    """Every duplicate id, dangling reference and rule break in ``batch``.

    ``known`` are records already stored; the batch may refer to them, and may
    not create an order or order line that already exists.
    """
    stored = list(known)
    problems: list[RecordProblem] = []
    seen: dict[tuple[type, Any], Record] = {}
    for record in batch:
        key = (type(record), record.key)
        if key in seen:
            problems.append(RecordProblem(
                record, "id", f"duplicate {_what(record)} {_shown(record.key)}",
                "each id appears once per import"))
        seen[key] = record
        if isinstance(record, SalesOrder | OrderLine) and any(
            type(old) is type(record) and old.key == record.key for old in stored
        ):
            problems.append(RecordProblem(
                record, "id", f"{_what(record)} {_shown(record.key)} already exists",
                "orders are imported once; use a new order id"))
    groups = _latest(TrackingGroup, stored, batch)
    items = _latest(Item, stored, batch)
    customers = _latest(Customer, stored, batch)
    orders = _latest(SalesOrder, stored, batch)
    gtin_owner: dict[str, str] = {}
    for item in items.values():
        for gtin in item.gtins:
            gtin_owner.setdefault(gtin, item.id)
    for record in batch:
        if isinstance(record, Item):
            problems.extend(_check_item(record, groups, gtin_owner))
        elif isinstance(record, SalesOrder) and record.customer_id not in customers:
            problems.append(RecordProblem(
                record, "customer_id", f"unknown customer {record.customer_id!r}",
                _choices(customers)))
        elif isinstance(record, OrderLine):
            if record.item_id not in items:
                problems.append(RecordProblem(
                    record, "item_id", f"unknown item {record.item_id!r}", _choices(items)))
            if record.order_id not in orders:
                problems.append(RecordProblem(
                    record, "order_id", f"unknown order {record.order_id!r}", ""))
    return problems


def _check_item(
    item: Item, groups: dict[str, Any], gtin_owner: dict[str, str]
) -> list[RecordProblem]:
    found = []
    group = groups.get(item.group_id)
    if group is None:
        found.append(RecordProblem(
            item, "group_id", f"unknown tracking group {item.group_id!r}", _choices(groups)))
    else:
        try:
            check_catch_weight(item, group)
        except SalesRuleError as error:
            found.append(RecordProblem(item, "catch_weight", error.message, "R16"))
    try:
        check_warranty_period(item)
    except SalesRuleError as error:
        found.append(RecordProblem(item, "warranty_days", error.message,
                                   "give warranty_days or warranty_months"))
    for gtin in item.gtins:
        if gtin_owner.get(gtin, item.id) != item.id:
            found.append(RecordProblem(
                item, "gtins", f"GTIN {gtin} already belongs to item {gtin_owner[gtin]}",
                "a GTIN identifies one item"))
    return found


def _latest(
    kind: type[Any], stored: Iterable[Record], batch: Iterable[Record]
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for record in (*stored, *batch):
        if isinstance(record, kind):
            found[record.key] = record
    return found


def _what(record: Record) -> str:
    return {
        TrackingGroup: "tracking group", Item: "item", Customer: "customer",
        SalesOrder: "sales order", OrderLine: "order line",
    }.get(type(record), type(record).__name__)


def _shown(key: object) -> str:
    if isinstance(key, tuple):
        return " line ".join(str(part) for part in key)
    return str(key)


def _choices(known: dict[str, Any]) -> str:
    names = sorted(known)
    if not names:
        return "none defined yet"
    more = ", ..." if len(names) > 5 else ""
    return f"known: {', '.join(names[:5])}{more}"
