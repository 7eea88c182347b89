"""The storage contract: every change is reported, and records rebuild the ledger."""

from __future__ import annotations

from datetime import date

import pytest

from scangw.sales import Reason, SalesLedger, SalesRuleError
from scangw.sales.records import (
    Customer,
    OrderLine,
    PackingSlip,
    Registration,
    SalesOrder,
    TrackingGroup,
)

DAY = date(2026, 3, 2)


def test_changes_list_every_created_or_changed_record(ledger: SalesLedger) -> None:
    ledger.take_changes()
    ledger.add_order("SO-1", "C1", {1: ("TV", 1)})
    slip = ledger.open_packing_slip("SO-1")
    ledger.register(slip.id, 1, "X1")
    ledger.post_packing_slip(slip.id, DAY)
    changes = ledger.take_changes()
    assert [type(c).__name__ for c in changes] == [
        "SalesOrder", "OrderLine", "PackingSlip", "PackingSlipLine", "Registration",
        "PackingSlip",
    ]
    assert isinstance(changes[-1], PackingSlip)
    assert changes[-1].posted_on == DAY
    assert ledger.take_changes() == []


def test_refused_operation_changes_nothing(ledger: SalesLedger) -> None:
    ledger.add_order("SO-1", "C1", {1: ("TV", 2)})
    slip = ledger.open_packing_slip("SO-1")
    ledger.take_changes()
    with pytest.raises(SalesRuleError) as refused:
        ledger.post_packing_slip(slip.id, DAY)
    assert refused.value.reason is Reason.NOT_ENOUGH_SERIALS
    assert ledger.take_changes() == []
    assert not ledger.register(slip.id, 1, "bad serial").accepted
    assert ledger.take_changes() == []


def test_records_rebuild_an_equal_ledger(ledger: SalesLedger) -> None:
    ledger.add_order("SO-1", "C1", {1: ("TV", 2)})
    slip = ledger.open_packing_slip("SO-1")
    ledger.register(slip.id, 1, "X1")
    rows = ledger.records()
    copy = SalesLedger.from_records(reversed(rows))
    assert sorted(map(repr, copy.records())) == sorted(map(repr, rows))
    assert copy.take_changes() == []
    assert copy.register(slip.id, 1, "X1").reason == Reason.DUPLICATE_SERIAL
    assert copy.register(slip.id, 1, "X2").accepted
    new = [c for c in copy.take_changes() if isinstance(c, Registration)]
    assert new[0].id == "REG-2", "id counters continue after the stored rows"


def test_define_records_is_all_or_nothing(ledger: SalesLedger) -> None:
    ledger.add_order("SO-1", "C1", {1: ("TV", 1)})
    ledger.open_packing_slip("SO-1")
    ledger.take_changes()
    new_customer = Customer("C9", "Northwind")
    switch_off = TrackingGroup("SER", "Serial in sales")  # R1: SER has transactions
    order = SalesOrder("SO-9", "C9")
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_records([new_customer, order, OrderLine("SO-9", 1, "TV", 2), switch_off])
    assert refused.value.reason is Reason.GROUP_HAS_TRANSACTIONS
    assert refused.value.record is switch_off
    assert ledger.take_changes() == []
    with pytest.raises(SalesRuleError):
        ledger.customer("C9")
    ledger.define_records([new_customer, order, OrderLine("SO-9", 1, "TV", 2)])
    assert [ln.quantity for ln in ledger.order_lines("SO-9")] == [2]
