"""The shop every sales scenario starts from (shared by tests and properties)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from scangw.sales import SalesLedger

DAY = date(2026, 3, 2)


def shop() -> SalesLedger:
    """Groups, items and customers every scenario starts from."""
    ledger = SalesLedger()
    ledger.define_group("SER", "Serial in sales", active_in_sales_process=True)
    ledger.define_group("BLANK", "Serial, blank issue", active_in_sales_process=True,
                        blank_issue_allowed=True)
    ledger.define_group("PLAIN", "No serials")
    ledger.define_item("TV", "Television 55in", "SER", gtins=["09521101530001"],
                       warranty_months=24)
    ledger.define_item("DRILL", "Cordless drill", "SER", warranty_days=365)
    ledger.define_item("CABLE", "HDMI cable", "BLANK")
    ledger.define_item("BOLT", "Bolt M8", "PLAIN")
    ledger.define_item("CHEESE", "Cheese wheel", "PLAIN", catch_weight=True)
    ledger.define_customer("C1", "Contoso Retail")
    ledger.define_customer("C2", "Fabrikam Stores")
    return ledger


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
