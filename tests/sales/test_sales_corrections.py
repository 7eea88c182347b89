"""R10 (change a serial) and R11 (correct or cancel a packing slip)."""

from __future__ import annotations

from datetime import date

import pytest
from sales_shop import Ship

from scangw.sales import Reason, SalesLedger, SalesRuleError, ScanMode
from scangw.sales.records import LineStatus, RegistrationStatus, SlipStatus

DAY = date(2026, 3, 2)


@pytest.fixture
def posted(ledger: SalesLedger, ship: Ship) -> str:
    """SO-1 line 1: three televisions shipped, one of them not readable."""
    ledger.add_order("SO-1", "C1", {1: ("TV", 3), 2: ("BOLT", 4)})
    return str(ship(ledger, "SO-1", 1, ["T1", None, "T3"]))


def test_r10_change_serial_updates_the_packing_slip(ledger: SalesLedger, posted: str) -> None:
    changed = ledger.change_serial(posted, 1, "T3", "T3-REAL")
    assert ledger.journal_line(posted, 1).serials == ("T1", None, "T3-REAL")
    (old,) = [r for r in ledger.registrations_of_serial("T3") if r.id == changed.replaces]
    assert (old.serial, old.status) == ("T3", RegistrationStatus.REPLACED)


def test_r10_r7_fill_a_not_readable_blank_later(ledger: SalesLedger, posted: str) -> None:
    ledger.change_serial(posted, 1, None, "T2")
    assert ledger.journal_line(posted, 1).serials == ("T1", "T3", "T2")
    with pytest.raises(SalesRuleError) as refused:
        ledger.change_serial(posted, 1, None, "T4")
    assert refused.value.reason is Reason.NOT_ON_LIST


def test_r10_refused_once_invoiced(ledger: SalesLedger, posted: str) -> None:
    invoice = ledger.open_invoice("SO-1", {1: 3})
    ledger.select_packing_slip(invoice.id, posted)
    ledger.post_invoice(invoice.id, DAY)
    with pytest.raises(SalesRuleError) as refused:
        ledger.change_serial(posted, 1, "T1", "T1-NEW")
    assert refused.value.reason is Reason.ALREADY_INVOICED
    assert ledger.journal_line(posted, 1).serials == ("T1", None, "T3")


def test_r10_allowed_for_the_units_not_yet_invoiced(ledger: SalesLedger, posted: str) -> None:
    invoice = ledger.open_invoice("SO-1", {1: 1})
    ledger.select_for_invoice(invoice.id, 1, "T1")
    ledger.post_invoice(invoice.id, DAY)
    ledger.change_serial(posted, 1, "T3", "T3-NEW")
    with pytest.raises(SalesRuleError):
        ledger.change_serial(posted, 1, "T1", "T1-NEW")


def test_r10_refused_after_negative_quantity_correction(
    ledger: SalesLedger, posted: str
) -> None:
    ledger.correct_packing_slip_line(posted, 1)
    again = ledger.open_packing_slip("SO-1", {1: 3})
    ledger.post_packing_slip(again.id, DAY)
    with pytest.raises(SalesRuleError) as refused:
        ledger.change_serial(again.id, 1, "T1", "T1-NEW")
    assert refused.value.reason is Reason.LINE_CORRECTED


def test_r10_new_serial_must_be_unique(ledger: SalesLedger, posted: str) -> None:
    with pytest.raises(SalesRuleError) as refused:
        ledger.change_serial(posted, 1, "T3", "T1")
    assert refused.value.reason is Reason.DUPLICATE_SERIAL


def test_r11_serialized_line_cannot_be_partly_corrected(
    ledger: SalesLedger, posted: str
) -> None:
    with pytest.raises(SalesRuleError) as refused:
        ledger.correct_packing_slip_line(posted, 1, new_quantity=2)
    assert refused.value.reason is Reason.PARTIAL_CORRECTION
    assert ledger.packing_slip_lines(posted)[0].status is LineStatus.LIVE
    line = ledger.correct_packing_slip_line(posted, 1)
    assert line.status is LineStatus.REVERSED
    assert ledger.packing_slip(posted).status is SlipStatus.CORRECTED
    assert ledger.open_quantity("SO-1", 1) == 3


def test_r11_unserialized_line_may_be_partly_corrected(ledger: SalesLedger) -> None:
    ledger.add_order("SO-2", "C1", {1: ("BOLT", 4)})
    slip = ledger.open_packing_slip("SO-2")
    ledger.post_packing_slip(slip.id, DAY)
    assert ledger.correct_packing_slip_line(slip.id, 1, new_quantity=1).quantity == 1
    assert ledger.open_quantity("SO-2", 1) == 3


