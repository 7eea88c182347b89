"""scangw: a scanner gateway for packing lines."""

__version__ = "0.1.0"
