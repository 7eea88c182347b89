"""Cut a byte stream into scans at the terminator.

Pure code, no I/O: every driver that receives a byte stream (serial, TCP)
feeds it here. A scan longer than ``max_length`` is reported once as overlong
and the rest of it, up to the next terminator, is discarded, so endless input
without a terminator never grows memory past ``max_length``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Terminator(StrEnum):
    """The terminators scanners are commonly set to send."""

    CR = "cr"
    LF = "lf"
    CRLF = "crlf"
    TAB = "tab"
    ANY_NEWLINE = "any-newline"
    """CR, LF or CRLF: what to use when nobody knows how the scanner is set."""


TERMINATOR_BYTES: dict[Terminator, tuple[bytes, ...]] = {
    Terminator.CR: (b"\r",),
    Terminator.LF: (b"\n",),
    Terminator.CRLF: (b"\r\n",),
    Terminator.TAB: (b"\t",),
    Terminator.ANY_NEWLINE: (b"\r", b"\n"),
}


@dataclass(frozen=True, slots=True)
class Frame:
    """A complete scan, or what was kept of an overlong one."""

    data: bytes
    overlong: bool = False


class Framer:
    """Split bytes on one or more terminators, bounded by ``max_length``.

    ``feed`` may be called with any split of the stream (one byte at a time,
    a whole docked-handheld upload at once): the frames are the same.
    """

    def __init__(
        self, terminators: tuple[bytes, ...], max_length: int = 256, *, idle_only: bool = False
    ) -> None:
        if (not terminators and not idle_only) or any(not t for t in terminators):
            raise ValueError(f"terminators must be non-empty byte strings, got {terminators!r}")
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}")
        self._terminators = terminators
        self._max_length = max_length
        self._buffer = bytearray()
        self._discarding = False
        # Bytes that could be the start of a terminator split across reads.
        self._keep = max((len(t) for t in terminators), default=1) - 1

    @classmethod
    def for_terminator(cls, terminator: Terminator, max_length: int = 256) -> Framer:
        return cls(TERMINATOR_BYTES[terminator], max_length)

    @classmethod
    def without_terminator(cls, max_length: int = 256) -> Framer:
        """A framer for scanners that send no terminator: only ``flush`` ends a scan."""
        return cls((), max_length, idle_only=True)

    def feed(self, chunk: bytes) -> list[Frame]:
        """Add received bytes; return the scans they complete, in order."""
        self._buffer += chunk
        frames: list[Frame] = []
        while True:
            cut = self._find_terminator()
            if cut is None:
                break
            start, end = cut
            frame = self._take(start)
            del self._buffer[: end - start]
            if frame is not None:
                frames.append(frame)
        self._bound_buffer(frames)
        return frames

    def flush(self) -> list[Frame]:
        """End the current scan without a terminator (idle gap, device gone)."""
        frame = self._take(len(self._buffer))
        self._discarding = False
        return [frame] if frame is not None else []

    def reset(self) -> None:
        """Drop a partial scan, e.g. when the device vanished mid-scan."""
        self._buffer.clear()
        self._discarding = False

    @property
    def pending(self) -> int:
        """Bytes of an unfinished scan held in the buffer."""
        return len(self._buffer)

    def _find_terminator(self) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for term in self._terminators:
            at = self._buffer.find(term)
            if at != -1 and (best is None or at < best[0]):
                best = (at, at + len(term))
        return best

    def _take(self, length: int) -> Frame | None:
        """Remove ``length`` bytes from the buffer and make them a frame."""
        data = bytes(self._buffer[:length])
        del self._buffer[:length]
        if self._discarding:
            self._discarding = False
            return None
        if not data:
            return None  # empty line, e.g. the LF of a CRLF under any-newline
        if len(data) > self._max_length:
            return Frame(data[: self._max_length], overlong=True)
        return Frame(data)

    def _bound_buffer(self, frames: list[Frame]) -> None:
        """Report an unterminated overlong scan once and stop storing it."""
        limit = self._max_length + self._keep
        if len(self._buffer) <= limit:
            return
        if not self._discarding:
            frames.append(Frame(bytes(self._buffer[: self._max_length]), overlong=True))
            self._discarding = True
        # Keep only a possible terminator prefix so the next scan starts clean.
        tail = bytes(self._buffer[-self._keep :]) if self._keep else b""
        self._buffer[:] = tail


def parse_terminator(spec: str) -> tuple[bytes, ...]:
    """Read a terminator setting: a name (``cr``, ``crlf``...) or ``hex:03``.

    Raises ``ValueError`` with the accepted forms when ``spec`` is neither.
    """
    try:
        return TERMINATOR_BYTES[Terminator(spec.lower())]
    except ValueError:
        pass
    if spec.lower().startswith("hex:"):
        try:
            custom = bytes.fromhex(spec[4:])
        except ValueError:
            custom = b""
        if custom:
            return (custom,)
    names = ", ".join(t.value for t in Terminator)
    raise ValueError(
        f"unknown terminator {spec!r} (use one of {names}, or custom bytes as 'hex:03')"
    )


def strip_affixes(data: bytes, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """Remove a configured prefix/suffix (e.g. STX/ETX) when the scan carries it.

    A scan without them passes unchanged: some scanners add the prefix only to
    some symbologies, and the data must not lose real characters.
    """
    if prefix and data.startswith(prefix):
        data = data[len(prefix) :]
    if suffix and data.endswith(suffix):
        data = data[: -len(suffix)]
    return data
