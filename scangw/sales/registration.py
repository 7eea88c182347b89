"""Deciding one scan against one registration list (R4, R6, R7, R17)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scangw.sales.reasons import Reason


class ScanMode(StrEnum):
    """R6: every registration list is in add or remove mode."""

    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class LineView:
    """What a registration list knows about one document line."""

    order_id: str
    line_number: int
    item_id: str
    quantity: int
    """Units being shipped or invoiced on this line."""
    serials: tuple[str | None, ...] = ()
    """Registrations so far; ``None`` is a not-readable blank (R7)."""

    def describe(self) -> str:
        return f"{self.order_id} line {self.line_number}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one scan: accepted or refused, with a stable reason code."""

    accepted: bool
    reason: str
    """Stable code for machines (``scangw.sales.reasons.Reason``): ``added``,
    ``removed``, ``over_quantity`` ..."""
    message: str
    """What the packer reads on the display."""


def decide_scan(
    line: LineView,
    serial: str | None,
    mode: ScanMode,
    *,
    registered_elsewhere: bool = False,
) -> Decision:
    """Judge one registration on ``line``; ``serial=None`` is not readable (R7).

    ``registered_elsewhere`` says the serial is live on another line or
    document of the same item (R17).
    """
    if mode is ScanMode.REMOVE:
        return _decide_remove(line, serial)
    if serial is not None and (serial in line.serials or registered_elsewhere):
        where = line.describe() if serial in line.serials else "another document"
        return Decision(
            False, Reason.DUPLICATE_SERIAL, f"{serial} is already registered on {where}"
        )
    if len(line.serials) >= line.quantity:
        count = f"{len(line.serials)} of {line.quantity}"
        return Decision(
            False, Reason.OVER_QUANTITY, f"{line.describe()} already has {count} serials"
        )
    done = f"{len(line.serials) + 1} of {line.quantity}"
    what = serial if serial is not None else "not readable"
    return Decision(True, Reason.ADDED, f"{what} added to {line.describe()} ({done})")


def _decide_remove(line: LineView, serial: str | None) -> Decision:
    """R6 remove mode: only a listed serial (or a listed blank) comes off."""
    where = line.describe()
    if serial is None:
        if None not in line.serials:
            return Decision(False, Reason.NOT_ON_LIST, f"{where} has no not-readable entry")
        return Decision(True, Reason.REMOVED, f"not-readable entry removed from {where}")
    if serial not in line.serials:
        return Decision(False, Reason.NOT_ON_LIST, f"{serial} is not registered on {where}")
    return Decision(True, Reason.REMOVED, f"{serial} removed from {where}")
