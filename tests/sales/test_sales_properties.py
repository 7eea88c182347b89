"""Hypothesis: random operation sequences keep every posted document lawful,
and the station's ``decide_scan`` on a ``LineView`` agrees with the ledger."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import date

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sales_shop import shop

from scangw.sales import Reason, SalesLedger, SalesRuleError, ScanMode, decide_scan
from scangw.sales.records import (
    DocumentKind,
    DocumentStatus,
    LineStatus,
    RegistrationStatus,
    SlipStatus,
)
from scangw.sales.rules import serial_refusal

DAY = date(2026, 3, 2)
SERIALS = st.sampled_from(["S1", "S2", "S3", "S4", "S5", None])
MODES = st.sampled_from([ScanMode.ADD, ScanMode.ADD, ScanMode.REMOVE])
LINES = st.integers(1, 3)
TARGETS = st.sampled_from([("SO-A", 1), ("SO-A", 2), ("SO-B", 1), ("SO-A", 3), ("SO-B", 3)])
"""Order lines: TV, CABLE (blank issue), TV of another customer, BOLT, a missing line."""
PICK = st.integers(0, 10)
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def fresh() -> SalesLedger:
    ledger = shop()
    ledger.add_order("SO-A", "C1", {1: ("TV", 4), 2: ("CABLE", 3), 3: ("BOLT", 2)})
    ledger.add_order("SO-B", "C2", {1: ("TV", 3), 2: ("DRILL", 2)})
    return ledger


def serialized(ledger: SalesLedger, item_id: str) -> bool:
    item = ledger._state.item(item_id)
    return serial_refusal(item, ledger.group(item.group_id)) is None


def check_scan_agrees(ledger: SalesLedger, slip_id: str, line: int,
                      serial: str | None, mode: ScanMode) -> None:
    """The station's decision on the cached LineView equals the ledger's."""
    state = ledger._state
    if (slip_id, line) not in state.slip_lines:
        return
    draft = state.slip(slip_id).status is SlipStatus.DRAFT
    view = ledger.line_view(slip_id, line)
    station = decide_scan(view, serial, mode,
                          registered_elsewhere=ledger.registered_elsewhere(slip_id, line, serial))
    actual = ledger.register(slip_id, line, serial, mode)
    if draft and serialized(ledger, view.item_id):
        assert actual == station
        expected_after = list(view.serials)
        if actual.accepted and mode is ScanMode.ADD:
            expected_after.append(serial)
        elif actual.accepted:
            expected_after.reverse()
            expected_after.remove(serial)
            expected_after.reverse()
        assert list(ledger.line_view(slip_id, line).serials) == expected_after
    else:
        assert not actual.accepted
        assert ledger.line_view(slip_id, line) == view


def check_partial_slips_after_post(ledger: SalesLedger, invoice_id: str) -> None:
    """R9 right after posting: at most one touched slip keeps uninvoiced serials."""
    state = ledger._state
    picked = [r for r in state.registrations.values() if r.live and r.invoice_id == invoice_id]
    lines = {ln.line_number for ln in state.lines_of_invoice(invoice_id)}
    touched = {r.document_id for r in picked}
    partial = {
        r.document_id for r in state.registrations.values()
        if r.live and r.document_id in touched and r.line_number in lines
        and not state.invoiced(r)
    }
    assert len(partial) <= 1


def check_invariants(ledger: SalesLedger) -> None:
    state = ledger._state
    for (slip_id, number), line in state.slip_lines.items():
        slip = state.slip(slip_id)
        regs = [  # shipped: live, or live until the unit came back (R12)
            r for r in state.registrations_on(DocumentKind.PACKING_SLIP, slip_id, number,
                                              live=False)
            if r.status in {RegistrationStatus.LIVE, RegistrationStatus.RETURNED}
        ]
        if slip.status is SlipStatus.DRAFT:
            assert len(regs) <= line.quantity
            continue
        group = state.group(state.item(line.item_id).group_id)
        if line.status is LineStatus.REVERSED:
            assert regs == []
        elif serialized(ledger, line.item_id):  # R2-R4 on posted lines
            assert len(regs) <= line.quantity
            assert group.blank_issue_allowed or len(regs) == line.quantity
        else:
            assert regs == []
    for (order_id, number), order_line in state.order_lines.items():
        shipped = state.shipped_quantity(order_id, number)
        assert shipped <= order_line.quantity
        assert state.invoiced_quantity(order_id, number) <= shipped  # R8
    for (invoice_id, number), invoice_line in state.invoice_lines.items():
        if state.invoice(invoice_id).status is not DocumentStatus.POSTED:
            continue
        picked = [r for r in state.registrations.values()
                  if r.status in {RegistrationStatus.LIVE, RegistrationStatus.RETURNED}
                  and r.invoice_id == invoice_id and r.line_number == number]
        assert len(picked) <= invoice_line.quantity  # R4/R8
        group = state.group(state.item(invoice_line.item_id).group_id)
        if serialized(ledger, invoice_line.item_id) and not group.blank_issue_allowed:
            assert len(picked) == invoice_line.quantity  # R2
    live = Counter(
        (r.item_id, r.serial) for r in state.registrations.values()
        if r.live and r.serial is not None and r.document_kind is DocumentKind.PACKING_SLIP
    )
    assert all(count == 1 for count in live.values()), live  # R17


def fill(ledger: SalesLedger, slip_id: str, line: int, blank: bool) -> None:
    """Scan until the draft line is full: a blank first if asked, then the
    shared pool (so other slips collide, R17), then fresh serials."""
    candidates: list[str | None] = [None] if blank else []
    candidates += ["S1", "S2", "S3", *(f"F{n}" for n in range(len(ledger._state.registrations),
                                                        len(ledger._state.registrations) + 9))]
    for serial in candidates:
        view = ledger.line_view(slip_id, line)
        if len(view.serials) >= view.quantity:
            return
        ledger.register(slip_id, line, serial)


def bill_one_per_slip(ledger: SalesLedger, order_id: str, line: int) -> str:
    """Invoice one serial from each shipped slip of the line (R9 bait)."""
    first: dict[str, str | None] = {}
    for reg in ledger.shipped_registrations(order_id, line):
        if reg.invoice_id is None:
            first.setdefault(reg.document_id, reg.serial)
    invoice = ledger.open_invoice(order_id, {line: max(len(first), 1)})
    for serial in first.values():
        ledger.select_for_invoice(invoice.id, line, serial)
    return invoice.id


def invoice_all(ledger: SalesLedger, order_id: str, line: int) -> str:
    """Invoice everything billable on the line, selecting every shipped serial."""
    invoice = ledger.open_invoice(order_id, {line: ledger.billable_quantity(order_id, line)})
    for reg in ledger.shipped_registrations(order_id, line):
        if reg.invoice_id is None:
            ledger.select_for_invoice(invoice.id, line, reg.serial)
    return invoice.id


class Run:
    """One random session: each ``op_*`` draws what it needs and may be refused."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.ledger = fresh()
        self.slips: list[str] = []
        self.invoices: list[str] = []
        self.order, self.line = data.draw(TARGETS)

    def step(self) -> None:
        op = self.data.draw(st.sampled_from(OPS))
        self.order, self.line = self.data.draw(TARGETS)
        with contextlib.suppress(SalesRuleError):
            getattr(self, f"op_{op}")()
        check_invariants(self.ledger)

    def _pick(self, items: list[str]) -> str:
        if not items:
            raise SalesRuleError(Reason.UNKNOWN_RECORD, "nothing to pick yet")
        return items[self.data.draw(PICK) % len(items)]

    def _qty(self) -> int:
        return self.data.draw(st.integers(0, 4))

    def op_open(self) -> None:
        self.slips.append(self.ledger.open_packing_slip(self.order, {self.line: self._qty()}).id)

    def op_scan(self) -> None:
        slip = self._pick(self.slips)
        check_scan_agrees(self.ledger, slip, self.line, self.data.draw(SERIALS),
                          self.data.draw(MODES))

    def op_fill(self) -> None:
        fill(self.ledger, self._pick(self.slips), self.line, self.data.draw(st.booleans()))

    def op_post(self) -> None:
        self.ledger.post_packing_slip(self._pick(self.slips), DAY)
        event("packing slip posted")

    def op_ship(self) -> None:
        slip = self.ledger.open_packing_slip(self.order, {self.line: min(max(self._qty(), 1), 2)})
        self.slips.append(slip.id)
        fill(self.ledger, slip.id, self.line, self.data.draw(st.booleans()))
        self.ledger.post_packing_slip(slip.id, DAY)
        event("packing slip posted")

    def op_cancel(self) -> None:
        self.ledger.cancel_packing_slip(self._pick(self.slips))
        event("packing slip cancelled")

    def op_discard(self) -> None:
        self.ledger.discard_packing_slip(self._pick(self.slips))

    def op_discard_invoice(self) -> None:
        self.ledger.discard_invoice(self._pick(self.invoices))

    def op_correct(self) -> None:
        slip = self._pick(self.slips)
        self.ledger.correct_packing_slip_line(slip, self.line, self.data.draw(st.integers(0, 2)))

    def op_change(self) -> None:
        slip = self._pick(self.slips)
        new = self.data.draw(SERIALS) or "S9"
        self.ledger.change_serial(slip, self.line, self.data.draw(SERIALS), new)

    def op_invoice(self) -> None:
        self.invoices.append(self.ledger.open_invoice(self.order, {self.line: self._qty()}).id)

    def op_invoice_all(self) -> None:
        self.invoices.append(invoice_all(self.ledger, self.order, self.line))

    def op_select(self) -> None:
        invoice = self._pick(self.invoices)
        self.ledger.select_for_invoice(invoice, self.line, self.data.draw(SERIALS),
                                       self.data.draw(MODES))

    def op_select_slip(self) -> None:
        self.ledger.select_packing_slip(self._pick(self.invoices), self._pick(self.slips))

    def op_post_invoice(self) -> None:
        self._post_invoice(self._pick(self.invoices))

    def op_bill(self) -> None:
        self.invoices.append(invoice_all(self.ledger, self.order, self.line))
        self._post_invoice(self.invoices[-1])

    def op_bill_partial(self) -> None:
        self.invoices.append(bill_one_per_slip(self.ledger, self.order, self.line))
        self._post_invoice(self.invoices[-1])

    def op_return(self) -> None:
        """A customer returns one unit of the target line, scanned from the pool
        or from what was shipped; the sale is then closed (R12, R17)."""
        ledger = self.ledger
        order = ledger.order(self.order)
        item_id = ledger._state.order_line(self.order, self.line).item_id
        shipped = [r.serial for r in ledger.shipped_registrations(self.order, self.line)]
        serial = self.data.draw(st.sampled_from([*shipped, "S1", "S2", None]))
        rma = ledger.open_return(order.customer_id, {1: (item_id, 1)})
        ledger.register_return(rma.id, 1, serial)
        ledger.receive_return(rma.id, DAY)
        event("return received")

    def _post_invoice(self, invoice: str) -> None:
        self.ledger.post_invoice(invoice, DAY)
        check_partial_slips_after_post(self.ledger, invoice)
        event("invoice posted")


