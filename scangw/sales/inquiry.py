"""Read-only views: journal-line inquiry (R13), printing input (R14), trace (R18).

R15: there is deliberately no on-hand view; serials exist only from the sale on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import (
    DocumentKind,
    DocumentStatus,
    LineStatus,
    Registration,
    RegistrationStatus,
)
from scangw.sales.rules import warranty_until
from scangw.sales.state import LedgerState, registration_number


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One posted document line and the serials it carried (None = not readable)."""

    kind: str
    """``packing_slip``, ``invoice`` or ``return``."""
    document_id: str
    line_number: int
    item_id: str
    item_name: str
    quantity: int
    status: str
    """``live`` or ``reversed`` for packing-slip lines, ``posted`` otherwise."""
    serials: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class PrintedDocument:
    """Everything a printed packing slip, invoice or return receipt shows (R14)."""

    kind: str
    document_id: str
    reference: str
    """The sales order (for a return without one, the return id itself)."""
    customer_id: str
    customer_name: str
    posted_on: date
    status: str
    lines: tuple[JournalLine, ...]


@dataclass(frozen=True, slots=True)
class SerialTrace:
    """R18: where a sold serial went and whether its warranty still holds."""

    serial: str
    item_id: str
    item_name: str
    order_id: str
    customer_id: str
    customer_name: str
    packing_slip_id: str
    shipped_on: date
    invoice_id: str | None
    sale_date: date | None
    """The invoice date; None while the unit is shipped but not invoiced."""
    warranty_until: date | None
    warranty_valid: bool | None
    """None when there is no sale date yet or the item has no warranty."""
    returns: tuple[str, ...]
    """Received returns that registered this serial."""

    @property
    def warranty_state(self) -> str:
        if self.sale_date is None:
            return "not invoiced yet"
        if self.warranty_until is None:
            return "no warranty"
        word = "valid until" if self.warranty_valid else "expired on"
        return f"{word} {self.warranty_until.isoformat()}"


_SHIPPED = frozenset({RegistrationStatus.LIVE, RegistrationStatus.RETURNED})
"""Registrations a posted packing-slip line shipped (returned units included)."""


def _after(later: Registration, earlier: Registration) -> bool:
    return registration_number(later) > registration_number(earlier)


