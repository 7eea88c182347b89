"""Scanner drivers: device -> framing. Importing the package registers every kind."""

from drivers.base import DRIVER_KINDS, DriverConfig, RawScan, ScannerDriver, ScanSink
from drivers.registry import ScannerConfig, make_driver, parse_scanner_config

__all__ = [
    "DRIVER_KINDS",
    "DriverConfig",
    "RawScan",
    "ScanSink",
    "ScannerConfig",
    "ScannerDriver",
    "make_driver",
    "parse_scanner_config",
]
