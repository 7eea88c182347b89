"""R12: returned serials, checked against what was shipped to the customer."""

from __future__ import annotations

from datetime import date

import pytest
from sales_shop import Ship

from scangw.sales import Reason, ReturnCheck, SalesLedger, SalesRuleError, ScanMode
from scangw.sales.records import DocumentStatus

DAY = date(2026, 3, 2)


@pytest.fixture
def sold(ledger: SalesLedger, ship: Ship) -> SalesLedger:
    """R1 and R2 shipped to C1 on SO-1."""
    ledger.add_order("SO-1", "C1", {1: ("TV", 2)})
    ship(ledger, "SO-1", 1, ["R1", "R2"])
    return ledger


def test_r12_return_registers_serials_on_receipt(sold: SalesLedger) -> None:
    rma = sold.open_return("C1", {1: ("TV", 2)})
    assert sold.register_return(rma.id, 1, "R1").reason == Reason.ADDED
    with pytest.raises(SalesRuleError) as short:
        sold.receive_return(rma.id, DAY)
    assert short.value.reason is Reason.NOT_ENOUGH_SERIALS
    assert sold.register_return(rma.id, 1, None).accepted
    received = sold.receive_return(rma.id, DAY)
    assert received.status is DocumentStatus.POSTED
    assert sold.journal_line(rma.id, 1).serials == ("R1", None)
    assert sold.trace("R1", today=DAY)[0].returns == (rma.id,)


def test_r12_serial_not_sold_to_customer_warns(sold: SalesLedger) -> None:
    rma = sold.open_return("C2", {1: ("TV", 1)})
    decision = sold.register_return(rma.id, 1, "R1")
    assert (decision.accepted, decision.reason) == (True, Reason.NOT_SOLD_TO_CUSTOMER)
    assert decision.message.startswith("warning:")
    (reg,) = [r for r in sold.registrations_of_serial("R1") if r.document_id == rma.id]
    assert reg.warning is not None
    assert "C2" in reg.warning


def test_r12_refuse_mode_refuses_unknown_serial(sold: SalesLedger) -> None:
    sold.return_check = ReturnCheck.REFUSE
    rma = sold.open_return("C1", {1: ("TV", 1)})
    decision = sold.register_return(rma.id, 1, "NEVER-SOLD")
    assert (decision.accepted, decision.reason) == (False, Reason.NOT_SOLD_TO_CUSTOMER)
    assert sold.return_line_view(rma.id, 1).serials == ()
    assert sold.register_return(rma.id, 1, "R2").reason == Reason.ADDED


def test_r12_same_serial_returned_twice_is_refused(sold: SalesLedger) -> None:
    first = sold.open_return("C1", {1: ("TV", 1)})
    second = sold.open_return("C1", {1: ("TV", 1)})
    sold.register_return(first.id, 1, "R1")
    dup = sold.register_return(second.id, 1, "R1")
    assert (dup.accepted, dup.reason) == (False, Reason.DUPLICATE_SERIAL)
    assert sold.register_return(first.id, 1, "R1", ScanMode.REMOVE).accepted
    assert sold.register_return(second.id, 1, "R1").accepted


def test_r12_r17_received_return_lets_the_unit_be_sold_again(
    sold: SalesLedger, ship: Ship
) -> None:
    sold.add_order("SO-2", "C2", {1: ("TV", 1)})
    resale = sold.open_packing_slip("SO-2")
    refused = sold.register(resale.id, 1, "R1")
    assert (refused.accepted, refused.reason) == (False, Reason.DUPLICATE_SERIAL)
    rma = sold.open_return("C1", {1: ("TV", 1)}, order_id="SO-1")
    assert sold.register_return(rma.id, 1, "R1").reason == Reason.ADDED
    sold.receive_return(rma.id, DAY)
    assert sold.register(resale.id, 1, "R1").accepted
    sold.post_packing_slip(resale.id, DAY)
    first, second = sold.trace("R1", today=DAY)
    assert (first.customer_id, first.returns) == ("C1", (rma.id,))
    assert (second.customer_id, second.returns) == ("C2", ())
    assert sold.journal_line(first.packing_slip_id, 1).serials == ("R1", "R2")


def test_r12_return_bound_to_an_order_checks_that_order(sold: SalesLedger, ship: Ship) -> None:
    sold.add_order("SO-3", "C1", {1: ("TV", 1)})
    ship(sold, "SO-3", 1, ["R3"])
    rma = sold.open_return("C1", {1: ("TV", 2)}, order_id="SO-1")
    wrong = sold.register_return(rma.id, 1, "R3")
    assert (wrong.accepted, wrong.reason) == (True, Reason.NOT_SOLD_TO_CUSTOMER)
    assert "on SO-1" in wrong.message
    assert sold.register_return(rma.id, 1, "R2").reason == Reason.ADDED
    with pytest.raises(SalesRuleError) as foreign:
        sold.open_return("C2", {1: ("TV", 1)}, order_id="SO-1")
    assert foreign.value.reason is Reason.INVALID_VALUE


def test_r12_r13_invoice_inquiry_keeps_a_returned_serial(sold: SalesLedger) -> None:
    slip_id = sold.trace("R1", today=DAY)[0].packing_slip_id
    invoice = sold.open_invoice("SO-1", {1: 2})
    sold.select_packing_slip(invoice.id, slip_id)
    sold.post_invoice(invoice.id, DAY)
    rma = sold.open_return("C1", {1: ("TV", 1)})
    sold.register_return(rma.id, 1, "R1")
    sold.receive_return(rma.id, DAY)
    assert sold.journal_line(invoice.id, 1).serials == ("R1", "R2")
    (trace,) = sold.trace("R1", today=DAY)
    assert (trace.invoice_id, trace.returns) == (invoice.id, (rma.id,))


def test_r11_r12_shipment_of_a_returned_unit_cannot_be_reversed(sold: SalesLedger) -> None:
    slip_id = sold.trace("R1", today=DAY)[0].packing_slip_id
    rma = sold.open_return("C1", {1: ("TV", 1)})
    sold.register_return(rma.id, 1, "R1")
    sold.receive_return(rma.id, DAY)
    with pytest.raises(SalesRuleError) as refused:
        sold.cancel_packing_slip(slip_id)
    assert refused.value.reason is Reason.ALREADY_RETURNED
    assert sold.journal_line(slip_id, 1).serials == ("R1", "R2")
