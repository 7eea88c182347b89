"""The serial-number rules of the sales process (DOMAIN.md R1-R18).

Plain code with no I/O, used by the order store (the authority) and by the
station (its local decision on a cached copy of the order).
"""
