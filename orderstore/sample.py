"""A small sample order for the demo and the first run."""

from __future__ import annotations

SAMPLE_ORDER_ID = "SO-1001"
SAMPLE_CUSTOMER = "C-042 Contoso Retail"
SAMPLE_LINES: list[tuple[int, str, int]] = [
    (1, "PHONE-X1", 3),
    (2, "DRILL-18V", 2),
]
"""(line number, item, quantity)."""
SAMPLE_GTINS: dict[str, list[str]] = {
    "PHONE-X1": ["09521101530001"],
    "DRILL-18V": ["04012345678901"],
}
