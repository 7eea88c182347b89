"""Byte-stream scanners (serial, TCP): framing settings and scan assembly.

Both kinds deliver a stream of bytes that the scanner cuts with a terminator,
an idle gap, or both. ``StreamScans`` owns the framer, strips the configured
prefix/suffix, runs the idle-gap timer on the event loop and emits ``RawScan``.
"""

from __future__ import annotations

import asyncio

from pydantic import Field, field_validator, model_validator

from drivers.base import RawScan, ScanSink
from drivers.feedback import ByteFeedbackConfig, SsiReplyFilter, parse_hex
from drivers.framing import Framer, parse_terminator, strip_affixes


class StreamConfig(ByteFeedbackConfig):
    """Framing keys shared by serial and TCP scanners."""

    terminator: str = Field(
        default="any-newline",
        description="What ends a scan: cr, lf, crlf, tab, any-newline, custom bytes 'hex:03', "
        "or none (then idle_gap_ms ends each scan).",
        examples=["cr", "hex:03"],
    )
    max_length: int = Field(
        default=256,
        ge=1,
        le=65536,
        description="Longest scan in bytes.",
        examples=[256],
    )
    idle_gap_ms: int | None = Field(
        default=None,
        ge=1,
        description="End a scan after this silence (scanners set to send no terminator).",
        examples=[50],
    )
    prefix: str | None = Field(
        default=None,
        description="Bytes (hex) the scanner puts before each scan, stripped, e.g. STX.",
        examples=["02"],
    )
    suffix: str | None = Field(
        default=None,
        description="Bytes (hex) the scanner puts after each scan, stripped, e.g. ETX.",
        examples=["03"],
    )

    @field_validator("terminator")
    @classmethod
    def _known_terminator(cls, value: str) -> str:
        if value.lower() != "none":
            parse_terminator(value)
        return value

    @field_validator("prefix", "suffix")
    @classmethod
    def _hex_affix(cls, value: str | None) -> str | None:
        if value is not None and not parse_hex(value):
            raise ValueError("prefix/suffix must not be empty; leave the key out instead")
        return value

    @model_validator(mode="after")
    def _some_end_of_scan(self) -> StreamConfig:
        if self.terminator.lower() == "none" and self.idle_gap_ms is None:
            raise ValueError(
                "terminator 'none' needs idle_gap_ms to end a scan; set e.g. idle_gap_ms: 50"
            )
        return self

    def make_framer(self) -> Framer:
        if self.terminator.lower() == "none":
            return Framer.without_terminator(self.max_length)
        return Framer(parse_terminator(self.terminator), self.max_length)


class StreamScans:
    """Turn one stream's chunks into scans; call ``discard`` when the stream breaks."""

    def __init__(self, scanner: str, config: StreamConfig, emit: ScanSink) -> None:
        self._scanner = scanner
        self._emit = emit
        self._framer = config.make_framer()
        self._prefix = parse_hex(config.prefix) if config.prefix else b""
        self._suffix = parse_hex(config.suffix) if config.suffix else b""
        self._gap_s = config.idle_gap_ms / 1000 if config.idle_gap_ms else None
        self._idle: asyncio.TimerHandle | None = None
        self._ssi = SsiReplyFilter() if config.feedback == "zebra-ssi" else None

    def feed(self, chunk: bytes) -> None:
        """Frame received bytes; must run on the event loop (the idle timer lives there)."""
        if self._ssi is not None:
            chunk = self._ssi.feed(chunk)
        for frame in self._framer.feed(chunk):
            self._send(frame.data, frame.overlong)
        if self._gap_s is None:
            return
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._framer.pending or (self._ssi is not None and self._ssi.holding):
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(self._gap_s, self._flush_idle)

    def discard(self) -> None:
        """Drop a partial scan: a scan cut by an unplug is never half-registered."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self._framer.reset()
        if self._ssi is not None:
            self._ssi.reset()

    @property
    def pending(self) -> int:
        return self._framer.pending

    def _flush_idle(self) -> None:
        self._idle = None
        if self._ssi is not None:
            for frame in self._framer.feed(self._ssi.flush()):
                self._send(frame.data, frame.overlong)
        for frame in self._framer.flush():
            self._send(frame.data, frame.overlong)

    def _send(self, data: bytes, overlong: bool) -> None:
        if not overlong:
            data = strip_affixes(data, self._prefix, self._suffix)
        self._emit(RawScan(self._scanner, data, overlong))
