"""The serial-number rules of the sales process (DOMAIN.md R1-R18).

Plain code with no I/O, used by the order store (the authority) and by the
station (its local decision on a cached copy of the order).
"""

from scangw.sales.inquiry import JournalLine, PrintedDocument, SerialTrace
from scangw.sales.ledger import SalesLedger
from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.registration import Decision, LineView, ScanMode, decide_scan
from scangw.sales.returns import ReturnCheck

__all__ = [
    "Decision",
    "JournalLine",
    "LineView",
    "PrintedDocument",
    "Reason",
    "ReturnCheck",
    "SalesLedger",
    "SalesRuleError",
    "ScanMode",
    "SerialTrace",
    "decide_scan",
]