OPS = [
    "open", "scan", "scan", "scan", "fill", "fill", "post", "ship", "ship", "cancel",
    "correct", "change", "invoice", "invoice_all", "select", "select_slip", "post_invoice",
    "bill", "bill_partial", "discard", "discard_invoice", "return",
]


@SETTINGS
@given(st.data())
def test_random_operations_keep_posted_documents_lawful(data: st.DataObject) -> None:
    run = Run(data)
    for _ in range(data.draw(st.integers(5, 45), label="steps")):
        run.step()
    check_rebuilt_ledger_matches(run.ledger)


def check_rebuilt_ledger_matches(ledger: SalesLedger) -> None:
    """Stored rows rebuild the same tables and the same indexes (what the
    order store does on restart)."""
    copy = SalesLedger.from_records(ledger.records())
    assert copy.records() == ledger.records()

    def non_empty(index: object) -> dict[str, dict[object, set[object]]]:
        return {name: {k: v for k, v in table.items() if v}
                for name, table in vars(index).items()}

    assert non_empty(copy._state.index) == non_empty(ledger._state.index)


@SETTINGS
@given(st.data())
def test_refused_operations_leave_no_change(data: st.DataObject) -> None:
    """Every refusal is all-or-nothing: no records change behind an error."""
    ledger = fresh()
    slip = ledger.open_packing_slip("SO-A", {1: 2, 2: 3, 3: 1}).id
    for _ in range(data.draw(st.integers(1, 12))):
        ledger.register(slip, data.draw(LINES), data.draw(SERIALS), data.draw(MODES))
    ledger.take_changes()
    before = ledger.records()
    try:
        ledger.post_packing_slip(slip, DAY)
    except SalesRuleError:
        assert ledger.take_changes() == []
        assert ledger.records() == before


@SETTINGS
@given(st.data())
def test_station_decision_on_line_view_equals_ledger_decision(data: st.DataObject) -> None:
    """The station decides on its cached LineView; the order store must agree.
    Two draft slips share serials of one item, so R17 is in play."""
    ledger = fresh()
    first = ledger.open_packing_slip("SO-A", {1: 2, 2: 3, 3: 1}).id
    second = ledger.open_packing_slip("SO-B", {1: 3}).id
    for _ in range(data.draw(st.integers(1, 30))):
        slip = data.draw(st.sampled_from([first, second]))
        line = data.draw(LINES)
        check_scan_agrees(ledger, slip, line, data.draw(SERIALS), data.draw(MODES))
