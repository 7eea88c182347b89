"""``SalesLedger``: the sales rules R1-R18 over in-memory records.

The order store keeps the authoritative ledger and persists what each
operation changed (``take_changes``); the station decides scans with
``decide_scan`` on a ``LineView`` from ``line_view`` and gets the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from scangw.sales.corrections import Corrections
from scangw.sales.inquiry import Inquiry
from scangw.sales.invoicing import Invoicing
from scangw.sales.masterdata import MasterData
from scangw.sales.records import (
    RECORD_TYPES,
    Customer,
    Invoice,
    Item,
    OrderLine,
    PackingSlip,
    PackingSlipLine,
    Record,
    Registration,
    ReturnOrder,
    SalesOrder,
    TrackingGroup,
)
from scangw.sales.returns import ReturnCheck, Returns
from scangw.sales.shipping import Shipping
from scangw.sales.state import LedgerState


class SalesLedger(MasterData, Shipping, Corrections, Invoicing, Returns, Inquiry):
    """All sales-process records and the operations that change them.

    Operations either return the record they created or changed, return a
    ``Decision`` (scans), or raise ``SalesRuleError`` with a reason code; a
    refused operation changes nothing.
    """

    def __init__(self, *, return_check: ReturnCheck = ReturnCheck.WARN) -> None:
        self._state = LedgerState()
        self.return_check = return_check

    @classmethod
    def from_records(
        cls, records: Iterable[Record], *, return_check: ReturnCheck = ReturnCheck.WARN
    ) -> SalesLedger:
        """Rebuild a ledger from stored rows (any order); nothing is marked changed."""
        ledger = cls(return_check=return_check)
        rows = list(records)
        for kind in RECORD_TYPES:
            for record in rows:
                if type(record) is kind:
                    ledger._state.put(record, track=False)
        return ledger

    def define_records(self, records: Iterable[Record]) -> None:
        """Define master data and orders (e.g. imported) all or nothing.

        Groups, items, customers and orders (with their ``OrderLine`` records)
        go through their rule-checked operations, first on a copy: a refusal
        raises ``SalesRuleError`` whose ``record`` is the refused input, and
        this ledger is left untouched.
        """
        rows = list(records)
        SalesLedger.from_records(self.records())._define_all(rows)
        self._define_all(rows)

    def take_changes(self) -> list[Record]:
        """Records created or changed since the last call, oldest first.

        Upsert each by its type and ``key``; a record may appear more than once,
        the later row wins.
        """
        changes, self._state.changes = self._state.changes, []
        return changes

    # Read access by id; each raises SalesRuleError(unknown_record) for a bad id.

    def group(self, group_id: str) -> TrackingGroup:
        return self._state.group(group_id)

    def item(self, item_id: str) -> Item:
        return self._state.item(item_id)

    def customer(self, customer_id: str) -> Customer:
        return self._state.customer(customer_id)

    def order(self, order_id: str) -> SalesOrder:
        return self._state.order(order_id)

    def order_lines(self, order_id: str) -> list[OrderLine]:
        self._state.order(order_id)
        return self._state.lines_of_order(order_id)

    def packing_slip(self, slip_id: str) -> PackingSlip:
        return self._state.slip(slip_id)

    def packing_slips_of_order(self, order_id: str) -> list[PackingSlip]:
        """Every packing slip of the order (any status), oldest first."""
        return sorted(self._state.slips_of_order(order_id),
                      key=lambda s: (len(s.id), s.id))

    def packing_slip_lines(self, slip_id: str) -> list[PackingSlipLine]:
        self._state.slip(slip_id)
        return self._state.lines_of_slip(slip_id)

    def invoice(self, invoice_id: str) -> Invoice:
        return self._state.invoice(invoice_id)

    def return_order(self, return_id: str) -> ReturnOrder:
        return self._state.return_order(return_id)

    def registrations_of_serial(self, serial: str) -> list[Registration]:
        """Every registration of ``serial`` (any item, document or status), oldest first."""
        return self._state.registrations_of_serial(serial)

    def records(self) -> list[Record]:
        """Every current record, in an order that keeps references valid."""
        state = self._state
        tables = (
            state.groups, state.items, state.customers, state.orders, state.order_lines,
            state.slips, state.slip_lines, state.invoices, state.invoice_lines, state.returns,
            state.return_lines, state.registrations,
        )
        return [record for table in tables for record in table.values()]


__all__ = ["ReturnCheck", "SalesLedger"]
