"""Packing slips: R2-R7, R15, R17 and the station's LineView."""

from __future__ import annotations

from datetime import date

import pytest

from scangw.sales import Reason, SalesLedger, SalesRuleError, ScanMode, decide_scan
from scangw.sales.records import DocumentKind, Registration, RegistrationStatus, SlipStatus

DAY = date(2026, 3, 2)


@pytest.fixture
def slip_id(ledger: SalesLedger) -> str:
    """SO-1001 line 2: five televisions on a draft packing slip."""
    ledger.add_order("SO-1001", "C1", {1: ("BOLT", 10), 2: ("TV", 5)})
    return ledger.open_packing_slip("SO-1001", {2: 5}).id


def test_r2_posting_with_too_few_serials_fails(ledger: SalesLedger, slip_id: str) -> None:
    for serial in ("A1", "A2", "A3"):
        ledger.register(slip_id, 2, serial)
    with pytest.raises(SalesRuleError) as refused:
        ledger.post_packing_slip(slip_id, DAY)
    assert refused.value.reason is Reason.NOT_ENOUGH_SERIALS
    assert "not enough serial numbers registered: 3 of 5" in refused.value.message
    assert ledger.packing_slip(slip_id).status is SlipStatus.DRAFT


def test_r2_one_registration_per_unit_posts(ledger: SalesLedger, slip_id: str) -> None:
    for serial in ("A1", "A2", "A3", "A4"):
        ledger.register(slip_id, 2, serial)
    ledger.register(slip_id, 2, None)
    posted = ledger.post_packing_slip(slip_id, DAY)
    assert (posted.status, posted.posted_on) == (SlipStatus.POSTED, DAY)


def test_r3_blank_issue_allowed_posts_with_fewer(ledger: SalesLedger) -> None:
    ledger.add_order("SO-2", "C1", {1: ("CABLE", 4)})
    slip = ledger.open_packing_slip("SO-2")
    ledger.register(slip.id, 1, "CB-1")
    assert ledger.post_packing_slip(slip.id, DAY).status is SlipStatus.POSTED


def test_r3_without_blank_issue_fewer_is_refused(ledger: SalesLedger) -> None:
    ledger.define_group("BLANK", "Serial, blank issue", active_in_sales_process=True)
    ledger.add_order("SO-2", "C1", {1: ("CABLE", 4)})
    slip = ledger.open_packing_slip("SO-2")
    ledger.register(slip.id, 1, "CB-1")
    with pytest.raises(SalesRuleError, match="1 of 4"):
        ledger.post_packing_slip(slip.id, DAY)


def test_r4_station_refuses_add_once_line_is_full(ledger: SalesLedger, slip_id: str) -> None:
    for serial in ("A1", "A2", "A3", "A4", "A5"):
        assert ledger.register(slip_id, 2, serial).accepted
    decision = ledger.register(slip_id, 2, "A6")
    assert (decision.accepted, decision.reason) == (False, Reason.OVER_QUANTITY)
    assert decision.message == "SO-1001 line 2 already has 5 of 5 serials"
    assert ledger.register(slip_id, 2, None).reason == Reason.OVER_QUANTITY


def test_r4_posting_with_too_many_registrations_fails(ledger: SalesLedger) -> None:
    ledger.add_order("SO-3", "C1", {1: ("TV", 2)})
    slip = ledger.open_packing_slip("SO-3")
    for serial in ("A1", "A2"):
        ledger.register(slip.id, 1, serial)
    # A stored list can hold more than the line's quantity (e.g. a restored
    # copy written by an older station); posting must still refuse it.
    ledger._state.put(
        Registration("REG-99", "TV", "A3", DocumentKind.PACKING_SLIP, slip.id, 1, "SO-3")
    )
    with pytest.raises(SalesRuleError) as refused:
        ledger.post_packing_slip(slip.id, DAY)
    assert refused.value.reason is Reason.TOO_MANY_SERIALS
    assert "3 of 2" in refused.value.message


def test_r5_serials_only_on_draft_documents(ledger: SalesLedger, slip_id: str) -> None:
    for serial in ("A1", "A2", "A3", "A4", "A5"):
        ledger.register(slip_id, 2, serial)
    ledger.post_packing_slip(slip_id, DAY)
    decision = ledger.register(slip_id, 2, "A1", ScanMode.REMOVE)
    assert (decision.accepted, decision.reason) == (False, Reason.DOCUMENT_NOT_DRAFT)
    assert ledger.journal_line(slip_id, 2).serials == ("A1", "A2", "A3", "A4", "A5")


def test_r5_order_line_has_no_registration_list(ledger: SalesLedger, slip_id: str) -> None:
    decision = ledger.register("SO-1001", 2, "A1")
    assert (decision.accepted, decision.reason) == (False, Reason.UNKNOWN_RECORD)


