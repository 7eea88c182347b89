"""What the operator display shows, as plain data: pure, no I/O.

The server turns station events into a ``Snapshot`` per scanner and sends it
whole to the page, so a page that missed messages (slow, reconnecting) is
right again with the next one.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gateway.journal import JournalEntry
from gateway.station import Station

Verdict = Literal["good", "bad", "info"]
AlertKind = Literal["store_refusal", "uplink_down"]


@dataclass(slots=True)
class LastScan:
    """The station's answer to the last scan or touch, as the packer must read it."""

    entry_id: str
    verdict: Verdict
    word: str
    """ADDED, REMOVED, OK, REFUSED or REFUSED BY STORE: never colour alone."""
    reason: str
    message: str
    data: str
    """What was scanned, shown as text (it may be hostile)."""
    at: float


def last_scan(entry: JournalEntry) -> LastScan:
    if not entry.accepted:
        verdict: Verdict = "bad"
        word = "REFUSED"
    elif entry.reason in ("added", "removed"):
        verdict, word = "good", entry.reason.upper()
    else:
        verdict, word = "info", "OK"
    return LastScan(entry.id, verdict, word, entry.reason, entry.message, entry.data,
                    entry.ts)


@dataclass(slots=True)
class Alert:
    """A banner that stays until someone touches its button."""

    id: str
    kind: AlertKind
    title: str
    message: str
    since: float
    resolved: str = ""
    """Set when the cause went away (the link is back) before anyone acknowledged."""


class Alerts:
    """Open banners, oldest first; at most ``limit`` (the oldest go first)."""

    def __init__(self, limit: int = 20) -> None:
        self._open: OrderedDict[str, Alert] = OrderedDict()
        self._ids = itertools.count(1)
        self._limit = limit

    def add(self, kind: AlertKind, title: str, message: str, now: float) -> Alert:
        alert = Alert(f"a{next(self._ids)}", kind, title, message, now)
        self._open[alert.id] = alert
        while len(self._open) > self._limit:
            self._open.popitem(last=False)
        return alert

    def ack(self, alert_id: str) -> bool:
        return self._open.pop(alert_id, None) is not None

    def open(self) -> list[Alert]:
        return list(self._open.values())

    def find(self, kind: AlertKind) -> Alert | None:
        return next((a for a in reversed(self._open.values()) if a.kind == kind), None)


class RecentEntries:
    """Entries the station accepted lately, so a late refusal can name the serial."""

    def __init__(self, limit: int = 2000) -> None:
        self._entries: OrderedDict[str, JournalEntry] = OrderedDict()
        self._limit = limit

    def add(self, entry: JournalEntry) -> None:
        self._entries[entry.id] = entry
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)

    def get(self, entry_id: str) -> JournalEntry | None:
        return self._entries.get(entry_id)


def refusal_alert_text(entry: JournalEntry | None, reason: str, message: str,
                       ) -> tuple[str, str]:
    """Title and text of a late refusal banner: what to take out of the box, and why."""
    if entry is None:
        return "The order store refused a registration", message or reason
    what = entry.serial if entry.serial is not None else "a NOT-READABLE unit"
    where = f"{entry.order_id} line {entry.line_number}" if entry.order_id else "the order"
    return (f"The order store refused {what} on {where}",
            f"{message or reason}. It is no longer registered: check the unit.")


@dataclass(slots=True)
class LineView:
    order_id: str
    number: int
    item_id: str
    registered: int
    quantity: int
    position: int
    """1-based place of the line in the order, for "line 2 of 3"."""
    lines: int


@dataclass(slots=True)
class Snapshot:
    station: str
    scanner: str
    mode: str
    line: LineView | None
    last: LastScan | None
    alerts: list[Alert] = field(default_factory=list)
    uplink: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def snapshot(station: Station, scanner: str, last: LastScan | None, alerts: list[Alert],
             uplink: bool) -> Snapshot:
    """The page's whole state for ``scanner``, read from the station's memory."""
    ctx = station.context(scanner)
    view = None
    if ctx.current is not None:
        line = station.line(*ctx.current)
        if line is not None:
            numbers = [ln.line_number for ln in station.order_lines(line.order_id)]
            view = LineView(line.order_id, line.line_number, line.item_id, len(line.serials),
                            line.quantity, numbers.index(line.line_number) + 1, len(numbers))
    return Snapshot(station.station_id, scanner, ctx.mode.value, view, last, alerts, uplink)
