"""A small shop: serialized, blank-issue, plain and catch-weight items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sales_shop import shop

from scangw.sales import SalesLedger

DAY = date(2026, 3, 2)


@pytest.fixture
def ledger() -> SalesLedger:
    return shop()


Ship = Callable[..., str]


def ship_serials(ledger: SalesLedger, order_id: str, line: int, serials: list[str | None],
                 *, on: date = DAY, quantity: int | None = None) -> str:
    """Open, scan and post one packing slip for ``serials`` on one line
    (``quantity`` units, one per serial unless given)."""
    slip = ledger.open_packing_slip(order_id, {line: quantity or len(serials)})
    for serial in serials:
        decision = ledger.register(slip.id, line, serial)
        assert decision.accepted, decision.message
    ledger.post_packing_slip(slip.id, on)
    return slip.id


@pytest.fixture
def ship() -> Ship:
    return ship_serials
