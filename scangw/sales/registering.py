"""Applying one scan to one registration list, shared by packing slips and returns.

The decision itself is ``decide_scan`` (the station's own function), so the
order store and the station cannot disagree on the same state.
"""

from __future__ import annotations

from dataclasses import replace

from scangw.sales.reasons import Reason
from scangw.sales.records import DocumentKind, Registration, RegistrationStatus
from scangw.sales.registration import Decision, LineView, ScanMode, decide_scan
from scangw.sales.rules import check_serial_text
from scangw.sales.state import LedgerState


def view_of(
    state: LedgerState,
    kind: DocumentKind,
    document_id: str,
    line_number: int,
    *,
    order_id: str,
    item_id: str,
    quantity: int,
) -> LineView:
    """The LineView of a document line: what the station caches."""
    serials = tuple(r.serial for r in state.registrations_on(kind, document_id, line_number))
    return LineView(order_id, line_number, item_id, quantity, serials)


def record_scan(
    state: LedgerState,
    *,
    kind: DocumentKind,
    document_id: str,
    view: LineView,
    serial: str | None,
    mode: ScanMode,
    elsewhere: bool,
    order_id: str | None,
    warning: str | None = None,
) -> Decision:
    """Decide with ``decide_scan`` and, if accepted, put the registration change."""
    if serial is not None:
        problem = check_serial_text(serial)
        if problem is not None:
            return Decision(False, Reason.INVALID_SERIAL, problem)
    decision = decide_scan(view, serial, mode, registered_elsewhere=elsewhere)
    if not decision.accepted:
        return decision
    if mode is ScanMode.ADD:
        state.put(Registration(
            state.next_id("REG"), view.item_id, serial, kind, document_id, view.line_number,
            order_id, warning=warning,
        ))
    else:
        listed = [
            r for r in state.registrations_on(kind, document_id, view.line_number)
            if r.serial == serial
        ]
        state.put(replace(listed[-1], status=RegistrationStatus.REMOVED))
    return decision
