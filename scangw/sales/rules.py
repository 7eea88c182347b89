"""The rules that need no ledger: each one is implemented here, once.

The ledger gathers the facts (records, counts) and asks these functions; the
importer and the station can ask them too.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import Item, TrackingGroup

MAX_SERIAL_LENGTH = 50


def turn_on_in_sales(group: TrackingGroup) -> TrackingGroup:
    """R1: active in sales sets serial number control and clears every other
    serial option except blank issue allowed."""
    return replace(
        group,
        active_in_sales_process=True,
        serial_number_control=True,
        serial_active=False,
        blank_receipt_allowed=False,
        physical_inventory=False,
        financial_inventory=False,
    )


def check_group_options(group: TrackingGroup) -> None:
    """R1: while active in sales, the cleared serial options stay cleared."""
    if not group.active_in_sales_process:
        return
    set_options = [
        name for name in (
            "serial_active", "blank_receipt_allowed", "physical_inventory", "financial_inventory"
        ) if getattr(group, name)
    ]
    if set_options:
        raise SalesRuleError(
            Reason.SERIAL_OPTION_CONFLICT,
            f"group {group.id} is active in the sales process, so {', '.join(set_options)} "
            "must stay off; turn active_in_sales_process off first",
        )


def check_catch_weight(item: Item, group: TrackingGroup) -> None:
    """R16: a catch-weight item cannot be given a group active in the sales process."""
    if item.catch_weight and group.active_in_sales_process:
        raise SalesRuleError(
            Reason.CATCH_WEIGHT_ACTIVE_GROUP,
            f"item {item.id} is a catch-weight item and cannot use group {group.id}, "
            "which is active in the sales process; pick a group without sales serials",
        )


def serial_refusal(item: Item, group: TrackingGroup) -> tuple[Reason, str] | None:
    """Why lines of ``item`` take no sales serials, or None if they do (R16)."""
    if item.catch_weight:
        return (Reason.CATCH_WEIGHT_ITEM,
                f"{item.id} is a catch-weight item: it takes no serial numbers")
    if not group.active_in_sales_process:
        return (Reason.NOT_SERIALIZED,
                f"{item.id} takes no serial numbers: group {group.id} is not active in sales")
    return None


def check_serial_text(serial: str) -> str | None:
    """The problem with a typed or scanned serial, or None if it is usable."""
    if not serial:
        return "empty serial number"
    if serial != serial.strip() or any(c.isspace() for c in serial):
        return f"serial number {serial!r} contains spaces"
    if not serial.isprintable():
        return f"serial number {serial!r} contains control characters"
    if len(serial) > MAX_SERIAL_LENGTH:
        return f"serial number {serial[:20]}... is longer than {MAX_SERIAL_LENGTH} characters"
    return None


def check_registration_count(
    where: str, quantity: int, registered: int, group: TrackingGroup
) -> None:
    """R2-R4: one registration per unit; fewer only with blank issue allowed."""
    if registered > quantity:
        raise SalesRuleError(
            Reason.TOO_MANY_SERIALS,
            f"{where}: too many serial numbers registered: {registered} of {quantity}; "
            "remove the extra ones",
        )
    if registered < quantity and group.serial_number_control and not group.blank_issue_allowed:
        raise SalesRuleError(
            Reason.NOT_ENOUGH_SERIALS,
            f"{where}: not enough serial numbers registered: {registered} of {quantity}; "
            "scan the rest or use not readable",
        )


def check_partial_slips(invoice_id: str, left_over: Mapping[str, int]) -> None:
    """R9: of the packing slips an invoice takes serials from, at most one may keep
    serials that are not invoiced. ``left_over`` maps slip id -> serials left."""
    partial = sorted(slip for slip, left in left_over.items() if left > 0)
    if len(partial) > 1:
        raise SalesRuleError(
            Reason.SEVERAL_PARTIAL_SLIPS,
            f"invoice {invoice_id} takes part of {len(partial)} packing slips "
            f"({', '.join(partial)}); only one may be partly included: "
            "take all serials of the others",
        )


def check_warranty_period(item: Item) -> None:
    """An item has at most one warranty period, and it is positive."""
    if item.warranty_days is not None and item.warranty_months is not None:
        raise SalesRuleError(
            Reason.INVALID_VALUE,
            f"item {item.id} has a warranty in days and in months; give only one",
        )
    for value in (item.warranty_days, item.warranty_months):
        if value is not None and value < 1:
            raise SalesRuleError(
                Reason.INVALID_VALUE,
                f"item {item.id} warranty period {value} must be at least 1",
            )


def warranty_until(item: Item, sale_date: date) -> date | None:
    """R18: the last day of warranty (sale date + period), None without warranty."""
    if item.warranty_days is not None:
        return sale_date + timedelta(days=item.warranty_days)
    if item.warranty_months is not None:
        return add_months(sale_date, item.warranty_months)
    return None


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (Jan 31 + 1 = Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
