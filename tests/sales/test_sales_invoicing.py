"""Invoices (R8, R9), inquiry (R13), printing input (R14) and trace (R18)."""

from __future__ import annotations

from datetime import date

import pytest
from sales_shop import Ship

from scangw.sales import Reason, SalesLedger, SalesRuleError, ScanMode
from scangw.sales.records import DocumentStatus

DAY = date(2026, 3, 2)


@pytest.fixture
def three_slips(ledger: SalesLedger, ship: Ship) -> list[str]:
    """SO-7 line 1: six televisions shipped on three slips of two."""
    ledger.add_order("SO-7", "C1", {1: ("TV", 6)})
    return [ship(ledger, "SO-7", 1, [f"S{n}A", f"S{n}B"]) for n in (1, 2, 3)]


def test_r9_three_slips_one_each_refused(ledger: SalesLedger, three_slips: list[str]) -> None:
    invoice = ledger.open_invoice("SO-7", {1: 3})
    for serial in ("S1A", "S2A", "S3A"):
        assert ledger.select_for_invoice(invoice.id, 1, serial).accepted
    with pytest.raises(SalesRuleError) as refused:
        ledger.post_invoice(invoice.id, DAY)
    assert refused.value.reason is Reason.SEVERAL_PARTIAL_SLIPS
    assert all(slip in refused.value.message for slip in three_slips)
    assert ledger.invoice(invoice.id).status is DocumentStatus.DRAFT


