"""Setting up groups, items, customers and orders (R1, R16)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import Customer, Item, OrderLine, Record, SalesOrder, TrackingGroup
from scangw.sales.rules import (
    check_catch_weight,
    check_group_options,
    check_warranty_period,
    turn_on_in_sales,
)
from scangw.sales.state import LedgerState


class MasterData:
    """Ledger part: master data and sales orders."""

    _state: LedgerState

    def define_group(
        self,
        group_id: str,
        name: str,
        *,
        active_in_sales_process: bool = False,
        serial_number_control: bool = False,
        blank_issue_allowed: bool = False,
        serial_active: bool = False,
        blank_receipt_allowed: bool = False,
        physical_inventory: bool = False,
        financial_inventory: bool = False,
    ) -> TrackingGroup:
        """Create or change a tracking dimension group.

        R1: switching active in sales process (either way) needs a group without
        transactions; switching it on sets serial number control and clears the
        other serial options except blank issue allowed. While active, serial
        number control stays on: blank issue allowed is the way to relax it.
        """
        old = self._state.groups.get(group_id)
        group = TrackingGroup(
            group_id, name, active_in_sales_process, serial_number_control, blank_issue_allowed,
            serial_active, blank_receipt_allowed, physical_inventory, financial_inventory,
        )
        was_active = old is not None and old.active_in_sales_process
        if old is not None and was_active != active_in_sales_process:
            transactions = self.group_transactions(group_id)
            if transactions:
                raise SalesRuleError(
                    Reason.GROUP_HAS_TRANSACTIONS,
                    f"group {group_id} has {transactions} transactions, so active in sales "
                    "process cannot be switched; use a new group for new items",
                )
        if active_in_sales_process and was_active:
            group = replace(group, serial_number_control=True)
        elif active_in_sales_process:
            group = turn_on_in_sales(group)
            for item in self._state.items.values():
                if item.group_id == group_id:
                    check_catch_weight(item, group)
        check_group_options(group)
        self._state.put(group)
        return group

    def group_transactions(self, group_id: str) -> int:
        """Document lines and registrations of the group's items (R1)."""
        items = {i.id for i in self._state.items.values() if i.group_id == group_id}
        state = self._state
        used = [
            *(ln.item_id for ln in state.slip_lines.values()),
            *(ln.item_id for ln in state.invoice_lines.values()),
            *(ln.item_id for ln in state.return_lines.values()),
            *(r.item_id for r in state.registrations.values()),
        ]
        return sum(1 for item_id in used if item_id in items)

    def define_item(
        self,
        item_id: str,
        name: str,
        group_id: str,
        *,
        catch_weight: bool = False,
        gtins: Iterable[str] = (),
        warranty_days: int | None = None,
        warranty_months: int | None = None,
    ) -> Item:
        """Create or change an item; R16 keeps catch weight away from sales serials.

        GTINs are kept as given (the importer normalises them to 14 digits, the
        form AI (01) carries), and each belongs to one item.
        """
        item = Item(
            item_id, name, group_id, catch_weight, tuple(gtins), warranty_days, warranty_months
        )
        check_catch_weight(item, self._state.group(group_id))
        check_warranty_period(item)
        for other in self._state.items.values():
            shared = set(other.gtins) & set(item.gtins)
            if other.id != item_id and shared:
                raise SalesRuleError(
                    Reason.DUPLICATE_ID,
                    f"GTIN {min(shared)} already belongs to item {other.id}",
                )
        old = self._state.items.get(item_id)
        if old is not None and old.group_id != group_id and self._item_transactions(item_id):
            raise SalesRuleError(
                Reason.GROUP_HAS_TRANSACTIONS,
                f"item {item_id} has transactions, so its group stays {old.group_id}",
            )
        self._state.put(item)
        return item

    def _item_transactions(self, item_id: str) -> bool:
        state = self._state
        return any(ln.item_id == item_id for ln in state.slip_lines.values()) or any(
            ln.item_id == item_id for ln in state.return_lines.values()
        )

    def item_by_gtin(self, gtin: str) -> Item:
        """The item carrying ``gtin`` (scans carry GTINs, orders carry item ids)."""
        for item in self._state.items.values():
            if gtin in item.gtins:
                return item
        raise SalesRuleError(Reason.UNKNOWN_RECORD, f"no item has GTIN {gtin}")

    def define_customer(self, customer_id: str, name: str) -> Customer:
        customer = Customer(customer_id, name)
        self._state.put(customer)
        return customer

    def add_order(
        self, order_id: str, customer_id: str, lines: Mapping[int, tuple[str, int]]
    ) -> tuple[SalesOrder, list[OrderLine]]:
        """Create a sales order; ``lines`` maps line number -> (item id, quantity)."""
        if order_id in self._state.orders:
            raise SalesRuleError(Reason.DUPLICATE_ID, f"sales order {order_id} already exists")
        self._state.customer(customer_id)
        if not lines:
            raise SalesRuleError(Reason.INVALID_VALUE, f"sales order {order_id} has no lines")
        records: list[OrderLine] = []
        for number, (item_id, quantity) in sorted(lines.items()):
            self._state.item(item_id)
            if number < 1 or quantity < 1:
                raise SalesRuleError(
                    Reason.INVALID_VALUE,
                    f"{order_id} line {number}: line number and quantity must be at least 1 "
                    f"(got quantity {quantity})",
                )
            records.append(OrderLine(order_id, number, item_id, quantity))
        order = SalesOrder(order_id, customer_id)
        self._state.put(order)
        for line in records:
            self._state.put(line)
        return order, records

    def _define_all(self, rows: list[Record]) -> None:
        """Define each record through its rule-checked operation (imports)."""
        for record in rows:
            try:
                self._define_one(record, rows)
            except SalesRuleError as error:
                raise SalesRuleError(error.reason, error.message, record=record) from None

    def _define_one(self, record: Record, rows: list[Record]) -> None:
        if isinstance(record, TrackingGroup):
            self.define_group(
                record.id, record.name,
                active_in_sales_process=record.active_in_sales_process,
                serial_number_control=record.serial_number_control,
                blank_issue_allowed=record.blank_issue_allowed,
            )
        elif isinstance(record, Item):
            self.define_item(
                record.id, record.name, record.group_id, catch_weight=record.catch_weight,
                gtins=record.gtins, warranty_days=record.warranty_days,
                warranty_months=record.warranty_months,
            )
        elif isinstance(record, Customer):
            self.define_customer(record.id, record.name)
        elif isinstance(record, SalesOrder):
            lines = {ln.line_number: (ln.item_id, ln.quantity) for ln in rows
                     if isinstance(ln, OrderLine) and ln.order_id == record.id}
            self.add_order(record.id, record.customer_id, lines)
