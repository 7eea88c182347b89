"""Importing master data and sales orders from CSV and JSON, all or nothing.

Every bad row is collected and reported as ``FILE:ROW: column: problem (hint)``
in one ``ImportDataError``; nothing is returned or loaded unless every row is
good. CSV rows are numbered like a spreadsheet (header = row 1); JSON rows are
paths such as ``orders[0].lines[2]``.

CSV: one file per kind, named after it (``groups.csv``, ``items.csv``,
``customers.csv``, ``orders.csv`` with one row per order line). JSON: one object
with any of the lists ``groups``, ``items``, ``customers``, ``orders`` (each
order carrying its ``lines``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

from biip import ParseError
from biip.gtin import Gtin
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from scangw.sales.checks import check_batch
from scangw.sales.ledger import SalesLedger
from scangw.sales.reasons import SalesRuleError
from scangw.sales.records import Customer, Item, OrderLine, Record, SalesOrder, TrackingGroup

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                      pattern=r"^\S+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Positive = Annotated[int, Field(ge=1)]


def _gtin14(value: str) -> str:
    """A GTIN normalised to 14 digits; biip checks length and check digit (G3)."""
    try:
        return Gtin.parse(value.strip()).as_gtin_14()
    except ParseError as error:
        raise ValueError(str(error)) from None


GtinText = Annotated[str, AfterValidator(_gtin14)]


class Kind(StrEnum):
    GROUPS = "groups"
    ITEMS = "items"
    CUSTOMERS = "customers"
    ORDERS = "orders"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupRow(_Row):
    id: Id
    name: Name
    active_in_sales_process: bool = False
    serial_number_control: bool = False
    blank_issue_allowed: bool = False


class ItemRow(_Row):
    id: Id
    name: Name
    group_id: Id
    catch_weight: bool = False
    gtins: list[GtinText] = Field(default_factory=list)
    warranty_days: Positive | None = None
    warranty_months: Positive | None = None


class CustomerRow(_Row):
    id: Id
    name: Name


class OrderLineRow(_Row):
    """One CSV row of ``orders.csv``: an order line with its order's head."""

    order_id: Id
    customer_id: Id
    line_number: Positive
    item_id: Id
    quantity: Positive


class JsonOrderHead(_Row):
    id: Id
    customer_id: Id
    lines: list[Any] = Field(min_length=1)


class JsonOrderLine(_Row):
    line_number: Positive
    item_id: Id
    quantity: Positive


R = TypeVar("R", bound=_Row)
MODELS: dict[Kind, type[_Row]] = {
    Kind.GROUPS: GroupRow, Kind.ITEMS: ItemRow, Kind.CUSTOMERS: CustomerRow,
    Kind.ORDERS: OrderLineRow,
}

HINTS = {
    "id": "an id without spaces, e.g. TV-55",
    "order_id": "an order id without spaces, e.g. SO-1001",
    "customer_id": "a customer id from customers, e.g. C1",
    "group_id": "a tracking group id from groups, e.g. SERIAL",
    "item_id": "an item id from items, e.g. TV-55",
    "name": "a name of 1 to 200 characters",
    "line_number": "a whole number of 1 or more, e.g. 1",
    "quantity": "a whole number of 1 or more, e.g. 5",
    "warranty_days": "a whole number of days, e.g. 365, or empty",
    "warranty_months": "a whole number of months, e.g. 24, or empty",
    "gtins": "GTINs with a valid check digit separated by ';', e.g. 09521101530001",
    "lines": "a list of {line_number, item_id, quantity}",
}
BOOL_HINT = "true or false"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One bad row: where it is, which column, what is wrong, how to fix it."""

    source: str
    row: str
    column: str
    problem: str
    hint: str = ""

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.source}:{self.row}: {self.column}: {self.problem}{hint}"


class ImportDataError(ValueError):
    """Nothing was imported; ``problems`` lists every bad row."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"import rejected, {len(self.problems)} problem(s), nothing loaded:\n"
                         f"{lines}")


