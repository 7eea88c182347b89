"""The station's rules: its mode, its current document, and the decision on a scan.

Pure and in memory, so a decision costs microseconds. The station's view of
each line changes at decision time (the next scan of a burst sees it); the
service persists the change with the journal entry and calls ``revert`` if that
commit fails, so memory never runs ahead of the disk.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass

from gateway.decoding import BadRead, DecodedScan
from gateway.journal import EntryState, JournalEntry
from gateway.order_cache import CachedLine
from scangw.sales.registration import Decision, LineView, ScanMode, decide_scan


@dataclass(slots=True)
class Judgement:
    """A decision on one scan, ready to journal; ``entry.accepted`` is the answer."""

    entry: JournalEntry
    received_ns: int
    """``perf_counter_ns`` when the scan's terminator arrived."""
    line: CachedLine | None = None
    """The line whose registration list the decision changed, if any."""


class NoDocument(LookupError):
    pass


class Station:
    """One station's current mode and document, and its cached lines."""

    def __init__(self, station_id: str, next_seq: int = 1) -> None:
        self.station_id = station_id
        self.mode = ScanMode.ADD
        self.current: tuple[str, int] | None = None
        self._lines: dict[tuple[str, int], CachedLine] = {}
        self._live: dict[str, Counter[str]] = {}  # item -> serials live on cached lines
        self._next_seq = next_seq

    # -- what the station knows ---------------------------------------------------

    def load(self, lines: list[CachedLine]) -> None:
        """Take in cached lines (replacing the same lines if already known)."""
        for line in lines:
            old = self._lines.get((line.order_id, line.line_number))
            if old is not None:
                self._live_update(old, -1)
            self._lines[(line.order_id, line.line_number)] = line
            self._live_update(line, +1)

    def lines(self) -> list[CachedLine]:
        return list(self._lines.values())

    def line(self, order_id: str, line_number: int) -> CachedLine | None:
        return self._lines.get((order_id, line_number))

    def open_document(self, order_id: str, line_number: int = 1) -> CachedLine:
        line = self._lines.get((order_id, line_number))
        if line is None:
            raise NoDocument(f"{order_id} line {line_number} is not in this station's cache")
        self.current = (order_id, line_number)
        return line

    # -- deciding -----------------------------------------------------------------

    def judge(self, scan: DecodedScan | BadRead, serial: str | None = None) -> Judgement:
        """Decide a scan in the current mode; ``serial=None`` with a DecodedScan
        means the scan's text is the serial. Applies an accepted change at once."""
        if isinstance(scan, BadRead):
            return self.refuse(scan.scanner, scan.received_ns, "", scan.reason, scan.message)
        value = scan.text if serial is None else serial
        return self.register(scan.scanner, value, scan.received_ns, data=scan.text)

    def register(self, scanner: str, serial: str | None, received_ns: int,
                 data: str | None = None) -> Judgement:
        """Register ``serial`` (None: not readable, R7) on the current line."""
        shown = data if data is not None else (serial or "NOT-READABLE")
        if self.current is None:
            return self.refuse(scanner, received_ns, shown, "no_document",
                                 "no order open: scan an order first")
        line = self._lines[self.current]
        elsewhere = serial is not None and self._live_elsewhere(line, serial)
        view = LineView(line.order_id, line.line_number, line.item_id, line.quantity,
                        tuple(line.serials))
        decision = decide_scan(view, serial, self.mode, registered_elsewhere=elsewhere)
        entry = self._entry(scanner, received_ns, shown, decision, line, serial)
        if not decision.accepted:
            return Judgement(entry, received_ns)
        self._apply(line, serial, self.mode)
        return Judgement(entry, received_ns, line)

    def revert(self, judgement: Judgement) -> None:
        """Undo an accepted change whose journal entry could not be committed."""
        if judgement.line is not None:
            self.undo(judgement.entry)

    def undo(self, entry: JournalEntry) -> None:
        """Take an accepted entry's effect off its line (failed commit, late refusal)."""
        if entry.order_id is None or entry.line_number is None or entry.mode is None:
            return
        line = self._lines.get((entry.order_id, entry.line_number))
        if line is None:
            return
        undo = ScanMode.REMOVE if entry.mode == ScanMode.ADD else ScanMode.ADD
        if undo is ScanMode.REMOVE and entry.serial not in line.serials:
            return  # already gone (the store's update arrived first)
        self._apply(line, entry.serial, undo)

    # -- internals ----------------------------------------------------------------

    def _apply(self, line: CachedLine, serial: str | None, mode: ScanMode) -> None:
        live = self._live.setdefault(line.item_id, Counter())
        if mode is ScanMode.ADD:
            line.serials.append(serial)
            if serial is not None:
                live[serial] += 1
        else:
            # remove the last matching entry (mirrors order_cache.remove_serial)
            at = len(line.serials) - 1 - line.serials[::-1].index(serial)
            del line.serials[at]
            if serial is not None:
                live[serial] -= 1

    def _live_elsewhere(self, line: CachedLine, serial: str) -> bool:
        total = self._live.get(line.item_id, Counter())[serial]
        return total - line.serials.count(serial) > 0

    def _live_update(self, line: CachedLine, sign: int) -> None:
        live = self._live.setdefault(line.item_id, Counter())
        for serial in line.serials:
            if serial is not None:
                live[serial] += sign

    def _entry(self, scanner: str, received_ns: int, data: str, decision: Decision,
               line: CachedLine, serial: str | None) -> JournalEntry:
        return JournalEntry(
            seq=self._take_seq(), id=uuid.uuid4().hex, ts=_wall_time(received_ns),
            scanner=scanner, data=data, accepted=decision.accepted, reason=decision.reason,
            message=decision.message,
            state=EntryState.PENDING if decision.accepted else EntryState.LOCAL,
            order_id=line.order_id, line_number=line.line_number, item_id=line.item_id,
            mode=self.mode.value, serial=serial,
        )

    def refuse(self, scanner: str, received_ns: int, data: str, reason: str,
               message: str) -> Judgement:
        """A refusal that touches no line: bad read, no document, unknown command."""
        return Judgement(received_ns=received_ns, entry=JournalEntry(
            seq=self._take_seq(), id=uuid.uuid4().hex, ts=_wall_time(received_ns),
            scanner=scanner, data=data, accepted=False, reason=reason, message=message,
            state=EntryState.LOCAL,
        ))

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq


def _wall_time(received_ns: int) -> float:
    """Wall-clock time of a ``perf_counter_ns`` stamp (the scan's arrival)."""
    return time.time() - (time.perf_counter_ns() - received_ns) / 1e9
