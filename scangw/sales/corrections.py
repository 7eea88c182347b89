"""Changing serials and reversing packing slips (R10, R11).

Interpretation: *cancel* reverses a whole posted slip; *correct* reverses one
line by posting its negative quantity, which also marks the order line as
corrected, after which its serials can no longer be changed (R10).
"""

from __future__ import annotations

from dataclasses import replace

from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import (
    DocumentKind,
    LineStatus,
    OrderLine,
    PackingSlip,
    PackingSlipLine,
    Registration,
    RegistrationStatus,
    SlipStatus,
)
from scangw.sales.rules import check_serial_text, serial_refusal
from scangw.sales.state import LedgerState

_SLIP = DocumentKind.PACKING_SLIP
_REVERSIBLE = frozenset({SlipStatus.POSTED, SlipStatus.CORRECTED})


class Corrections:
    """Ledger part: R10 serial changes, R11 cancellations and corrections."""

    _state: LedgerState

    def cancel_packing_slip(self, slip_id: str) -> PackingSlip:
        """R11: reverse every live line of a posted slip; its serials wait for reuse."""
        slip = self._reversible(slip_id)
        lines = [ln for ln in self._state.lines_of_slip(slip_id) if ln.status is LineStatus.LIVE]
        for line in lines:
            self._check_not_invoiced(slip, line)
        for line in lines:
            self._reverse(slip, line)
        cancelled = replace(slip, status=SlipStatus.CANCELLED)
        self._state.put(cancelled)
        return cancelled

    def correct_packing_slip_line(
        self, slip_id: str, line_number: int, new_quantity: int = 0
    ) -> PackingSlipLine:
        """R11: correct a posted line to ``new_quantity`` by a negative quantity.

        A serialized line is never partly corrected: only 0 (the whole line) is
        accepted. An unserialized line may keep some units.
        """
        state = self._state
        slip = self._reversible(slip_id)
        line = state.slip_line(slip_id, line_number)
        where = f"packing slip {slip_id} line {line_number}"
        if line.status is LineStatus.REVERSED:
            raise SalesRuleError(Reason.ALREADY_REVERSED, f"{where} is already reversed")
        item = state.item(line.item_id)
        serialized = serial_refusal(item, state.group(item.group_id)) is None
        if serialized and new_quantity != 0:
            raise SalesRuleError(
                Reason.PARTIAL_CORRECTION,
                f"{where} holds serialized units: it cannot be corrected to {new_quantity}, "
                f"reverse the whole quantity of {line.quantity} (new quantity 0)",
            )
        if not 0 <= new_quantity < line.quantity:
            raise SalesRuleError(
                Reason.INVALID_VALUE,
                f"{where}: corrected quantity {new_quantity} must be 0 to {line.quantity - 1}",
            )
        self._check_not_invoiced(slip, line, keep=new_quantity)
        if new_quantity:
            changed = replace(line, quantity=new_quantity)
            state.put(changed)
        else:
            changed = self._reverse(slip, line)
        state.put(replace(slip, status=SlipStatus.CORRECTED))
        order_line = state.order_line(slip.order_id, line_number)
        state.put(replace(order_line, corrected_negative=True))
        return changed

    def change_serial(
        self, slip_id: str, line_number: int, old: str | None, new: str
    ) -> Registration:
        """R10: replace a registered serial (``old=None`` fills a not-readable blank)
        on a unit that is not invoiced; the packing slip shows the new serial."""
        state = self._state
        slip = state.slip(slip_id)
        line = state.slip_line(slip_id, line_number)
        where = f"{slip.order_id} line {line_number}"
        if line.status is LineStatus.REVERSED or slip.status is SlipStatus.CANCELLED:
            raise SalesRuleError(
                Reason.ALREADY_REVERSED, f"packing slip {slip_id} line {line_number} is reversed"
            )
        item = state.item(line.item_id)
        refusal = serial_refusal(item, state.group(item.group_id))
        if refusal is not None:
            raise SalesRuleError(*refusal)
        if state.order_line(slip.order_id, line_number).corrected_negative:
            raise SalesRuleError(
                Reason.LINE_CORRECTED,
                f"{where} was corrected with a negative quantity: its serials cannot change",
            )
        problem = check_serial_text(new)
        if problem is not None:
            raise SalesRuleError(Reason.INVALID_SERIAL, problem)
        listed = [
            r for r in state.registrations_on(_SLIP, slip_id, line_number) if r.serial == old
        ]
        shown = old if old is not None else "not-readable entry"
        if not listed:
            raise SalesRuleError(
                Reason.NOT_ON_LIST, f"{shown} is not registered on packing slip {slip_id} {where}"
            )
        current = next((r for r in listed if not state.invoiced(r)), None)
        if current is None:
            raise SalesRuleError(
                Reason.ALREADY_INVOICED,
                f"{shown} on {where} is on invoice {listed[0].invoice_id}: it cannot change",
            )
        taken = state.live_sale(item.id, new)
        if taken:
            raise SalesRuleError(
                Reason.DUPLICATE_SERIAL,
                f"{new} is already registered on packing slip {taken[0].document_id} "
                f"{taken[0].order_id} line {taken[0].line_number}",
            )
        state.put(replace(current, status=RegistrationStatus.REPLACED))
        changed = Registration(
            state.next_id("REG"), item.id, new, _SLIP, slip_id, line_number, slip.order_id,
            invoice_id=current.invoice_id, replaces=current.id,
        )
        state.put(changed)
        return changed

    def _reversible(self, slip_id: str) -> PackingSlip:
        slip = self._state.slip(slip_id)
        if slip.status not in _REVERSIBLE:
            raise SalesRuleError(
                Reason.DOCUMENT_NOT_POSTED if slip.status is SlipStatus.DRAFT
                else Reason.ALREADY_REVERSED,
                f"packing slip {slip_id} is {slip.status}: only a posted slip is reversed",
            )
        return slip

    def _check_not_invoiced(
        self, slip: PackingSlip, line: PackingSlipLine, keep: int = 0
    ) -> None:
        """R10/R11: invoiced units (or units picked on a draft invoice) and
        returned units stay shipped."""
        state = self._state
        for reg in state.registrations_on(_SLIP, slip.id, line.line_number, live=False):
            if reg.status is RegistrationStatus.RETURNED:
                raise SalesRuleError(
                    Reason.ALREADY_RETURNED,
                    f"{reg.serial} on packing slip {slip.id} came back on a return; "
                    "its shipment cannot be reversed",
                )
        for reg in state.registrations_on(_SLIP, slip.id, line.line_number):
            if reg.invoice_id is not None:
                raise SalesRuleError(
                    Reason.ALREADY_INVOICED,
                    f"{reg.serial or 'a not-readable unit'} on packing slip {slip.id} is on "
                    f"invoice {reg.invoice_id}; reverse the invoice or its selection first",
                )
        order_line: OrderLine = state.order_line(slip.order_id, line.line_number)
        left = state.shipped_quantity(slip.order_id, line.line_number) - line.quantity + keep
        invoiced = state.invoiced_quantity(slip.order_id, line.line_number, posted=False)
        if left < invoiced:
            raise SalesRuleError(
                Reason.ALREADY_INVOICED,
                f"{order_line.order_id} line {line.line_number} has {invoiced} units invoiced; "
                f"reversing would leave only {left} shipped",
            )

    def _reverse(self, slip: PackingSlip, line: PackingSlipLine) -> PackingSlipLine:
        for reg in self._state.registrations_on(_SLIP, slip.id, line.line_number):
            self._state.put(replace(reg, status=RegistrationStatus.REVERSED))
        reversed_line = replace(line, status=LineStatus.REVERSED)
        self._state.put(reversed_line)
        return reversed_line