@dataclass
class ImportBatch:
    """Validated records, with where each came from for later error reports."""

    groups: list[TrackingGroup] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    orders: list[SalesOrder] = field(default_factory=list)
    order_lines: list[OrderLine] = field(default_factory=list)
    origins: dict[int, tuple[str, str]] = field(default_factory=dict)
    """id(record) -> (source, row): duplicates keep their own rows."""

    def records(self) -> list[Record]:
        """Records in an order that keeps references valid."""
        return [*self.groups, *self.items, *self.customers, *self.orders, *self.order_lines]

    def add(self, record: Record, source: str, row: str) -> None:
        targets: dict[type, list[Any]] = {
            TrackingGroup: self.groups, Item: self.items, Customer: self.customers,
            SalesOrder: self.orders, OrderLine: self.order_lines,
        }
        targets[type(record)].append(record)
        self.origins[id(record)] = (source, row)

    def origin(self, record: object) -> tuple[str, str]:
        """(source, row) a record of this batch came from."""
        return self.origins.get(id(record), ("<batch>", "-"))

    def extend(self, other: ImportBatch) -> None:
        for record in other.records():
            self.add(record, *other.origin(record))


def _problems(error: ValidationError, source: str, row: str) -> list[ImportProblem]:
    found = []
    for detail in error.errors():
        loc = detail["loc"]
        column = str(loc[0]) if loc else "row"
        problem = detail["msg"].removeprefix("Value error, ").rstrip(".")
        if len(loc) > 1:
            problem = f"entry {loc[1]}: {problem}" if isinstance(loc[1], str) else \
                f"value {int(loc[1]) + 1}: {problem}"
        hint = BOOL_HINT if detail["type"] == "bool_parsing" else HINTS.get(column, "")
        if detail["type"] == "extra_forbidden":
            problem = f"unknown column {column!r}"
        elif detail["type"] != "missing" and repr(detail.get("input")) not in problem:
            problem = f"{problem}, got {detail.get('input')!r}"
        found.append(ImportProblem(source, row, column, problem, hint))
    return found


@dataclass
class _Reader:
    """Collects the records and the problems of one file."""

    source: str
    batch: ImportBatch = field(default_factory=ImportBatch)
    problems: list[ImportProblem] = field(default_factory=list)

    def problem(self, at: str, column: str, problem: str, hint: str = "") -> None:
        self.problems.append(ImportProblem(self.source, at, column, problem, hint))

    def parse(self, model: type[R], raw: object, at: str) -> R | None:
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            self.problems.extend(_problems(error, self.source, at))
            return None

    def validate(self, kind: Kind, raw: Mapping[str, Any], at: str) -> None:
        row = self.parse(MODELS[kind], raw, at)
        if row is not None:
            self.record(row, at)

    def record(self, row: _Row, at: str) -> None:
        batch, source = self.batch, self.source
        if isinstance(row, GroupRow):
            batch.add(TrackingGroup(row.id, row.name, row.active_in_sales_process,
                                    row.serial_number_control, row.blank_issue_allowed),
                      source, at)
        elif isinstance(row, ItemRow):
            batch.add(Item(row.id, row.name, row.group_id, row.catch_weight,
                           tuple(row.gtins), row.warranty_days, row.warranty_months),
                      source, at)
        elif isinstance(row, CustomerRow):
            batch.add(Customer(row.id, row.name), source, at)
        elif isinstance(row, OrderLineRow):
            order = next((o for o in batch.orders if o.id == row.order_id), None)
            if order is None:
                batch.add(SalesOrder(row.order_id, row.customer_id), source, at)
            elif order.customer_id != row.customer_id:
                self.problem(at, "customer_id",
                             f"order {row.order_id} already has customer {order.customer_id}",
                             "give every line of one order the same customer_id")
            batch.add(OrderLine(row.order_id, row.line_number, row.item_id, row.quantity),
                      source, at)

    def json_order(self, raw: Mapping[str, Any], at: str) -> None:
        head = self.parse(JsonOrderHead, raw, at)
        for index, line in enumerate(head.lines if head is not None else []):
            line_at = f"{at}.lines[{index}]"
            row = self.parse(JsonOrderLine, line, line_at)
            if head is not None and row is not None:
                self.record(OrderLineRow(order_id=head.id, customer_id=head.customer_id,
                                         **row.model_dump()), line_at)

    def done(self) -> ImportBatch:
        if self.problems:
            raise ImportDataError(self.problems)
        return self.batch


def parse_csv(text: str, kind: Kind | str, source: str = "<csv>") -> ImportBatch:
    """Parse one CSV file of ``kind``; empty cells mean the column's default.

    Rows are checked one by one; references across files are checked by
    ``read_files``.
    """
    return _read_csv(text, Kind(kind), source).done()


