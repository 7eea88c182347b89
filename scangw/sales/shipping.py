"""Packing slips: open a draft, register serials on it, post it (R2-R7, R11, R17)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import cast

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
from scangw.sales.registering import record_scan, view_of
from scangw.sales.registration import Decision, LineView, ScanMode
from scangw.sales.rules import check_registration_count, serial_refusal
from scangw.sales.state import LedgerState, LiveSerials

_SLIP = DocumentKind.PACKING_SLIP
_HOLDS_REUSE = frozenset(
    {RegistrationStatus.LIVE, RegistrationStatus.REVERSED, RegistrationStatus.REPLACED}
)


class Shipping:
    """Ledger part: packing slips and their registration lists."""

    _state: LedgerState

    def open_packing_slip(
        self, order_id: str, quantities: Mapping[int, int] | None = None
    ) -> PackingSlip:
        """Open a draft packing slip for some units of some order lines.

        ``quantities`` maps order line number -> units; None ships everything
        still open. R11: serials reversed from an earlier slip of the same order
        line are registered again on the new line without scanning.
        """
        state = self._state
        state.order(order_id)
        if quantities is None:
            quantities = {
                ln.line_number: self.open_quantity(order_id, ln.line_number)
                for ln in state.lines_of_order(order_id)
            }
            quantities = {number: qty for number, qty in quantities.items() if qty > 0}
        if not quantities:
            raise SalesRuleError(
                Reason.INVALID_VALUE, f"{order_id}: nothing to ship, every line is shipped"
            )
        lines = [state.order_line(order_id, number) for number in sorted(quantities)]
        for line in lines:
            self._check_open(line, quantities[line.line_number])
        slip = PackingSlip(state.next_id("PS"), order_id)
        state.put(slip)
        for line in lines:
            quantity = quantities[line.line_number]
            state.put(PackingSlipLine(slip.id, line.line_number, line.item_id, quantity))
            self._reuse_reversed(slip, line, quantity)
        return slip

    def open_quantity(self, order_id: str, line_number: int) -> int:
        """Units of the order line not yet on a posted, live packing slip."""
        line = self._state.order_line(order_id, line_number)
        return line.quantity - self._state.shipped_quantity(order_id, line_number)

    def _check_open(self, line: OrderLine, quantity: int) -> None:
        where = f"{line.order_id} line {line.line_number}"
        if quantity < 1:
            raise SalesRuleError(
                Reason.INVALID_VALUE, f"{where}: quantity {quantity} must be at least 1"
            )
        left = self.open_quantity(line.order_id, line.line_number)
        if quantity > left:
            raise SalesRuleError(
                Reason.OVER_OPEN_QUANTITY,
                f"{where}: cannot ship {quantity}, only {left} of {line.quantity} still open",
            )

    def pending_reuse(self, order_id: str, line_number: int) -> list[Registration]:
        """R11: reversed registrations of the order line not yet taken over."""
        state = self._state
        history = state.sale_registrations(order_id, line_number)
        taken = {
            r.reused_from for r in history
            if r.reused_from is not None and r.status in _HOLDS_REUSE
        }
        return [
            r for r in history if r.status is RegistrationStatus.REVERSED and r.id not in taken
        ]

    def _reuse_reversed(self, slip: PackingSlip, line: OrderLine, quantity: int) -> None:
        state = self._state
        seen: set[str] = set()
        reused = 0
        for old in self.pending_reuse(line.order_id, line.line_number):
            if reused == quantity:
                break
            if old.serial is not None and (
                old.serial in seen or state.live_sale(old.item_id, old.serial)
            ):
                continue
            if old.serial is not None:
                seen.add(old.serial)
            state.put(Registration(
                state.next_id("REG"), old.item_id, old.serial, _SLIP, slip.id,
                line.line_number, line.order_id, reused_from=old.id,
            ))
            reused += 1

    def line_view(self, slip_id: str, line_number: int) -> LineView:
        """The LineView the station caches for a packing-slip line."""
        slip = self._state.slip(slip_id)
        line = self._state.slip_line(slip_id, line_number)
        return view_of(
            self._state, _SLIP, slip_id, line_number,
            order_id=slip.order_id, item_id=line.item_id, quantity=line.quantity,
        )

    def counted_view(self, slip_id: str, line_number: int) -> LineView:
        """``line_view`` for deciding a scan: its serials are the line's live counts
        (length and ``in`` in O(1)), not a list built from every registration."""
        slip = self._state.slip(slip_id)
        line = self._state.slip_line(slip_id, line_number)
        serials = self._state.index.live_on_line.get((_SLIP, slip_id, line_number),
                                                     LiveSerials())
        return LineView(slip.order_id, line_number, line.item_id, line.quantity,
                        cast("tuple[str | None, ...]", serials))

    def registered_elsewhere(self, slip_id: str, line_number: int, serial: str | None) -> bool:
        """R17: is ``serial`` live for the line's item on another document line?"""
        if serial is None:
            return False
        item_id = self._state.slip_line(slip_id, line_number).item_id
        return any(
            (r.document_id, r.line_number) != (slip_id, line_number)
            for r in self._state.live_sale(item_id, serial)
        )

    def register(
        self,
        slip_id: str,
        line_number: int,
        serial: str | None,
        mode: ScanMode = ScanMode.ADD,
    ) -> Decision:
        """Register (add mode) or unregister (remove mode) one serial on a draft
        packing-slip line; ``serial=None`` is a not-readable blank (R5-R7, R17).

        Never raises for a refused scan: the station journals every decision.
        """
        try:
            slip = self._state.slip(slip_id)
            line = self._state.slip_line(slip_id, line_number)
        except SalesRuleError as error:
            return Decision(False, error.reason, error.message)
        if slip.status is not SlipStatus.DRAFT:
            return Decision(
                False, Reason.DOCUMENT_NOT_DRAFT,
                f"packing slip {slip_id} is {slip.status}: serials are registered on drafts only",
            )
        item = self._state.item(line.item_id)
        refusal = serial_refusal(item, self._state.group(item.group_id))
        if refusal is not None:
            return Decision(False, *refusal)
        return record_scan(
            self._state, kind=_SLIP, document_id=slip_id,
            view=self.counted_view(slip_id, line_number), serial=serial, mode=mode,
            elsewhere=self.registered_elsewhere(slip_id, line_number, serial),
            order_id=slip.order_id,
        )

    def discard_packing_slip(self, slip_id: str) -> PackingSlip:
        """Drop a draft packing slip; its serials are free again (and reversed
        serials it took over wait for the next slip, R11)."""
        state = self._state
        slip = state.slip(slip_id)
        if slip.status is not SlipStatus.DRAFT:
            raise SalesRuleError(
                Reason.DOCUMENT_NOT_DRAFT,
                f"packing slip {slip_id} is {slip.status}: cancel or correct it instead",
            )
        for line in state.lines_of_slip(slip_id):
            for reg in state.registrations_on(_SLIP, slip_id, line.line_number):
                state.put(replace(reg, status=RegistrationStatus.REMOVED))
            state.put(replace(line, status=LineStatus.REVERSED))
        discarded = replace(slip, status=SlipStatus.DISCARDED)
        state.put(discarded)
        return discarded

    def post_packing_slip(self, slip_id: str, on: date) -> PackingSlip:
        """Post a draft packing slip once every line passes R2-R4."""
        state = self._state
        slip = state.slip(slip_id)
        if slip.status is not SlipStatus.DRAFT:
            raise SalesRuleError(
                Reason.DOCUMENT_NOT_DRAFT, f"packing slip {slip_id} is already {slip.status}"
            )
        for line in state.lines_of_slip(slip_id):
            self._check_open(state.order_line(slip.order_id, line.line_number), line.quantity)
            item = state.item(line.item_id)
            group = state.group(item.group_id)
            if serial_refusal(item, group) is None:
                count = len(state.registrations_on(_SLIP, slip_id, line.line_number))
                where = f"packing slip {slip_id}, {slip.order_id} line {line.line_number}"
                check_registration_count(where, line.quantity, count, group)
        posted = replace(slip, status=SlipStatus.POSTED, posted_on=on)
        state.put(posted)
        return posted