def test_r9_whole_slips_plus_one_partial_is_allowed(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    invoice = ledger.open_invoice("SO-7", {1: 3})
    ledger.select_packing_slip(invoice.id, three_slips[0])
    ledger.select_for_invoice(invoice.id, 1, "S2B")
    assert ledger.post_invoice(invoice.id, DAY).status is DocumentStatus.POSTED
    rest = ledger.open_invoice("SO-7", {1: 3})
    for serial in ("S2A", "S3A", "S3B"):
        ledger.select_for_invoice(rest.id, 1, serial)
    ledger.post_invoice(rest.id, DAY)  # completes S2 and takes S3 whole


def test_r8_invoice_selects_which_packing_slip_serials(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    invoice = ledger.open_invoice("SO-7", {1: 1})
    ledger.select_for_invoice(invoice.id, 1, "S1B")
    ledger.post_invoice(invoice.id, DAY)
    assert ledger.journal_line(invoice.id, 1).serials == ("S1B",)
    line = ledger.journal_line(three_slips[0], 1)
    assert line.serials == ("S1A", "S1B"), "the packing slip keeps its serials"


def test_r8_cannot_select_unshipped_or_foreign_serial(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    invoice = ledger.open_invoice("SO-7", {1: 1})
    unknown = ledger.select_for_invoice(invoice.id, 1, "NOT-SHIPPED")
    assert (unknown.accepted, unknown.reason) == (False, Reason.NOT_SHIPPED)
    other = ledger.open_invoice("SO-7", {1: 1})
    ledger.select_for_invoice(invoice.id, 1, "S1A")
    taken = ledger.select_for_invoice(other.id, 1, "S1A")
    assert (taken.accepted, taken.reason) == (False, Reason.SELECTED_ELSEWHERE)


def test_r8_not_more_than_shipped(ledger: SalesLedger, three_slips: list[str]) -> None:
    with pytest.raises(SalesRuleError) as refused:
        ledger.open_invoice("SO-7", {1: 7})
    assert refused.value.reason is Reason.OVER_SHIPPED_QUANTITY
    invoice = ledger.open_invoice("SO-7", {1: 1})
    ledger.select_for_invoice(invoice.id, 1, "S1A")
    over = ledger.select_for_invoice(invoice.id, 1, "S1B")
    assert (over.accepted, over.reason) == (False, Reason.OVER_QUANTITY)


def test_r8_r2_invoice_line_needs_its_serials(ledger: SalesLedger, three_slips: list[str]) -> None:
    invoice = ledger.open_invoice("SO-7", {1: 2})
    ledger.select_for_invoice(invoice.id, 1, "S1A")
    with pytest.raises(SalesRuleError, match="1 of 2") as refused:
        ledger.post_invoice(invoice.id, DAY)
    assert refused.value.reason is Reason.NOT_ENOUGH_SERIALS
    assert ledger.select_for_invoice(invoice.id, 1, "S1A", ScanMode.REMOVE).accepted
    assert ledger.invoice_line_view(invoice.id, 1).serials == ()


def test_r8_invoiced_units_cannot_be_invoiced_again(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    invoice = ledger.open_invoice("SO-7", {1: 6})
    for slip in three_slips:
        ledger.select_packing_slip(invoice.id, slip)
    ledger.post_invoice(invoice.id, DAY)
    with pytest.raises(SalesRuleError) as refused:
        ledger.open_invoice("SO-7", {1: 1})
    assert refused.value.reason is Reason.OVER_SHIPPED_QUANTITY


def test_r13_inquiry_lists_journal_line_serials(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    line = ledger.journal_line(three_slips[1], 1)
    assert (line.kind, line.item_id, line.quantity, line.serials) == (
        "packing_slip", "TV", 2, ("S2A", "S2B"))
    draft = ledger.open_invoice("SO-7", {1: 1})
    with pytest.raises(SalesRuleError) as refused:
        ledger.journal_line(draft.id, 1)
    assert refused.value.reason is Reason.DOCUMENT_NOT_POSTED


def test_r14_printable_document_carries_serials(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    document = ledger.printable(three_slips[2])
    assert (document.customer_name, document.reference) == ("Contoso Retail", "SO-7")
    assert document.lines[0].serials == ("S3A", "S3B")
    draft = ledger.open_invoice("SO-7", {1: 1})
    with pytest.raises(SalesRuleError):
        ledger.printable(draft.id)


def test_r18_trace_finds_invoice_customer_and_warranty(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    invoice = ledger.open_invoice("SO-7", {1: 2})
    ledger.select_packing_slip(invoice.id, three_slips[0])
    ledger.post_invoice(invoice.id, date(2026, 1, 31))
    (trace,) = ledger.trace("S1A", today=date(2028, 1, 31))
    assert (trace.invoice_id, trace.customer_id, trace.sale_date) == (
        invoice.id, "C1", date(2026, 1, 31))
    assert trace.warranty_until == date(2028, 1, 31)  # 24 months
    assert trace.warranty_valid
    assert trace.warranty_state == "valid until 2028-01-31"
    (late,) = ledger.trace("S1A", today=date(2028, 2, 1))
    assert late.warranty_valid is False
    assert late.warranty_state == "expired on 2028-01-31"


def test_r18_shipped_but_not_invoiced_has_no_sale_date(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    (trace,) = ledger.trace("S2A", today=DAY)
    assert (trace.invoice_id, trace.sale_date, trace.warranty_valid) == (None, None, None)
    assert trace.warranty_state == "not invoiced yet"


def test_r18_warranty_in_days(ledger: SalesLedger, ship: Ship) -> None:
    ledger.add_order("SO-8", "C2", {1: ("DRILL", 1)})
    slip = ship(ledger, "SO-8", 1, ["D1"])
    invoice = ledger.open_invoice("SO-8", {1: 1})
    ledger.select_packing_slip(invoice.id, slip)
    ledger.post_invoice(invoice.id, date(2026, 1, 1))
    (trace,) = ledger.trace("D1", today=date(2027, 1, 1), item_id="DRILL")
    assert trace.warranty_until == date(2027, 1, 1)
    assert trace.customer_name == "Fabrikam Stores"
    assert ledger.trace("D1", today=DAY, item_id="TV") == []


def test_r5_serial_registered_on_the_invoice_updates_the_packing_slip(
    ledger: SalesLedger, ship: Ship
) -> None:
    ledger.add_order("SO-5", "C1", {1: ("CABLE", 3)})
    slip = ship(ledger, "SO-5", 1, ["CB-1"], quantity=3)  # blank issue allowed
    invoice = ledger.open_invoice("SO-5", {1: 3})
    assert ledger.select_for_invoice(invoice.id, 1, "CB-1").accepted
    assert ledger.select_for_invoice(invoice.id, 1, "CB-2").accepted
    assert ledger.select_for_invoice(invoice.id, 1, None).accepted
    full = ledger.select_for_invoice(invoice.id, 1, "CB-4")
    assert (full.accepted, full.reason) == (False, Reason.OVER_QUANTITY)
    ledger.post_invoice(invoice.id, DAY)
    assert ledger.journal_line(invoice.id, 1).serials == ("CB-1", "CB-2", None)
    assert ledger.journal_line(slip, 1).serials == ("CB-1", "CB-2", None)


def test_r5_r17_invoice_registration_needs_an_unregistered_unique_unit(
    ledger: SalesLedger, ship: Ship
) -> None:
    ledger.add_order("SO-5", "C1", {1: ("CABLE", 2)})
    ledger.add_order("SO-6", "C2", {1: ("CABLE", 1)})
    ship(ledger, "SO-5", 1, [], quantity=2)
    ship(ledger, "SO-6", 1, ["CB-9"])
    invoice = ledger.open_invoice("SO-5", {1: 2})
    dup = ledger.select_for_invoice(invoice.id, 1, "CB-9")
    assert (dup.accepted, dup.reason) == (False, Reason.DUPLICATE_SERIAL)
    assert ledger.select_for_invoice(invoice.id, 1, "CB-1").accepted
    assert ledger.select_for_invoice(invoice.id, 1, "CB-2").accepted
    other = ledger.open_invoice("SO-6", {1: 1})
    none_left = ledger.select_for_invoice(other.id, 1, "CB-3")
    assert (none_left.accepted, none_left.reason) == (False, Reason.NOT_SHIPPED)


def test_r13_inquiry_of_a_cancelled_line_lists_the_reversed_serials(
    ledger: SalesLedger, three_slips: list[str]
) -> None:
    ledger.cancel_packing_slip(three_slips[0])
    line = ledger.journal_line(three_slips[0], 1)
    assert (line.status, line.serials) == ("reversed", ("S1A", "S1B"))
    again = ledger.open_packing_slip("SO-7", {1: 2})
    ledger.post_packing_slip(again.id, DAY)
    assert ledger.journal_line(again.id, 1).serials == ("S1A", "S1B")
    assert ledger.journal_line(three_slips[0], 1).serials == ("S1A", "S1B")
