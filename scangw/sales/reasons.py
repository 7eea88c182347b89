"""The catalogue of reason codes the sales rules answer with.

Codes are stable: the station journals them, the order store stores them and
displays may translate them. Messages are for the packer and may change.
Each code's docstring says when it is given and which rule (DOMAIN.md) it cites.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Every reason code a sales-rule decision or refusal can carry."""

    ADDED = "added"
    """R6: a serial or a not-readable blank was added to the registration list."""
    REMOVED = "removed"
    """R6: in remove mode, a listed serial (or blank) was taken off the list."""
    NOT_ON_LIST = "not_on_list"
    """R6/R10: the serial to remove or change is not registered on that line."""
    OVER_QUANTITY = "over_quantity"
    """R4: an add on a line that already has one registration per unit."""
    DUPLICATE_SERIAL = "duplicate_serial"
    """R17: the serial is already live for this item on this or another line."""
    INVALID_SERIAL = "invalid_serial"
    """A serial that is empty, has spaces or is longer than 50 characters."""
    NOT_ENOUGH_SERIALS = "not_enough_serials"
    """R2: posting a line with fewer registrations than units (no blank issue)."""
    TOO_MANY_SERIALS = "too_many_serials"
    """R4: posting a line with more registrations than units."""
    NOT_SERIALIZED = "not_serialized"
    """The item's group is not active in the sales process: it takes no serials."""
    CATCH_WEIGHT_ITEM = "catch_weight_item"
    """R16: catch-weight items never take sales serials."""
    CATCH_WEIGHT_ACTIVE_GROUP = "catch_weight_active_group"
    """R16: a catch-weight item and a group active in the sales process never meet."""
    GROUP_HAS_TRANSACTIONS = "group_has_transactions"
    """R1: active in sales process switches only while the group has no transactions."""
    SERIAL_OPTION_CONFLICT = "serial_option_conflict"
    """R1: other serial options stay cleared while the group is active in sales."""
    UNKNOWN_RECORD = "unknown_record"
    """An id (group, item, customer, order, line, document) that does not exist."""
    DUPLICATE_ID = "duplicate_id"
    """Creating a record whose id already exists (or a GTIN used by another item)."""
    INVALID_VALUE = "invalid_value"
    """A value out of range: quantity below 1, two warranty periods, no lines."""
    OVER_OPEN_QUANTITY = "over_open_quantity"
    """A packing slip for more units than the order line still has open."""
    DOCUMENT_NOT_DRAFT = "document_not_draft"
    """R5: registrations change only on a draft packing slip, invoice or return."""
    DOCUMENT_NOT_POSTED = "document_not_posted"
    """R11/R13/R14: correcting, inquiring or printing needs a posted document."""
    ALREADY_INVOICED = "already_invoiced"
    """R10/R11: units on a posted invoice keep their serials and their shipment."""
    LINE_CORRECTED = "line_corrected"
    """R10: the order line was corrected with a negative quantity."""
    PARTIAL_CORRECTION = "partial_correction"
    """R11: a serialized packing-slip line is reversed whole or not at all."""
    ALREADY_RETURNED = "already_returned"
    """R11/R12: units that came back on a received return keep their shipment."""
    ALREADY_REVERSED = "already_reversed"
    """R11: the packing-slip line was already cancelled or corrected."""
    NOT_SHIPPED = "not_shipped"
    """R8: the invoice may only select serials of posted packing slips of its line."""
    OVER_SHIPPED_QUANTITY = "over_shipped_quantity"
    """R8: invoicing more units than were shipped and not yet invoiced."""
    SELECTED_ELSEWHERE = "selected_elsewhere"
    """R8: the packing-slip serial is already on another invoice."""
    SEVERAL_PARTIAL_SLIPS = "several_partial_slips"
    """R9: a partial invoice may leave at most one packing slip partly included."""
    NOT_SOLD_TO_CUSTOMER = "not_sold_to_customer"
    """R12: a returned serial was never shipped to that customer. With
    ``ReturnCheck.WARN`` the decision is accepted and carries this code as a
    warning; with ``ReturnCheck.REFUSE`` the scan is refused."""


class SalesRuleError(Exception):
    """A refused operation: a stable ``reason`` and a packer-readable ``message``."""

    def __init__(self, reason: Reason, message: str, *, record: object = None) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.record = record
        """The input record that was refused, when a batch operation knows it."""


__all__ = ["Reason", "SalesRuleError"]
