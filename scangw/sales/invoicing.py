"""Invoices that select packing-slip serials (R2-R4, R8, R9)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import (
    DocumentKind,
    DocumentStatus,
    Invoice,
    InvoiceLine,
    LineStatus,
    PackingSlipLine,
    Registration,
    RegistrationStatus,
    SlipStatus,
)
from scangw.sales.registration import Decision, LineView, ScanMode, decide_scan
from scangw.sales.rules import (
    check_partial_slips,
    check_registration_count,
    check_serial_text,
    serial_refusal,
)
from scangw.sales.state import LedgerState

_SLIP = DocumentKind.PACKING_SLIP


class Invoicing:
    """Ledger part: invoice drafts, serial selection and posting."""

    _state: LedgerState

    def open_invoice(self, order_id: str, quantities: Mapping[int, int]) -> Invoice:
        """Open a draft invoice for shipped units; ``quantities``: line -> units (R8)."""
        state = self._state
        state.order(order_id)
        if not quantities:
            raise SalesRuleError(Reason.INVALID_VALUE, f"invoice for {order_id} has no lines")
        lines = []
        for number, quantity in sorted(quantities.items()):
            order_line = state.order_line(order_id, number)
            self._check_billable(order_id, number, quantity)
            lines.append(InvoiceLine("", number, order_line.item_id, quantity))
        invoice = Invoice(state.next_id("INV"), order_id)
        state.put(invoice)
        for line in lines:
            state.put(replace(line, invoice_id=invoice.id))
        return invoice

    def billable_quantity(self, order_id: str, line_number: int) -> int:
        """R8: units shipped on live packing slips and not on a posted invoice."""
        state = self._state
        return state.shipped_quantity(order_id, line_number) - state.invoiced_quantity(
            order_id, line_number
        )

    def _check_billable(self, order_id: str, line_number: int, quantity: int) -> None:
        where = f"{order_id} line {line_number}"
        if quantity < 1:
            raise SalesRuleError(
                Reason.INVALID_VALUE, f"{where}: quantity {quantity} must be at least 1"
            )
        left = self.billable_quantity(order_id, line_number)
        if quantity > left:
            raise SalesRuleError(
                Reason.OVER_SHIPPED_QUANTITY,
                f"{where}: cannot invoice {quantity}, only {left} shipped and not invoiced",
            )

    def shipped_registrations(self, order_id: str, line_number: int) -> list[Registration]:
        """Live registrations on posted packing slips of the order line."""
        state = self._state
        return [
            r for r in state.sale_registrations(order_id, line_number)
            if r.live and state.slips[r.document_id].status is not SlipStatus.DRAFT
            and state.slip_lines[(r.document_id, line_number)].status is LineStatus.LIVE
        ]

    def selected(self, invoice_id: str, line_number: int) -> list[Registration]:
        """The packing-slip registrations an invoice line bills, oldest first."""
        order_id = self._state.invoice(invoice_id).order_id
        return [
            r for r in self.shipped_registrations(order_id, line_number)
            if r.invoice_id == invoice_id
        ]

    def invoice_line_view(self, invoice_id: str, line_number: int) -> LineView:
        """The selection list of an invoice line, shaped like a packing-slip line."""
        invoice = self._state.invoice(invoice_id)
        line = self._state.invoice_line(invoice_id, line_number)
        serials = tuple(r.serial for r in self.selected(invoice_id, line_number))
        return LineView(invoice.order_id, line_number, line.item_id, line.quantity, serials)

    def select_for_invoice(
        self, invoice_id: str, line_number: int, serial: str | None,
        mode: ScanMode = ScanMode.ADD,
    ) -> Decision:
        """R8: add (or remove) a shipped serial, or a not-readable unit, to the
        invoice line's selection. Refusals come back as decisions.

        R5: a serial not yet registered is registered here, on a shipped unit
        that has none (blank issue allowed); its packing slip shows it too.
        """
        state = self._state
        try:
            invoice = state.invoice(invoice_id)
            line = state.invoice_line(invoice_id, line_number)
        except SalesRuleError as error:
            return Decision(False, error.reason, error.message)
        if invoice.status is not DocumentStatus.DRAFT:
            return Decision(
                False, Reason.DOCUMENT_NOT_DRAFT, f"invoice {invoice_id} is {invoice.status}"
            )
        item = state.item(line.item_id)
        refusal = serial_refusal(item, state.group(item.group_id))
        if refusal is not None:
            return Decision(False, *refusal)
        shipped = [r for r in self.shipped_registrations(invoice.order_id, line_number)
                   if r.serial == serial]
        free = [r for r in shipped if r.invoice_id is None]
        view = self.invoice_line_view(invoice_id, line_number)
        if mode is ScanMode.ADD and not free and (serial is None or serial not in view.serials):
            return self._register_on_invoice(invoice, view, serial, shipped)
        decision = decide_scan(view, serial, mode)
        if decision.accepted:
            if mode is ScanMode.ADD:
                state.put(replace(free[0], invoice_id=invoice_id))
            else:
                mine = [r for r in shipped if r.invoice_id == invoice_id]
                state.put(replace(mine[-1], invoice_id=None))
        return decision

    def _register_on_invoice(
        self, invoice: Invoice, view: LineView, serial: str | None, shipped: list[Registration]
    ) -> Decision:
        """R5: register a new serial on the invoice, on a shipped unit without one."""
        state = self._state
        shown = serial if serial is not None else "not-readable unit"
        other = next((r.invoice_id for r in shipped if r.invoice_id != invoice.id), None)
        if other is not None and serial is not None:
            return Decision(
                False, Reason.SELECTED_ELSEWHERE, f"{shown} is already on invoice {other}"
            )
        if serial is not None and (problem := check_serial_text(serial)) is not None:
            return Decision(False, Reason.INVALID_SERIAL, problem)
        elsewhere = serial is not None and bool(state.live_sale(view.item_id, serial))
        decision = decide_scan(view, serial, ScanMode.ADD, registered_elsewhere=elsewhere)
        room = self._unregistered_unit(invoice.order_id, view.line_number)
        if decision.accepted and room is None:
            return Decision(False, Reason.NOT_SHIPPED,
                            f"no {shown} shipped and not invoiced on {view.describe()}")
        if decision.accepted and room is not None:
            state.put(Registration(
                state.next_id("REG"), view.item_id, serial, _SLIP, room.slip_id,
                view.line_number, invoice.order_id, invoice_id=invoice.id,
            ))
        return decision

    def _unregistered_unit(self, order_id: str, line_number: int) -> PackingSlipLine | None:
        """A posted, live packing-slip line of the order line with fewer
        registrations than units (shipped with blank issue allowed)."""
        state = self._state
        for slip in state.slips_of_order(order_id):
            slip_line = state.slip_lines.get((slip.id, line_number))
            if (slip_line is not None and slip.posted_on is not None
                    and slip_line.status is LineStatus.LIVE
                    and slip_line.quantity > sum(
                        1 for r in state.registrations_on(_SLIP, slip.id, line_number,
                                                          live=False)
                        if r.status in {RegistrationStatus.LIVE, RegistrationStatus.RETURNED})):
                return slip_line
        return None

    def select_packing_slip(self, invoice_id: str, slip_id: str) -> list[Decision]:
        """Select every not yet invoiced serial of ``slip_id`` for the invoice's lines."""
        decisions = []
        for line in self._state.lines_of_invoice(invoice_id):
            for reg in self._state.registrations_on(_SLIP, slip_id, line.line_number):
                if reg.invoice_id is None:
                    decisions.append(
                        self.select_for_invoice(invoice_id, line.line_number, reg.serial)
                    )
        return decisions

    def discard_invoice(self, invoice_id: str) -> Invoice:
        """Drop a draft invoice; its selected serials can be invoiced again."""
        state = self._state
        invoice = state.invoice(invoice_id)
        if invoice.status is not DocumentStatus.DRAFT:
            raise SalesRuleError(
                Reason.DOCUMENT_NOT_DRAFT, f"invoice {invoice_id} is {invoice.status}"
            )
        for line in state.lines_of_invoice(invoice_id):
            for reg in state.sale_registrations(invoice.order_id, line.line_number):
                if reg.invoice_id == invoice_id:
                    state.put(replace(reg, invoice_id=None))
        discarded = replace(invoice, status=DocumentStatus.DISCARDED)
        state.put(discarded)
        return discarded

    def post_invoice(self, invoice_id: str, on: date) -> Invoice:
        """Post a draft invoice once its lines pass R2-R4, R8 and R9."""
        state = self._state
        invoice = state.invoice(invoice_id)
        if invoice.status is not DocumentStatus.DRAFT:
            raise SalesRuleError(
                Reason.DOCUMENT_NOT_DRAFT, f"invoice {invoice_id} is {invoice.status}"
            )
        touched: set[str] = set()
        for line in state.lines_of_invoice(invoice_id):
            self._check_billable(invoice.order_id, line.line_number, line.quantity)
            item = state.item(line.item_id)
            group = state.group(item.group_id)
            if serial_refusal(item, group) is not None:
                continue
            picked = self.selected(invoice_id, line.line_number)
            where = f"invoice {invoice_id}, {invoice.order_id} line {line.line_number}"
            check_registration_count(where, line.quantity, len(picked), group)
            touched.update(r.document_id for r in picked)
        left_over = dict.fromkeys(touched, 0)
        for line in state.lines_of_invoice(invoice_id):
            for reg in self.shipped_registrations(invoice.order_id, line.line_number):
                if (reg.document_id in left_over and reg.invoice_id != invoice_id
                        and not state.invoiced(reg)):
                    left_over[reg.document_id] += 1
        check_partial_slips(invoice_id, left_over)
        posted = replace(invoice, status=DocumentStatus.POSTED, posted_on=on)
        state.put(posted)
        return posted