class Inquiry:
    """Ledger part: inquiry, printing views and trace."""

    _state: LedgerState

    def journal_line(self, document_id: str, line_number: int) -> JournalLine:
        """R13: the serials of a posted packing-slip, invoice or return line."""
        state = self._state
        if document_id in state.slips:
            slip = state.slip(document_id)
            line = state.slip_line(document_id, line_number)
            self._posted(slip.posted_on is not None, "packing slip", document_id)
            wanted = (_SHIPPED if line.status is LineStatus.LIVE
                      else {RegistrationStatus.REVERSED})
            regs = [r for r in state.registrations_on(
                DocumentKind.PACKING_SLIP, document_id, line_number, live=False,
            ) if r.status in wanted]
            return self._journal("packing_slip", document_id=document_id, line_number=line_number,
                                 item_id=line.item_id, quantity=line.quantity,
                                 status=line.status, serials=tuple(r.serial for r in regs))
        if document_id in state.invoices:
            invoice = state.invoice(document_id)
            iline = state.invoice_line(document_id, line_number)
            self._posted(invoice.status is DocumentStatus.POSTED, "invoice", document_id)
            serials = tuple(
                r.serial for r in state.sale_registrations(invoice.order_id, line_number)
                if r.status in _SHIPPED and r.invoice_id == document_id
            )
            return self._journal("invoice", document_id=document_id, line_number=line_number,
                                 item_id=iline.item_id, quantity=iline.quantity,
                                 status="posted", serials=serials)
        if document_id in state.returns:
            order = state.return_order(document_id)
            rline = state.return_line(document_id, line_number)
            self._posted(order.status is DocumentStatus.POSTED, "return", document_id)
            regs = state.registrations_on(DocumentKind.RETURN, document_id, line_number)
            return self._journal("return", document_id=document_id, line_number=line_number,
                                 item_id=rline.item_id, quantity=rline.quantity,
                                 status="posted", serials=tuple(r.serial for r in regs))
        raise SalesRuleError(Reason.UNKNOWN_RECORD, f"no posted document {document_id}")

    def _journal(
        self, kind: str, *, document_id: str, line_number: int, item_id: str, quantity: int,
        status: str, serials: tuple[str | None, ...],
    ) -> JournalLine:
        name = self._state.item(item_id).name
        return JournalLine(kind, document_id, line_number, item_id, name, quantity, status,
                           serials)

    @staticmethod
    def _posted(posted: bool, what: str, document_id: str) -> None:
        if not posted:
            raise SalesRuleError(
                Reason.DOCUMENT_NOT_POSTED,
                f"{what} {document_id} is a draft: only posted journal lines are shown",
            )

    def printable(self, document_id: str) -> PrintedDocument:
        """R14: a posted document with every line's serials, ready to print."""
        kind, reference, customer_id, posted_on, status, numbers = self._heading(document_id)
        if posted_on is None:
            raise SalesRuleError(
                Reason.DOCUMENT_NOT_POSTED,
                f"{kind.replace('_', ' ')} {document_id} is not posted: only posted "
                "documents print",
            )
        lines = tuple(self.journal_line(document_id, n) for n in numbers)
        customer = self._state.customer(customer_id)
        return PrintedDocument(kind, document_id, reference, customer.id, customer.name,
                               posted_on, status, lines)

    def _heading(
        self, document_id: str
    ) -> tuple[str, str, str, date | None, str, list[int]]:
        """(kind, reference, customer id, posted on, status, line numbers)."""
        state = self._state
        if document_id in state.slips:
            slip = state.slip(document_id)
            return ("packing_slip", slip.order_id, state.order(slip.order_id).customer_id,
                    slip.posted_on, str(slip.status),
                    [ln.line_number for ln in state.lines_of_slip(document_id)])
        if document_id in state.invoices:
            invoice = state.invoice(document_id)
            return ("invoice", invoice.order_id, state.order(invoice.order_id).customer_id,
                    invoice.posted_on, str(invoice.status),
                    [ln.line_number for ln in state.lines_of_invoice(document_id)])
        if document_id in state.returns:
            order = state.return_order(document_id)
            return ("return", order.order_id or order.id, order.customer_id,
                    order.received_on, "received",
                    [ln.line_number for ln in state.lines_of_return(document_id)])
        raise SalesRuleError(Reason.UNKNOWN_RECORD, f"no document {document_id}")

    def trace(
        self, serial: str, *, today: date, item_id: str | None = None
    ) -> list[SerialTrace]:
        """R18: every shipped unit carrying ``serial`` (one per item, by R17)."""
        state = self._state
        found = []
        for reg in state.registrations_of_serial(serial):
            if not (reg.status in _SHIPPED and reg.document_kind is DocumentKind.PACKING_SLIP
                    and reg.serial == serial and reg.order_id is not None
                    and item_id in (None, reg.item_id)):
                continue
            slip = state.slip(reg.document_id)
            if slip.posted_on is None:
                continue
            item = state.item(reg.item_id)
            customer = state.customer(state.order(reg.order_id).customer_id)
            invoiced = state.invoiced(reg)
            sale_date = state.invoice(reg.invoice_id).posted_on if (
                invoiced and reg.invoice_id is not None) else None
            until = warranty_until(item, sale_date) if sale_date is not None else None
            returns = tuple(sorted(
                r.document_id for r in state.registrations_of_serial(serial)
                if r.live and r.document_kind is DocumentKind.RETURN and _after(r, reg)
                and r.item_id == item.id and r.serial == serial
                and state.return_order(r.document_id).status is DocumentStatus.POSTED
            ))
            found.append(SerialTrace(
                serial, item.id, item.name, reg.order_id, customer.id, customer.name,
                slip.id, slip.posted_on, reg.invoice_id if invoiced else None, sale_date,
                until, None if until is None else today <= until, returns,
            ))
        return found
