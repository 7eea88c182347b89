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
