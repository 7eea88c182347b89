"""The one way in for every scanner driver.

A driver turns a device's bytes or key events into framed scans and hands each
one to the station through ``emit``. Drivers know nothing of orders: judging a
scan is the station's job. Feedback (good/bad beep) flows back the other way.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class RawScan:
    """One framed scan as it left the device, before any decoding."""

    scanner: str
    """Name of the scanner in the station config."""
    data: bytes
    """The payload without terminator, prefix or suffix."""
    overlong: bool = False
    """True when the scan exceeded the maximum length and was cut off."""
    received_ns: int = field(default_factory=time.perf_counter_ns)
    """``time.perf_counter_ns()`` when the terminator (or idle gap) arrived."""


ScanSink = Callable[[RawScan], None]
"""Called on the event loop once per framed scan."""


class DriverConfig(BaseModel):
    """Base of every driver's config model; each driver adds its own keys."""


class ScannerDriver(abc.ABC):
    """A scanner attached to the station.

    ``run`` reads until cancelled and survives the device going away: it reports
    the scanner offline, waits for the same device to come back and resumes.
    """

    kind: ClassVar[str]
    config_model: ClassVar[type[DriverConfig]]

    def __init__(self, name: str, config: DriverConfig) -> None:
        self.name = name
        self.config = config
        self.online = False

    @abc.abstractmethod
    async def run(self, emit: ScanSink) -> None:
        """Read scans and pass each to ``emit`` until cancelled."""

    async def feedback(self, good: bool) -> None:  # noqa: B027 - optional hook
        """Tell the operator through the scanner (beep/LED); default: nothing."""


D = TypeVar("D", bound="ScannerDriver")

DRIVER_KINDS: dict[str, type[ScannerDriver]] = {}
"""Driver kinds by the name used in the station config (``kind: serial``)."""


def register_driver(cls: type[D]) -> type[D]:
    """Class decorator: make a driver kind available to station configs."""
    DRIVER_KINDS[cls.kind] = cls
    return cls
