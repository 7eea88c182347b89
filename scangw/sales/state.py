"""The ledger's in-memory tables and the one mutation point, ``put``.

Every change goes through ``put``, which also appends the record to
``changes``: the storage layer upserts exactly those rows by ``key``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import (
    Customer,
    DocumentKind,
    DocumentStatus,
    Invoice,
    InvoiceLine,
    Item,
    LineStatus,
    OrderLine,
    PackingSlip,
    PackingSlipLine,
    Record,
    Registration,
    ReturnLine,
    ReturnOrder,
    SalesOrder,
    SlipStatus,
    TrackingGroup,
)

K = TypeVar("K")
V = TypeVar("V")


def _line_of(record: Registration) -> tuple[DocumentKind, str, int]:
    return (record.document_kind, record.document_id, record.line_number)


class LiveSerials(Sequence[str | None]):
    """A document line's live registrations as ``decide_scan`` reads them: its
    length and ``in`` come from the line's counts, without building the list."""

    __slots__ = ("_counts", "_total")

    def __init__(self) -> None:
        self._counts: Counter[str | None] = Counter()
        self._total = 0

    def step(self, serial: str | None, by: int) -> None:
        self._counts[serial] += by
        self._total += by
        if self._counts[serial] <= 0:
            del self._counts[serial]

    def __contains__(self, serial: object) -> bool:
        return serial in self._counts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LiveSerials) and self._counts == other._counts

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return self._total

    def __iter__(self) -> Iterator[str | None]:
        return self._counts.elements()

    @overload
    def __getitem__(self, at: int) -> str | None: ...
    @overload
    def __getitem__(self, at: slice) -> Sequence[str | None]: ...
    def __getitem__(self, at: int | slice) -> str | Sequence[str | None] | None:
        return list(self._counts.elements())[at]

@dataclass
class _Index:
    """Lookups kept in step by ``LedgerState.put``; only id fields are indexed,
    and those never change on a record."""

    children: defaultdict[tuple[str, str], set[tuple[str, int]]] = field(
        default_factory=lambda: defaultdict(set))
    """(line type, order/slip/invoice/return id) -> keys of its lines."""
    documents: defaultdict[tuple[str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set))
    """("slip" | "invoice", order id) -> document ids."""
    by_line: defaultdict[tuple[DocumentKind, str, int], set[str]] = field(
        default_factory=lambda: defaultdict(set))
    by_serial: defaultdict[str | None, set[str]] = field(
        default_factory=lambda: defaultdict(set))
    by_order_line: defaultdict[tuple[str, int], set[str]] = field(
        default_factory=lambda: defaultdict(set))

    def _entries(self, record: Record) -> list[tuple[defaultdict[Any, Any], Any, Any]]:
        """(index, key, value) triples the record appears under."""
        match record:
            case OrderLine() | PackingSlipLine() | InvoiceLine() | ReturnLine():
                return [(self.children, (type(record).__name__, record.key[0]), record.key)]
            case PackingSlip():
                return [(self.documents, ("slip", record.order_id), record.id)]
            case Invoice():
                return [(self.documents, ("invoice", record.order_id), record.id)]
            case Registration():
                found: list[tuple[defaultdict[Any, Any], Any, Any]] = [
                    (self.by_line, (record.document_kind, record.document_id,
                                    record.line_number), record.id),
                    (self.by_serial, record.serial, record.id),
                ]
                if record.order_id is not None:
                    found.append((self.by_order_line, (record.order_id, record.line_number),
                                  record.id))
                return found
            case _:
                return []

    def lines(self, line_type: str, parent_id: str) -> list[tuple[str, int]]:
        """Keys of the lines of one order or document, by line number."""
        return sorted(self.children.get((line_type, parent_id), ()))

    live_on_line: defaultdict[tuple[DocumentKind, str, int], LiveSerials] = field(
        default_factory=lambda: defaultdict(LiveSerials))
    """Live serials (None: not-readable blanks) of each document line, counted, so
    deciding a scan on a line of thousands stays O(1)."""

    def add(self, record: Record) -> None:
        for index, key, value in self._entries(record):
            index[key].add(value)
        if isinstance(record, Registration) and record.live:
            self.live_on_line[_line_of(record)].step(record.serial, +1)

    def drop(self, record: Record) -> None:
        for index, key, value in self._entries(record):
            index[key].discard(value)
        if isinstance(record, Registration) and record.live:
            line = _line_of(record)
            self.live_on_line[line].step(record.serial, -1)
            if not self.live_on_line[line]:
                del self.live_on_line[line]


