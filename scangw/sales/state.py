"""The ledger's in-memory tables and the one mutation point, ``put``.

Every change goes through ``put``, which also appends the record to
``changes``: the storage layer upserts exactly those rows by ``key``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
        self.table(record)[record.key] = record
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
        return sorted(
            (ln for ln in self.order_lines.values() if ln.order_id == order_id),
            key=lambda ln: ln.line_number,
        )

    def lines_of_slip(self, slip_id: str) -> list[PackingSlipLine]:
        return sorted(
            (ln for ln in self.slip_lines.values() if ln.slip_id == slip_id),
            key=lambda ln: ln.line_number,
        )

    def lines_of_invoice(self, invoice_id: str) -> list[InvoiceLine]:
        return sorted(
            (ln for ln in self.invoice_lines.values() if ln.invoice_id == invoice_id),
            key=lambda ln: ln.line_number,
        )

    def lines_of_return(self, return_id: str) -> list[ReturnLine]:
        return sorted(
            (ln for ln in self.return_lines.values() if ln.return_id == return_id),
            key=lambda ln: ln.line_number,
        )

    def registrations_on(
        self, kind: DocumentKind, document_id: str, line_number: int, *, live: bool = True
    ) -> list[Registration]:
        """Registrations of one document line in registration order."""
        return [
            r for r in in_registration_order(self.registrations.values())
            if r.document_kind is kind and r.document_id == document_id
            and r.line_number == line_number and (r.live or not live)
        ]

    def live_sale(self, item_id: str, serial: str) -> list[Registration]:
        """Live packing-slip registrations of ``serial`` for ``item_id`` (R17)."""
        return [
            r for r in self.registrations.values()
            if r.live and r.document_kind is DocumentKind.PACKING_SLIP
            and r.item_id == item_id and r.serial == serial
        ]

    def invoiced(self, registration: Registration) -> bool:
        """True once the registration is on a posted invoice (R10, R11)."""
        if registration.invoice_id is None:
            return False
        return self.invoice(registration.invoice_id).status is DocumentStatus.POSTED

    def shipped_quantity(self, order_id: str, line_number: int) -> int:
        """Units of the order line on posted, not reversed packing-slip lines."""
        return sum(
            ln.quantity for ln in self.slip_lines.values()
            if ln.line_number == line_number and ln.status is LineStatus.LIVE
            and self.slips[ln.slip_id].order_id == order_id
            and self.slips[ln.slip_id].status is not SlipStatus.DRAFT
        )

    def invoiced_quantity(self, order_id: str, line_number: int, *, posted: bool = True) -> int:
        """Units of the order line on posted invoices (or on posted and draft ones)."""
        counted = {DocumentStatus.POSTED} if posted else {DocumentStatus.POSTED,
                                                          DocumentStatus.DRAFT}
        return sum(
            ln.quantity for ln in self.invoice_lines.values()
            if ln.line_number == line_number
            and self.invoices[ln.invoice_id].order_id == order_id
            and self.invoices[ln.invoice_id].status in counted
        )

def _lookup(table: dict[K, V], key: K, what: str) -> V:
    try:
        return table[key]
    except KeyError:
        shown = key[-1] if isinstance(key, tuple) else key
        raise SalesRuleError(Reason.UNKNOWN_RECORD, f"no {what} {shown}") from None


def in_registration_order(registrations: Iterable[Registration]) -> Iterator[Registration]:
    """Registrations in creation order (ids are ``REG-<n>``)."""
    def number(r: Registration) -> tuple[int, str]:
        tail = r.id.rpartition("-")[2]
        return (int(tail) if tail.isdigit() else 0, r.id)

    return iter(sorted(registrations, key=number))