def parse_json(text: str, source: str = "<json>") -> ImportBatch:
    """Parse one JSON document holding lists named after the kinds."""
    return _read_json(text, source).done()


def _read_csv(text: str, kind: Kind, source: str) -> _Reader:
    out = _Reader(source)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    model = MODELS[kind]
    header = [name.strip() for name in reader.fieldnames or []]
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [name for name in required if name not in header]
    if missing:
        out.problem("1", "header", f"missing column(s) {', '.join(missing)}",
                    f"the header needs {', '.join(model.model_fields)}")
        return out
    for raw in reader:
        at = str(reader.line_num)
        if None in raw:
            out.problem(at, "row", "more cells than header columns",
                        "quote cells that contain commas")
            continue
        cells: dict[str, Any] = {
            k.strip(): v.strip() for k, v in raw.items() if v is not None and v.strip() != ""
        }
        if not cells:
            continue
        if "gtins" in cells:
            cells["gtins"] = [g for g in cells["gtins"].replace(",", ";").split(";") if g.strip()]
        out.validate(kind, cells, at)
    return out


def _read_json(text: str, source: str) -> _Reader:
    out = _Reader(source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        out.problem(f"line {error.lineno}", "json", error.msg, "check the JSON syntax")
        return out
    if not isinstance(data, dict):
        out.problem("top", "json", "expected an object", 'e.g. {"items": [...]}')
        return out
    for name in data:
        if name not in {kind.value for kind in Kind}:
            out.problem(name, "json", f"unknown list {name!r}", f"use {', '.join(Kind)}")
    for kind in Kind:
        rows = data.get(kind.value, [])
        if not isinstance(rows, list):
            out.problem(kind.value, "json", "expected a list")
            continue
        for index, raw in enumerate(rows):
            at = f"{kind.value}[{index}]"
            if not isinstance(raw, dict):
                out.problem(at, "row", "expected an object")
            elif kind is Kind.ORDERS:
                out.json_order(raw, at)
            else:
                out.validate(kind, raw, at)
    return out


def read_files(paths: Iterable[str | Path], known: Iterable[Record] = ()) -> ImportBatch:
    """Read CSV (kind from the file name) and JSON files as one batch.

    Checks references across the files and against ``known`` records (e.g.
    ``SalesLedger.records()``); raises one ``ImportDataError`` listing every
    problem in every file.
    """
    batch, problems = ImportBatch(), []
    for path in map(Path, paths):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(ImportProblem(path.name, "-", "file", str(error),
                                          "check the path and that the file is UTF-8 text"))
            continue
        if path.suffix.lower() == ".json":
            part = _read_json(text, path.name)
        elif (kind := _kind_of(path)) is not None:
            part = _read_csv(text, kind, path.name)
        else:
            problems.append(ImportProblem(
                path.name, "-", "file", f"cannot tell what {path.name} holds from its name",
                f"name CSV files {', '.join(f'{k}.csv' for k in Kind)}"))
            continue
        problems.extend(part.problems)
        batch.extend(part.batch)
    for found in check_batch(batch.records(), known):
        source, row = batch.origin(found.record)
        problems.append(ImportProblem(source, row, found.column, found.problem, found.hint))
    if problems:
        raise ImportDataError(problems)
    return batch


def _kind_of(path: Path) -> Kind | None:
    stem = path.stem.lower()
    for kind in Kind:
        if stem == kind.value or stem.endswith(f"_{kind.value}") or stem.startswith(kind.value):
            return kind
    return None


def load_into(ledger: SalesLedger, batch: ImportBatch) -> None:
    """Define the batch's records on ``ledger``, all or nothing.

    The batch is first loaded into a copy; a refusal there (e.g. R1 on a group
    with transactions) is reported with its file and row and ``ledger`` is
    left untouched. ``ledger.take_changes()`` then lists the rows to persist.
    """
    problems = [
        ImportProblem(*batch.origin(found.record), found.column, found.problem, found.hint)
        for found in check_batch(batch.records(), ledger.records())
    ]
    if problems:
        raise ImportDataError(problems)
    try:
        ledger.define_records(batch.records())
    except SalesRuleError as error:
        where = batch.origin(error.record)
        raise ImportDataError([ImportProblem(*where, str(error.reason), error.message)]) from None