def _lookup(table: dict[K, V], key: K, what: str) -> V:
    try:
        return table[key]
    except KeyError:
        shown = key[-1] if isinstance(key, tuple) else key
        raise SalesRuleError(Reason.UNKNOWN_RECORD, f"no {what} {shown}") from None


def registration_number(registration: Registration) -> tuple[int, str]:
    """Sort key in creation order (ids are ``REG-<n>``)."""
    tail = registration.id.rpartition("-")[2]
    return (int(tail) if tail.isdigit() else 0, registration.id)


def in_registration_order(registrations: Iterable[Registration]) -> Iterator[Registration]:
    """Registrations in creation order."""
    return iter(sorted(registrations, key=registration_number))


@dataclass
class LedgerState:
    """Tables keyed like their records; ``changes`` lists rows not yet persisted."""

    groups: dict[str, TrackingGroup] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    orders: dict[str, SalesOrder] = field(default_factory=dict)
    order_lines: dict[tuple[str, int], OrderLine] = field(default_factory=dict)
    slips: dict[str, PackingSlip] = field(default_factory=dict)
    slip_lines: dict[tuple[str, int], PackingSlipLine] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    invoice_lines: dict[tuple[str, int], InvoiceLine] = field(default_factory=dict)
    returns: dict[str, ReturnOrder] = field(default_factory=dict)
    return_lines: dict[tuple[str, int], ReturnLine] = field(default_factory=dict)
    registrations: dict[str, Registration] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    changes: list[Record] = field(default_factory=list)
    index: _Index = field(default_factory=_Index)

    def table(self, record: Record) -> dict[Any, Any]:
        """The table a record belongs in."""
        tables: dict[type, dict[Any, Any]] = {
            TrackingGroup: self.groups, Item: self.items, Customer: self.customers,
            SalesOrder: self.orders, OrderLine: self.order_lines, PackingSlip: self.slips,
            PackingSlipLine: self.slip_lines, Invoice: self.invoices,
            InvoiceLine: self.invoice_lines, ReturnOrder: self.returns,
            ReturnLine: self.return_lines, Registration: self.registrations,
        }
        return tables[type(record)]

    def put(self, record: Record, *, track: bool = True) -> None:
        """Insert or replace ``record``; the single place the ledger changes."""
        table = self.table(record)
        old = table.get(record.key)
        if old is not None:
            self.index.drop(old)
        table[record.key] = record
        self.index.add(record)
        if track:
            self.changes.append(record)
        if isinstance(record, PackingSlip | Invoice | ReturnOrder | Registration):
            prefix, _, number = record.id.rpartition("-")
            if number.isdigit():
                self.counters[prefix] = max(self.counters.get(prefix, 0), int(number))

    def next_id(self, prefix: str) -> str:
        """The next free id with ``prefix`` (``PS-3``); ``put`` keeps counters in step."""
        return f"{prefix}-{self.counters.get(prefix, 0) + 1}"

    # Lookups that refuse unknown ids with the offending value.

    def group(self, group_id: str) -> TrackingGroup:
        return _lookup(self.groups, group_id, "tracking group")

    def item(self, item_id: str) -> Item:
        return _lookup(self.items, item_id, "item")

    def customer(self, customer_id: str) -> Customer:
        return _lookup(self.customers, customer_id, "customer")

    def order(self, order_id: str) -> SalesOrder:
        return _lookup(self.orders, order_id, "sales order")

    def order_line(self, order_id: str, line_number: int) -> OrderLine:
        return _lookup(self.order_lines, (order_id, line_number), f"{order_id} line")

    def slip(self, slip_id: str) -> PackingSlip:
        return _lookup(self.slips, slip_id, "packing slip")

    def slip_line(self, slip_id: str, line_number: int) -> PackingSlipLine:
        return _lookup(self.slip_lines, (slip_id, line_number), f"packing slip {slip_id} line")

    def invoice(self, invoice_id: str) -> Invoice:
        return _lookup(self.invoices, invoice_id, "invoice")

    def invoice_line(self, invoice_id: str, line_number: int) -> InvoiceLine:
        return _lookup(self.invoice_lines, (invoice_id, line_number), f"invoice {invoice_id} line")

    def return_order(self, return_id: str) -> ReturnOrder:
        return _lookup(self.returns, return_id, "return order")

    def return_line(self, return_id: str, line_number: int) -> ReturnLine:
        return _lookup(self.return_lines, (return_id, line_number), f"return {return_id} line")

    # Queries the rules share.

    def lines_of_order(self, order_id: str) -> list[OrderLine]:
        return [self.order_lines[k] for k in self.index.lines("OrderLine", order_id)]

    def lines_of_slip(self, slip_id: str) -> list[PackingSlipLine]:
        return [self.slip_lines[k] for k in self.index.lines("PackingSlipLine", slip_id)]

    def lines_of_invoice(self, invoice_id: str) -> list[InvoiceLine]:
        return [self.invoice_lines[k] for k in self.index.lines("InvoiceLine", invoice_id)]

    def lines_of_return(self, return_id: str) -> list[ReturnLine]:
        return [self.return_lines[k] for k in self.index.lines("ReturnLine", return_id)]

    def _registrations(self, ids: Iterable[str]) -> list[Registration]:
        return list(in_registration_order(self.registrations[i] for i in ids))

    def registrations_on(
        self, kind: DocumentKind, document_id: str, line_number: int, *, live: bool = True
    ) -> list[Registration]:
        """Registrations of one document line in registration order."""
        found = self._registrations(self.index.by_line[(kind, document_id, line_number)])
        return [r for r in found if r.live or not live]

    def registrations_of_serial(self, serial: str) -> list[Registration]:
        """Every registration (any item, kind, status) of ``serial``, oldest first."""
        return self._registrations(self.index.by_serial[serial])

    def sale_registrations(self, order_id: str, line_number: int) -> list[Registration]:
        """Every packing-slip registration of an order line, oldest first."""
        return self._registrations(self.index.by_order_line[(order_id, line_number)])

    def live_sale(self, item_id: str, serial: str) -> list[Registration]:
        """Live packing-slip registrations of ``serial`` for ``item_id`` (R17)."""
        return [
            r for r in self.registrations_of_serial(serial)
            if r.live and r.document_kind is DocumentKind.PACKING_SLIP and r.item_id == item_id
        ]

    def slips_of_order(self, order_id: str) -> list[PackingSlip]:
        return [self.slips[i] for i in sorted(self.index.documents[("slip", order_id)])]

    def invoices_of_order(self, order_id: str) -> list[Invoice]:
        return [self.invoices[i] for i in sorted(self.index.documents[("invoice", order_id)])]

    def invoiced(self, registration: Registration) -> bool:
        """True once the registration is on a posted invoice (R10, R11)."""
        if registration.invoice_id is None:
            return False
        return self.invoice(registration.invoice_id).status is DocumentStatus.POSTED

    def shipped_quantity(self, order_id: str, line_number: int) -> int:
        """Units of the order line on posted, not reversed packing-slip lines."""
        lines = [
            self.slip_lines.get((slip.id, line_number)) for slip in self.slips_of_order(order_id)
            if slip.status is not SlipStatus.DRAFT
        ]
        return sum(ln.quantity for ln in lines if ln is not None and ln.status is LineStatus.LIVE)

    def invoiced_quantity(self, order_id: str, line_number: int, *, posted: bool = True) -> int:
        """Units of the order line on posted invoices (or on posted and draft ones)."""
        counted = {DocumentStatus.POSTED} if posted else {DocumentStatus.POSTED,
                                                          DocumentStatus.DRAFT}
        lines = [
            self.invoice_lines.get((invoice.id, line_number))
            for invoice in self.invoices_of_order(order_id) if invoice.status in counted
        ]
        return sum(ln.quantity for ln in lines if ln is not None)