def test_r6_remove_mode_removes_only_listed_serials(ledger: SalesLedger, slip_id: str) -> None:
    ledger.register(slip_id, 2, "A1")
    ledger.register(slip_id, 2, "A2")
    assert ledger.register(slip_id, 2, "A1", ScanMode.REMOVE).reason == Reason.REMOVED
    missing = ledger.register(slip_id, 2, "ZZ", ScanMode.REMOVE)
    assert (missing.accepted, missing.reason) == (False, Reason.NOT_ON_LIST)
    assert ledger.line_view(slip_id, 2).serials == ("A2",)
    removed = ledger.registrations_of_serial("A1")
    assert removed[0].status is RegistrationStatus.REMOVED


def test_r6_same_serial_in_add_mode_is_not_a_remove(ledger: SalesLedger, slip_id: str) -> None:
    ledger.register(slip_id, 2, "A1")
    again = ledger.register(slip_id, 2, "A1", ScanMode.ADD)
    assert (again.accepted, again.reason) == (False, Reason.DUPLICATE_SERIAL)
    assert ledger.line_view(slip_id, 2).serials == ("A1",)


def test_r7_not_readable_counts_and_removes(ledger: SalesLedger, slip_id: str) -> None:
    assert ledger.register(slip_id, 2, None).accepted
    assert ledger.register(slip_id, 2, None).accepted
    assert ledger.line_view(slip_id, 2).serials == (None, None)
    assert ledger.register(slip_id, 2, None, ScanMode.REMOVE).accepted
    assert ledger.line_view(slip_id, 2).serials == (None,)
    for serial in ("A1", "A2", "A3", "A4"):
        ledger.register(slip_id, 2, serial)
    ledger.post_packing_slip(slip_id, DAY)
    assert ledger.journal_line(slip_id, 2).serials.count(None) == 1


def test_r15_serials_need_no_stock_and_exist_only_from_the_sale(
    ledger: SalesLedger, slip_id: str
) -> None:
    assert ledger.trace("NEVER-SEEN", today=DAY) == []
    assert ledger.register(slip_id, 2, "NEVER-SEEN").accepted  # no receipt, no on-hand list
    assert not hasattr(ledger, "on_hand")
    for serial in ("A2", "A3", "A4", "A5"):
        ledger.register(slip_id, 2, serial)
    assert ledger.trace("NEVER-SEEN", today=DAY) == []  # a draft is not a sale yet
    ledger.post_packing_slip(slip_id, DAY)
    assert [t.packing_slip_id for t in ledger.trace("NEVER-SEEN", today=DAY)] == [slip_id]


def test_r17_duplicate_on_another_document_is_refused(ledger: SalesLedger, slip_id: str) -> None:
    ledger.add_order("SO-2", "C2", {1: ("TV", 1), 2: ("DRILL", 1)})
    other = ledger.open_packing_slip("SO-2")
    assert ledger.register(slip_id, 2, "A1").accepted
    dup = ledger.register(other.id, 1, "A1")
    assert (dup.accepted, dup.reason) == (False, Reason.DUPLICATE_SERIAL)
    assert "A1" in dup.message
    assert ledger.register(other.id, 2, "A1").accepted, "uniqueness is per item"


def test_r17_removed_serial_is_free_again(ledger: SalesLedger, slip_id: str) -> None:
    ledger.add_order("SO-2", "C2", {1: ("TV", 1)})
    other = ledger.open_packing_slip("SO-2")
    ledger.register(slip_id, 2, "A1")
    ledger.register(slip_id, 2, "A1", ScanMode.REMOVE)
    assert ledger.register(other.id, 1, "A1").accepted


def test_invalid_serial_text_is_refused(ledger: SalesLedger, slip_id: str) -> None:
    for bad in ("", "A 1", "X" * 51, "A\t1"):
        decision = ledger.register(slip_id, 2, bad)
        assert (decision.accepted, decision.reason) == (False, Reason.INVALID_SERIAL), bad
    assert ledger.line_view(slip_id, 2).serials == ()


def test_slip_cannot_ship_more_than_open(ledger: SalesLedger, slip_id: str) -> None:
    with pytest.raises(SalesRuleError) as refused:
        ledger.open_packing_slip("SO-1001", {1: 11})
    assert refused.value.reason is Reason.OVER_OPEN_QUANTITY
    second = ledger.open_packing_slip("SO-1001", {2: 5})
    for serial in ("A1", "A2", "A3", "A4", "A5"):
        ledger.register(slip_id, 2, serial)
        ledger.register(second.id, 2, "B" + serial)
    ledger.post_packing_slip(slip_id, DAY)
    with pytest.raises(SalesRuleError) as late:
        ledger.post_packing_slip(second.id, DAY)
    assert late.value.reason is Reason.OVER_OPEN_QUANTITY


def test_line_view_matches_decide_scan(ledger: SalesLedger, slip_id: str) -> None:
    ledger.register(slip_id, 2, "A1")
    view = ledger.line_view(slip_id, 2)
    assert view.serials == ("A1",)
    expected = decide_scan(view, "A2", ScanMode.ADD)
    assert ledger.register(slip_id, 2, "A2") == expected
