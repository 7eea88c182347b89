"""Bounce protection: one physical scan that reaches us twice counts once.

A scanner in continuous or presentation mode, or an operator's shaky trigger,
sends the same label again within a few hundred milliseconds. Without this the
second read would be refused as a duplicate (R17) and the operator would hear a
bad beep for a good scan. Pure: the caller passes the scan's own timestamp.

The window slides: a read within ``window_ms`` of the previous read of the same
data on the same scanner is a bounce, so a label held under a scanner that
repeats every 100 ms stays one scan for as long as it is held. Different data
in between, or another scanner, is never a bounce.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

_NS_PER_MS = 1_000_000


class DebounceConfig(BaseModel):
    """``debounce:`` in the station config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_ms: int = Field(
        default=800, ge=0, le=60_000,
        description="Same data from the same scanner within this many ms is one scan; 0: off.",
        examples=[500, 800, 1500],
    )


@dataclass(slots=True)
class _LastRead:
    data: str
    at_ns: int


class Debouncer:
    """Remembers the last read per scanner; memory is one entry per scanner."""

    def __init__(self, window_ms: int = 800) -> None:
        if window_ms < 0:
            raise ValueError(f"debounce window must be 0 ms or more, got {window_ms}")
        self.window_ns = window_ms * _NS_PER_MS
        self._last: dict[str, _LastRead] = {}

    @classmethod
    def from_config(cls, config: DebounceConfig) -> Debouncer:
        """A debouncer with the configured window."""
        return cls(config.window_ms)

    def is_bounce(self, scanner: str, data: str, at_ns: int) -> bool:
        """Record this read; True when it repeats the previous one within the window.

        ``at_ns`` is a monotonic timestamp (``RawScan.received_ns``). A timestamp
        earlier than the previous read (another clock, a restart) is not a bounce.
        """
        last = self._last.get(scanner)
        self._last[scanner] = _LastRead(data, at_ns)
        if last is None or last.data != data or self.window_ns == 0:
            return False
        return 0 <= at_ns - last.at_ns <= self.window_ns

    def forget(self, scanner: str | None = None) -> None:
        """Drop the memory of one scanner (or all), e.g. after a mode change.

        After MODE-REMOVE the operator may rightly scan the serial just added.
        """
        if scanner is None:
            self._last.clear()
        else:
            self._last.pop(scanner, None)
