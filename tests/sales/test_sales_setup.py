"""R1 (turning it on), R16 (catch weight) and master-data configuration."""

from __future__ import annotations

from datetime import date

import pytest

from scangw.sales import Reason, SalesLedger, SalesRuleError, ScanMode

DAY = date(2026, 3, 2)


def test_r1_turning_on_sets_control_and_clears_other_serial_options() -> None:
    ledger = SalesLedger()
    ledger.define_group("G", "Inventory serials", serial_active=True, blank_receipt_allowed=True,
                        physical_inventory=True, financial_inventory=True,
                        blank_issue_allowed=True)
    group = ledger.define_group(
        "G", "Inventory serials", active_in_sales_process=True, serial_active=True,
        blank_receipt_allowed=True, physical_inventory=True, financial_inventory=True,
        blank_issue_allowed=True,
    )
    assert group.active_in_sales_process
    assert group.serial_number_control
    assert not (group.serial_active)
    assert not (group.blank_receipt_allowed)
    assert not (group.physical_inventory)
    assert not (group.financial_inventory)
    assert group.blank_issue_allowed, "blank issue allowed survives R1"
    assert ledger.take_changes()[-1] == group


def test_r1_other_serial_options_stay_off_while_active() -> None:
    ledger = SalesLedger()
    ledger.define_group("G", "Sales serials", active_in_sales_process=True)
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_group("G", "Sales serials", active_in_sales_process=True,
                            serial_active=True)
    assert refused.value.reason is Reason.SERIAL_OPTION_CONFLICT
    assert "serial_active" in refused.value.message


def test_r1_cannot_switch_on_a_group_with_transactions(ledger: SalesLedger) -> None:
    ledger.define_group("NEW", "Plain for now")
    ledger.define_item("LAMP", "Lamp", "NEW")
    ledger.add_order("SO-1", "C1", {1: ("LAMP", 3)})
    ledger.open_packing_slip("SO-1", {1: 3})
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_group("NEW", "Plain for now", active_in_sales_process=True)
    assert refused.value.reason is Reason.GROUP_HAS_TRANSACTIONS
    assert not ledger.group("NEW").active_in_sales_process


def test_r1_switching_on_without_transactions_is_allowed(ledger: SalesLedger) -> None:
    ledger.define_group("NEW", "Plain for now")
    ledger.define_item("LAMP", "Lamp", "NEW")
    ledger.add_order("SO-1", "C1", {1: ("LAMP", 3)})  # an order line is no transaction
    group = ledger.define_group("NEW", "Now serial", active_in_sales_process=True)
    assert group.serial_number_control


def test_r1_cannot_switch_off_a_group_with_transactions(ledger: SalesLedger) -> None:
    ledger.add_order("SO-1", "C1", {1: ("TV", 1)})
    ledger.open_packing_slip("SO-1")
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_group("SER", "Serial in sales")
    assert refused.value.reason is Reason.GROUP_HAS_TRANSACTIONS


def test_r16_catch_weight_item_refused_on_active_group(ledger: SalesLedger) -> None:
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_item("HAM", "Ham", "SER", catch_weight=True)
    assert refused.value.reason is Reason.CATCH_WEIGHT_ACTIVE_GROUP
    with pytest.raises(SalesRuleError):
        ledger.item("HAM")


def test_r16_group_with_catch_weight_item_cannot_turn_active(ledger: SalesLedger) -> None:
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_group("PLAIN", "No serials", active_in_sales_process=True)
    assert refused.value.reason is Reason.CATCH_WEIGHT_ACTIVE_GROUP
    assert "CHEESE" in refused.value.message


def test_r16_catch_weight_line_takes_no_serials(ledger: SalesLedger) -> None:
    ledger.add_order("SO-1", "C1", {1: ("CHEESE", 2)})
    slip = ledger.open_packing_slip("SO-1")
    decision = ledger.register(slip.id, 1, "CW-1")
    assert not decision.accepted
    assert decision.reason == Reason.CATCH_WEIGHT_ITEM
    assert ledger.post_packing_slip(slip.id, DAY).posted_on == DAY


def test_inactive_group_takes_no_serials_and_posts_without(ledger: SalesLedger) -> None:
    ledger.add_order("SO-1", "C1", {1: ("BOLT", 5)})
    slip = ledger.open_packing_slip("SO-1")
    decision = ledger.register(slip.id, 1, "B-1")
    assert (decision.accepted, decision.reason) == (False, Reason.NOT_SERIALIZED)
    assert ledger.register(slip.id, 1, "B-1", ScanMode.REMOVE).reason == Reason.NOT_SERIALIZED
    ledger.post_packing_slip(slip.id, DAY)


def test_item_gtin_belongs_to_one_item(ledger: SalesLedger) -> None:
    assert ledger.item_by_gtin("09521101530001").id == "TV"
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_item("TV2", "Other TV", "SER", gtins=["09521101530001"])
    assert refused.value.reason is Reason.DUPLICATE_ID


def test_item_has_one_positive_warranty_period(ledger: SalesLedger) -> None:
    with pytest.raises(SalesRuleError) as refused:
        ledger.define_item("X", "X", "SER", warranty_days=10, warranty_months=1)
    assert refused.value.reason is Reason.INVALID_VALUE
    with pytest.raises(SalesRuleError):
        ledger.define_item("X", "X", "SER", warranty_days=0)


def test_order_refuses_unknown_item_and_zero_quantity(ledger: SalesLedger) -> None:
    with pytest.raises(SalesRuleError) as unknown:
        ledger.add_order("SO-1", "C1", {1: ("NOPE", 1)})
    assert unknown.value.reason is Reason.UNKNOWN_RECORD
    assert "NOPE" in unknown.value.message
    with pytest.raises(SalesRuleError) as zero:
        ledger.add_order("SO-1", "C1", {1: ("TV", 0)})
    assert zero.value.reason is Reason.INVALID_VALUE
    with pytest.raises(SalesRuleError):
        ledger.order("SO-1")
