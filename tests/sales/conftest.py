"""A small shop: serialized, blank-issue, plain and catch-weight items."""

from __future__ import annotations

import pytest
from sales_shop import Ship, ship_serials, shop

from scangw.sales import SalesLedger


@pytest.fixture
def ledger() -> SalesLedger:
    return shop()


@pytest.fixture
def ship() -> Ship:
    return ship_serials
