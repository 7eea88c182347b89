"""The records of the sales process: one frozen dataclass per table row.

Records refer to each other by id only (no object graph), so a storage layer
maps each class to one table and each field to one column. A change is a new
record that replaces the old one with the same ``key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class SlipStatus(StrEnum):
    """Packing slip life: draft -> posted -> cancelled (whole) or corrected (a line);
    a draft may instead be discarded."""

    DRAFT = "draft"
    POSTED = "posted"
    CANCELLED = "cancelled"
    CORRECTED = "corrected"
    DISCARDED = "discarded"


class DocumentStatus(StrEnum):
    """Invoice and return life: draft -> posted (invoice) or received (return);
    a draft invoice may instead be discarded."""

    DRAFT = "draft"
    POSTED = "posted"
    DISCARDED = "discarded"


class LineStatus(StrEnum):
    """A packing-slip line is live until it is reversed (R11)."""

    LIVE = "live"
    REVERSED = "reversed"


class RegistrationStatus(StrEnum):
    """Only ``live`` registrations count (R17); the others are kept for history."""

    LIVE = "live"
    REMOVED = "removed"
    """Taken off a draft list in remove mode (R6), or its draft was discarded."""
    REVERSED = "reversed"
    """Its packing-slip line was cancelled or corrected (R11)."""
    REPLACED = "replaced"
    """A newer registration changed its serial (R10)."""
    RETURNED = "returned"
    """The sold unit came back on a received return (R12): the sale stays in
    history and traces, and the serial may be sold again (R17)."""


class DocumentKind(StrEnum):
    """Where a registration lives (R5): on a packing slip or a return receipt."""

    PACKING_SLIP = "packing_slip"
    RETURN = "return"


@dataclass(frozen=True, slots=True)
class TrackingGroup:
    """Tracking dimension group; only the serial-number options matter here."""

    id: str
    name: str
    active_in_sales_process: bool = False
    serial_number_control: bool = False
    blank_issue_allowed: bool = False
    serial_active: bool = False
    """Inventory serial tracking from receipt on; R1 clears it."""
    blank_receipt_allowed: bool = False
    """R1 clears it."""
    physical_inventory: bool = False
    """R1 clears it."""
    financial_inventory: bool = False
    """R1 clears it."""

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    name: str
    group_id: str
    catch_weight: bool = False
    gtins: tuple[str, ...] = ()
    warranty_days: int | None = None
    warranty_months: int | None = None

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class SalesOrder:
    id: str
    customer_id: str

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class OrderLine:
    order_id: str
    line_number: int
    item_id: str
    quantity: int
    corrected_negative: bool = False
    """Set once a packing-slip line of it was corrected with a negative quantity (R10)."""

    @property
    def key(self) -> tuple[str, int]:
        return (self.order_id, self.line_number)


@dataclass(frozen=True, slots=True)
class PackingSlip:
    id: str
    order_id: str
    status: SlipStatus = SlipStatus.DRAFT
    posted_on: date | None = None

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class PackingSlipLine:
    """Some units of one order line; ``line_number`` is the order line's number."""

    slip_id: str
    line_number: int
    item_id: str
    quantity: int
    status: LineStatus = LineStatus.LIVE

    @property
    def key(self) -> tuple[str, int]:
        return (self.slip_id, self.line_number)


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    order_id: str
    status: DocumentStatus = DocumentStatus.DRAFT
    posted_on: date | None = None

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    invoice_id: str
    line_number: int
    item_id: str
    quantity: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.invoice_id, self.line_number)


@dataclass(frozen=True, slots=True)
class ReturnOrder:
    """R12: a return receipt from a customer; ``posted`` means received."""

    id: str
    customer_id: str
    status: DocumentStatus = DocumentStatus.DRAFT
    received_on: date | None = None
    order_id: str | None = None
    """The sales order the units came from, when known: R12 then checks it too."""

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class ReturnLine:
    return_id: str
    line_number: int
    item_id: str
    quantity: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.return_id, self.line_number)


@dataclass(frozen=True, slots=True)
class Registration:
    """One serial (or a not-readable blank, ``serial=None``) on one document line."""

    id: str
    item_id: str
    serial: str | None
    document_kind: DocumentKind
    document_id: str
    line_number: int
    order_id: str | None = None
    """The sales order of a packing-slip registration (None on returns)."""
    status: RegistrationStatus = RegistrationStatus.LIVE
    invoice_id: str | None = None
    """R8: the invoice (draft or posted) that selected this registration."""
    reused_from: str | None = None
    """R11: the reversed registration this one took over without a new scan."""
    replaces: str | None = None
    """R10: the registration whose serial this one changed."""
    warning: str | None = None
    """R12 in warn mode: why this returned serial looks wrong."""

    @property
    def key(self) -> str:
        return self.id

    @property
    def live(self) -> bool:
        return self.status is RegistrationStatus.LIVE


Record = (
    TrackingGroup | Item | Customer | SalesOrder | OrderLine | PackingSlip | PackingSlipLine
    | Invoice | InvoiceLine | ReturnOrder | ReturnLine | Registration
)
"""Any record a ledger operation may create or change."""

RECORD_TYPES: tuple[type[Record], ...] = (
    TrackingGroup, Item, Customer, SalesOrder, OrderLine, PackingSlip, PackingSlipLine,
    Invoice, InvoiceLine, ReturnOrder, ReturnLine, Registration,
)
"""Load order that keeps references valid: a record's targets come before it."""
