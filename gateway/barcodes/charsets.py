"""Character sets barcode data is checked against.

Kept apart from the parsers so that per-item serial patterns and tests can name
the same sets the decoder relies on (G2).
"""

from __future__ import annotations

import string

GS = "\x1d"
"""Group separator: how a scanner transmits FNC1 between GS1 element strings."""

GS1_CHARSET_82 = frozenset("!\"%&'()*+,-./:;<=>?_" + string.digits + string.ascii_letters)
"""GS1 AI encodable character set 82: what AI (21) and (10) may carry (G2)."""

DIGITS = frozenset(string.digits)
ALPHANUMERIC = frozenset(string.ascii_letters + string.digits)
UPPER_ALPHANUMERIC = frozenset(string.ascii_uppercase + string.digits)
HEX = frozenset(string.hexdigits)

NAMED_CHARSETS: dict[str, frozenset[str]] = {
    "gs1-82": GS1_CHARSET_82,
    "digits": DIGITS,
    "alphanumeric": ALPHANUMERIC,
    "upper-alphanumeric": UPPER_ALPHANUMERIC,
    "hex": HEX,
}
"""Character sets a per-item serial pattern may name."""
