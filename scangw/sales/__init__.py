"""The serial-number rules of the sales process (DOMAIN.md R1-R18).

Plain code with no I/O, used by the order store (the authority) and by the
station (its local decision on a cached copy of the order).

Where each rule lives:
- ``registration``  decide_scan on a LineView: R4, R6, R7, R17 (the station's own code)
- ``rules``         pure rule functions: R1, R2-R4 counts, R9, R16, warranty (R18)
- ``records``       the rows (frozen dataclasses keyed by id) a store persists
- ``reasons``       every reason code, documented
- ``ledger``        SalesLedger, composed of:
  ``masterdata`` (R1, R16), ``shipping`` (R2-R7, R11 reuse, R17),
  ``corrections`` (R10, R11), ``invoicing`` (R5, R8, R9), ``returns`` (R12),
  ``inquiry`` (R13, R14, R18; R15: no on-hand view on purpose)
- ``checks``        whole-batch checks for imports
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
