"""Returns: serials registered on receipt, checked against what was sold (R12)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from enum import StrEnum

from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import (
    DocumentKind,
    DocumentStatus,
    Registration,
    RegistrationStatus,
    ReturnLine,
    ReturnOrder,
    SlipStatus,
)
from scangw.sales.registering import record_scan, view_of
from scangw.sales.registration import Decision, LineView, ScanMode
from scangw.sales.rules import check_registration_count, serial_refusal
from scangw.sales.state import LedgerState

_RETURN = DocumentKind.RETURN


class ReturnCheck(StrEnum):
    """R12: what to do with a returned serial never shipped to that customer."""

    WARN = "warn"
    """Register it, with the warning on the registration and in the decision."""
    REFUSE = "refuse"
    """Refuse the scan with ``not_sold_to_customer``."""


class Returns:
    """Ledger part: return orders and their registrations."""

    _state: LedgerState
    return_check: ReturnCheck

    def open_return(
        self, customer_id: str, lines: Mapping[int, tuple[str, int]],
        *, order_id: str | None = None,
    ) -> ReturnOrder:
        """Open a draft return; ``lines`` maps line number -> (item id, quantity).

        With ``order_id`` the returned serials must come from that sales order.
        """
        state = self._state
        state.customer(customer_id)
        if order_id is not None and state.order(order_id).customer_id != customer_id:
            raise SalesRuleError(
                Reason.INVALID_VALUE,
                f"sales order {order_id} belongs to customer {state.order(order_id).customer_id},"
                f" not {customer_id}",
            )
        if not lines:
            raise SalesRuleError(Reason.INVALID_VALUE, "a return needs at least one line")
        for number, (item_id, quantity) in lines.items():
            state.item(item_id)
            if number < 1 or quantity < 1:
                raise SalesRuleError(
                    Reason.INVALID_VALUE,
                    f"return line {number}: line number and quantity must be at least 1",
                )
        order = ReturnOrder(state.next_id("RMA"), customer_id, order_id=order_id)
        state.put(order)
        for number, (item_id, quantity) in sorted(lines.items()):
            state.put(ReturnLine(order.id, number, item_id, quantity))
        return order

    def return_line_view(self, return_id: str, line_number: int) -> LineView:
        """A return line's registration list; the 'order' shown is the return."""
        line = self._state.return_line(return_id, line_number)
        return view_of(
            self._state, _RETURN, return_id, line_number,
            order_id=return_id, item_id=line.item_id, quantity=line.quantity,
        )

    def sold_to(
        self, item_id: str, serial: str, customer_id: str, order_id: str | None = None
    ) -> list[Registration]:
        """R12: the live sale registrations (posted packing slips) that shipped
        ``serial`` to the customer, on ``order_id`` if given."""
        state = self._state
        return [
            r for r in state.live_sale(item_id, serial)
            if state.slips[r.document_id].status is not SlipStatus.DRAFT
            and r.order_id is not None
            and state.orders[r.order_id].customer_id == customer_id
            and order_id in (None, r.order_id)
        ]

    def register_return(
        self,
        return_id: str,
        line_number: int,
        serial: str | None,
        mode: ScanMode = ScanMode.ADD,
    ) -> Decision:
        """Register a returned serial on a draft return line (R6, R7, R12, R17)."""
        state = self._state
        try:
            order = state.return_order(return_id)
            line = state.return_line(return_id, line_number)
        except SalesRuleError as error:
            return Decision(False, error.reason, error.message)
        if order.status is not DocumentStatus.DRAFT:
            return Decision(False, Reason.DOCUMENT_NOT_DRAFT, f"return {return_id} is received")
        item = state.item(line.item_id)
        refusal = serial_refusal(item, state.group(item.group_id))
        if refusal is not None:
            return Decision(False, *refusal)
        warning = None
        if mode is ScanMode.ADD and serial is not None and not self.sold_to(
            item.id, serial, order.customer_id, order.order_id
        ):
            on_order = f" on {order.order_id}" if order.order_id else ""
            warning = (f"{serial} of {item.id} was never shipped to customer "
                       f"{order.customer_id}{on_order}")
            if self.return_check is ReturnCheck.REFUSE:
                return Decision(False, Reason.NOT_SOLD_TO_CUSTOMER,
                                f"{warning}; check the serial and the customer")
        elsewhere = serial is not None and any(
            r.live and r.document_kind is _RETURN and r.item_id == item.id
            and r.serial == serial and (r.document_id, r.line_number) != (return_id, line_number)
            for r in state.registrations_of_serial(serial)
        )
        decision = record_scan(
            state, kind=_RETURN, document_id=return_id,
            view=self.return_line_view(return_id, line_number), serial=serial, mode=mode,
            elsewhere=elsewhere, order_id=None, warning=warning,
        )
        if decision.accepted and warning is not None:
            return Decision(True, Reason.NOT_SOLD_TO_CUSTOMER,
                            f"warning: {warning}; {decision.message}")
        return decision

    def receive_return(self, return_id: str, on: date) -> ReturnOrder:
        """Receive a draft return once its lines pass R2-R4; the sales of the
        returned serials are marked returned, so the units can be sold again."""
        state = self._state
        order = state.return_order(return_id)
        if order.status is not DocumentStatus.DRAFT:
            raise SalesRuleError(Reason.DOCUMENT_NOT_DRAFT, f"return {return_id} is received")
        for line in state.lines_of_return(return_id):
            item = state.item(line.item_id)
            group = state.group(item.group_id)
            if serial_refusal(item, group) is None:
                count = len(state.registrations_on(_RETURN, return_id, line.line_number))
                where = f"return {return_id} line {line.line_number}"
                check_registration_count(where, line.quantity, count, group)
        received = replace(order, status=DocumentStatus.POSTED, received_on=on)
        state.put(received)
        for line in state.lines_of_return(return_id):
            for reg in state.registrations_on(_RETURN, return_id, line.line_number):
                if reg.serial is None:
                    continue
                for sale in self.sold_to(reg.item_id, reg.serial, order.customer_id,
                                         order.order_id):
                    state.put(replace(sale, status=RegistrationStatus.RETURNED))
        return received