def test_r11_next_slip_reuses_reversed_serials(ledger: SalesLedger, posted: str) -> None:
    cancelled = ledger.cancel_packing_slip(posted)
    assert cancelled.status is SlipStatus.CANCELLED
    assert ledger.journal_line(posted, 1).status == LineStatus.REVERSED
    again = ledger.open_packing_slip("SO-1", {1: 3})
    assert ledger.line_view(again.id, 1).serials == ("T1", None, "T3")
    ledger.post_packing_slip(again.id, DAY)  # no scan needed
    assert [t.packing_slip_id for t in ledger.trace("T1", today=DAY)] == [again.id]


def test_r11_reuse_only_fills_the_new_quantity(ledger: SalesLedger, posted: str) -> None:
    ledger.cancel_packing_slip(posted)
    first = ledger.open_packing_slip("SO-1", {1: 2})
    assert ledger.line_view(first.id, 1).serials == ("T1", None)
    second = ledger.open_packing_slip("SO-1", {1: 1})
    assert ledger.line_view(second.id, 1).serials == ("T3",)


def test_r11_reversed_serial_taken_elsewhere_is_not_reused(
    ledger: SalesLedger, posted: str
) -> None:
    ledger.cancel_packing_slip(posted)
    ledger.add_order("SO-9", "C2", {1: ("TV", 1)})
    other = ledger.open_packing_slip("SO-9")
    assert ledger.register(other.id, 1, "T1").accepted
    again = ledger.open_packing_slip("SO-1", {1: 3})
    assert ledger.line_view(again.id, 1).serials == (None, "T3")


def test_r11_invoiced_line_cannot_be_reversed(ledger: SalesLedger, posted: str) -> None:
    invoice = ledger.open_invoice("SO-1", {1: 3})
    ledger.select_packing_slip(invoice.id, posted)
    ledger.post_invoice(invoice.id, DAY)
    with pytest.raises(SalesRuleError) as refused:
        ledger.cancel_packing_slip(posted)
    assert refused.value.reason is Reason.ALREADY_INVOICED
    assert ledger.packing_slip(posted).status is SlipStatus.POSTED


def test_r11_reverse_twice_or_a_draft_is_refused(ledger: SalesLedger, posted: str) -> None:
    ledger.correct_packing_slip_line(posted, 1)
    with pytest.raises(SalesRuleError) as twice:
        ledger.correct_packing_slip_line(posted, 1)
    assert twice.value.reason is Reason.ALREADY_REVERSED
    draft = ledger.open_packing_slip("SO-1", {2: 1})
    with pytest.raises(SalesRuleError) as not_posted:
        ledger.cancel_packing_slip(draft.id)
    assert not_posted.value.reason is Reason.DOCUMENT_NOT_POSTED


def test_discarded_draft_frees_its_serials_and_reuse(ledger: SalesLedger, posted: str) -> None:
    ledger.cancel_packing_slip(posted)
    draft = ledger.open_packing_slip("SO-1", {1: 3})
    assert ledger.line_view(draft.id, 1).serials == ("T1", None, "T3")
    assert ledger.register(draft.id, 1, "T3", ScanMode.REMOVE).accepted
    assert ledger.discard_packing_slip(draft.id).status is SlipStatus.DISCARDED
    assert ledger.open_quantity("SO-1", 1) == 3
    again = ledger.open_packing_slip("SO-1", {1: 3})
    assert ledger.line_view(again.id, 1).serials == ("T1", None, "T3")
    with pytest.raises(SalesRuleError) as refused:
        ledger.journal_line(draft.id, 1)
    assert refused.value.reason is Reason.DOCUMENT_NOT_POSTED
    with pytest.raises(SalesRuleError):
        ledger.discard_packing_slip(posted)


def test_discarded_invoice_frees_its_selection(ledger: SalesLedger, posted: str) -> None:
    draft = ledger.open_invoice("SO-1", {1: 3})
    ledger.select_packing_slip(draft.id, posted)
    with pytest.raises(SalesRuleError) as selected:
        ledger.cancel_packing_slip(posted)
    assert selected.value.reason is Reason.ALREADY_INVOICED
    ledger.discard_invoice(draft.id)
    again = ledger.open_invoice("SO-1", {1: 3})
    assert all(d.accepted for d in ledger.select_packing_slip(again.id, posted))
    ledger.discard_invoice(again.id)
    assert ledger.cancel_packing_slip(posted).status is SlipStatus.CANCELLED
