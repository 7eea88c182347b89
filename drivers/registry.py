"""All driver kinds and their config models in one place.

``ScannerConfig`` is the discriminated union the station config uses for
``scanners: {name: ScannerConfig}``; the ``kind`` key picks the model, so an
error names the right keys for that kind of scanner.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from drivers.base import DRIVER_KINDS, ScannerDriver
from drivers.hid_pos import HidPosConfig, HidPosScanner
from drivers.keyboard_wedge import KeyboardWedgeConfig, KeyboardWedgeScanner
from drivers.serial_port import SerialConfig, SerialScanner
from drivers.tcp import TcpConfig, TcpScanner

ScannerConfig = Annotated[
    SerialConfig | KeyboardWedgeConfig | HidPosConfig | TcpConfig,
    Field(discriminator="kind"),
]
"""One scanner's config; ``kind`` is serial, keyboard, hidpos or tcp."""

scanner_config_adapter: TypeAdapter[ScannerConfig] = TypeAdapter(ScannerConfig)

DRIVER_CLASSES: tuple[type[ScannerDriver], ...] = (
    SerialScanner, KeyboardWedgeScanner, HidPosScanner, TcpScanner,
)


def parse_scanner_config(data: object) -> ScannerConfig:
    """Validate one scanner's settings (raises pydantic.ValidationError)."""
    return scanner_config_adapter.validate_python(data)


def make_driver(name: str, config: ScannerConfig) -> ScannerDriver:
    """The driver for a validated config, as the station service builds it."""
    return DRIVER_KINDS[config.kind](name, config)
