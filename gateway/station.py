"""The station's rules: its mode, its current document, and the decision on a scan.

Pure and in memory, so a decision costs microseconds. The station's view of
each line changes at decision time (the next scan of a burst sees it); the
service persists the change with the journal entry and calls ``revert`` if that
commit fails, so memory never runs ahead of the disk.

Each cached line has a count of its serials beside its list, so a decision
costs the same on an empty line and on one with 10,000 serials (a docked
handheld's upload): the rules get a read-only view of the list whose ``in`` is
a dictionary lookup, not a copy of the list.

Mode and current line live in a ``Context``: one for the whole station, or one
per scanner when two packers share a station (``state_scope: scanner``).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast, overload

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


class SerialsView(Sequence[str | None]):
    """A cached line's registration list as the rules see it, without a copy.

    ``serial in view`` asks the line's count (O(1)); everything else reads the
    list itself. Valid as long as the station keeps list and count in step,
    which it does: only ``Station._apply`` changes either.
    """

    __slots__ = ("_counts", "_serials")

    def __init__(self, serials: list[str | None], counts: Counter[str | None]) -> None:
        self._serials = serials
        self._counts = counts

    def __contains__(self, serial: object) -> bool:
        return self._counts.get(cast("str | None", serial), 0) > 0

    def __len__(self) -> int:
        return len(self._serials)

    def __iter__(self) -> Iterator[str | None]:
        return iter(self._serials)

    @overload
    def __getitem__(self, at: int) -> str | None: ...
    @overload
    def __getitem__(self, at: slice) -> Sequence[str | None]: ...
    def __getitem__(self, at: int | slice) -> str | Sequence[str | None] | None:
        return self._serials[at]


class NoDocument(LookupError):
    pass


STATION_SCOPE = "*"
"""The context name when mode and document are shared by all scanners."""


@dataclass(slots=True)
class Context:
    """Where one packer is: mode, current order line, last registration to undo."""

    scope: str
    mode: ScanMode = ScanMode.ADD
    current: tuple[str, int] | None = None
    last: JournalEntry | None = None


class Station:
    """One station's contexts (mode, current document) and its cached lines."""

    def __init__(self, station_id: str, next_seq: int = 1, per_scanner: bool = False) -> None:
        self.station_id = station_id
        self.per_scanner = per_scanner
        self._contexts: dict[str, Context] = {}
        self._lines: dict[tuple[str, int], CachedLine] = {}
        self._live: dict[str, Counter[str]] = {}  # item -> serials live on cached lines
        self._counts: dict[tuple[str, int], Counter[str | None]] = {}  # line -> its serials
        self._unsaved: dict[int, tuple[JournalEntry, tuple[str, int], str | None, ScanMode]] = {}
        """Accepted changes whose journal entry may not be committed yet, by seq."""
        self._next_seq = next_seq

    # -- what the station knows ---------------------------------------------------

    def load(self, lines: list[CachedLine]) -> None:
        """Take in cached lines (replacing the same lines if already known).

        A line read from the journal (``as_of_seq`` set) lacks what this station
        decided after that read and has not committed yet: those changes are
        applied to it again, so a store update merged meanwhile never drops a
        registration the operator already heard as good.
        """
        for line in lines:
            key = (line.order_id, line.line_number)
            if line.as_of_seq is not None:
                self._replay_unsaved(line, key, line.as_of_seq)
            old = self._lines.get(key)
            if (old is not None and old.serials == line.serials
                    and (old.item_id, old.quantity) == (line.item_id, line.quantity)):
                # The store's update says what this station has (the usual case, once
                # per batch the store books): keep the line and its counts as they are.
                old.gtins, old.as_of_seq = line.gtins, line.as_of_seq
                continue
            if old is not None:
                self._live_update(old, -1)
            self._lines[key] = line
            self._counts[key] = Counter(line.serials)
            self._live_update(line, +1)

    def _replay_unsaved(self, line: CachedLine, key: tuple[str, int], as_of: int) -> None:
        for seq, (_entry, at, serial, mode) in self._unsaved.items():
            if seq <= as_of or at != key:
                continue
            if mode is ScanMode.ADD:
                line.serials.append(serial)
            elif serial in line.serials:
                serials = line.serials
                del serials[next(i for i in range(len(serials) - 1, -1, -1)
                                 if serials[i] == serial)]

    def replace_order(self, order_id: str, lines: list[CachedLine]) -> None:
        """Take the order's lines as they now are (lines gone from the draft are
        dropped; a packer on a dropped line has no current line any more)."""
        keep = {(ln.order_id, ln.line_number) for ln in lines}
        for key in [k for k in self._lines if k[0] == order_id and k not in keep]:
            self._live_update(self._lines.pop(key), -1)
            self._counts.pop(key, None)
        self.load(lines)
        for ctx in self._contexts.values():
            if ctx.current is not None and ctx.current not in self._lines:
                ctx.current = None

    def lines(self) -> list[CachedLine]:
        return list(self._lines.values())

    def line(self, order_id: str, line_number: int) -> CachedLine | None:
        return self._lines.get((order_id, line_number))

    def order_lines(self, order_id: str) -> list[CachedLine]:
        return sorted((ln for ln in self._lines.values() if ln.order_id == order_id),
                      key=lambda ln: ln.line_number)

    # -- contexts -----------------------------------------------------------------

    def context(self, scanner: str = STATION_SCOPE) -> Context:
        scope = scanner if self.per_scanner else STATION_SCOPE
        ctx = self._contexts.get(scope)
        if ctx is None:
            ctx = self._contexts[scope] = Context(scope)
        return ctx

    def contexts(self) -> list[Context]:
        return list(self._contexts.values())

    def restore(self, contexts: list[Context]) -> None:
        """Take back contexts saved before a restart (lines must be loaded first)."""
        for ctx in contexts:
            if ctx.current is not None and ctx.current not in self._lines:
                ctx.current = None
            self._contexts[ctx.scope] = ctx

    @property
    def mode(self) -> ScanMode:
        return self.context().mode

    @mode.setter
    def mode(self, mode: ScanMode) -> None:
        self.context().mode = mode

    @property
    def current(self) -> tuple[str, int] | None:
        return self.context().current

    def open_document(self, order_id: str, line_number: int = 1,
                      scanner: str = STATION_SCOPE) -> CachedLine:
        line = self._lines.get((order_id, line_number))
        if line is None:
            raise NoDocument(f"{order_id} line {line_number} is not in this station's cache")
        ctx = self.context(scanner)
        ctx.current = (order_id, line_number)
        ctx.last = None
        return line

    def move_line(self, scanner: str, step: int) -> CachedLine | None:
        """Select the next (``step=1``) or previous line; None past either end."""
        ctx = self.context(scanner)
        if ctx.current is None:
            return None
        numbers = [ln.line_number for ln in self.order_lines(ctx.current[0])]
        at = numbers.index(ctx.current[1]) + step
        if not 0 <= at < len(numbers):
            return None
        ctx.current = (ctx.current[0], numbers[at])
        return self._lines[ctx.current]

    def close_document(self, scanner: str) -> tuple[str, int] | None:
        ctx = self.context(scanner)
        closed, ctx.current, ctx.mode, ctx.last = ctx.current, None, ScanMode.ADD, None
        return closed

    # -- deciding -----------------------------------------------------------------

    def judge(self, scan: DecodedScan | BadRead, serial: str | None = None) -> Judgement:
        """Decide a scan in the current mode; ``serial=None`` with a DecodedScan
        means the scan's text is the serial. Applies an accepted change at once."""
        if isinstance(scan, BadRead):
            return self.refuse(scan.scanner, scan.received_ns, "", scan.reason, scan.message)
        value = scan.text if serial is None else serial
        return self.register(scan.scanner, value, scan.received_ns, data=scan.text)

    def register(self, scanner: str, serial: str | None, received_ns: int,
                 data: str | None = None, mode: ScanMode | None = None) -> Judgement:
        """Register ``serial`` (None: not readable, R7) on the scanner's current line,
        in its context's mode unless ``mode`` is given (an undo)."""
        shown = data if data is not None else (serial or "NOT-READABLE")
        ctx = self.context(scanner)
        if ctx.current is None:
            return self.refuse(scanner, received_ns, shown, "no_document",
                               "no order open: scan an order first")
        mode = ctx.mode if mode is None else mode
        key = ctx.current
        line = self._lines[key]
        counts = self._counts[key]
        elsewhere = serial is not None and self._live_elsewhere(line, counts, serial)
        # The rules only ask ``in`` and ``len``: a view answers both without a copy.
        serials = cast("tuple[str | None, ...]", SerialsView(line.serials, counts))
        view = LineView(line.order_id, line.line_number, line.item_id, line.quantity, serials)
        decision = decide_scan(view, serial, mode, registered_elsewhere=elsewhere)
        entry = self._entry(scanner, received_ns, shown, decision, line, serial, mode)
        if not decision.accepted:
            return Judgement(entry, received_ns)
        self._apply(line, serial, mode, remember=entry)
        ctx.last = entry
        return Judgement(entry, received_ns, line)

    def note(self, scanner: str, received_ns: int, data: str, reason: str,
             message: str) -> Judgement:
        """An accepted command (mode, line, document): journaled, never sent."""
        ctx = self.context(scanner)
        order_id, line_number = ctx.current if ctx.current else (None, None)
        return Judgement(received_ns=received_ns, entry=JournalEntry(
            seq=self._take_seq(), id=uuid.uuid4().hex, ts=_wall_time(received_ns),
            scanner=scanner, data=data, accepted=True, reason=reason, message=message,
            state=EntryState.LOCAL, order_id=order_id, line_number=line_number,
            mode=ctx.mode.value,
        ))

    def revert(self, judgement: Judgement) -> None:
        """Undo an accepted change whose journal entry could not be committed."""
        if judgement.line is not None:
            self._unsaved.pop(judgement.entry.seq, None)
            self.undo(judgement.entry)

    def undo(self, entry: JournalEntry) -> None:
        """Take an accepted entry's effect off its line (failed commit, late refusal)."""
        if entry.order_id is None or entry.line_number is None or entry.mode is None:
            return
        line = self._lines.get((entry.order_id, entry.line_number))
        if line is None:
            return
        undo = ScanMode.REMOVE if entry.mode == ScanMode.ADD else ScanMode.ADD
        if undo is ScanMode.REMOVE and self._counts[(line.order_id, line.line_number)].get(
                entry.serial, 0) <= 0:
            return  # already gone (the store's update arrived first)
        self._apply(line, entry.serial, undo, remember=None)

    # -- internals ----------------------------------------------------------------

    def _apply(self, line: CachedLine, serial: str | None, mode: ScanMode,
               remember: JournalEntry | None) -> None:
        live = self._live.get(line.item_id)
        if live is None:
            live = self._live[line.item_id] = Counter()
        counts = self._counts[(line.order_id, line.line_number)]
        if mode is ScanMode.ADD:
            line.serials.append(serial)
            counts[serial] += 1
            if serial is not None:
                live[serial] += 1
        else:
            # remove the last matching entry (mirrors order_cache.remove_serial)
            serials = line.serials
            at = next(i for i in range(len(serials) - 1, -1, -1) if serials[i] == serial)
            del serials[at]
            counts[serial] -= 1
            if serial is not None:
                live[serial] -= 1
        if remember is not None:
            self._forget_saved()
            self._unsaved[remember.seq] = (remember, (line.order_id, line.line_number), serial,
                                           mode)

    def _forget_saved(self) -> None:
        """Drop remembered changes whose entry is committed (the service gives a
        committed registration its uplink number, ``useq``), oldest first."""
        unsaved = self._unsaved
        while unsaved:
            seq = next(iter(unsaved))
            if unsaved[seq][0].useq is None:
                return
            del unsaved[seq]

    def _live_elsewhere(self, line: CachedLine, counts: Counter[str | None],
                        serial: str) -> bool:
        live = self._live.get(line.item_id)
        return live is not None and live[serial] - counts[serial] > 0

    def _live_update(self, line: CachedLine, sign: int) -> None:
        live = self._live.setdefault(line.item_id, Counter())
        for serial in line.serials:
            if serial is not None:
                live[serial] += sign

    def _entry(self, scanner: str, received_ns: int, data: str, decision: Decision,
               line: CachedLine, serial: str | None, mode: ScanMode) -> JournalEntry:
        return JournalEntry(
            seq=self._take_seq(), id=uuid.uuid4().hex, ts=_wall_time(received_ns),
            scanner=scanner, data=data, accepted=decision.accepted, reason=decision.reason,
            message=decision.message,
            state=EntryState.PENDING if decision.accepted else EntryState.LOCAL,
            order_id=line.order_id, line_number=line.line_number, item_id=line.item_id,
            mode=mode.value, serial=serial,
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
