"""The station's copy of the orders it works on, so it keeps deciding offline.

Jobs for ``StationDatabase.submit``. A line's registration list changes in the
same transaction as the journal entry that changed it.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.journal import JournalEntry
from scangw.sales.registration import ScanMode


@dataclass(slots=True)
class CachedLine:
    """One order line and the serials registered on its draft document."""

    order_id: str
    line_number: int
    item_id: str
    quantity: int
    serials: list[str | None] = field(default_factory=list)
    gtins: tuple[str, ...] = ()
    """GTIN-14s of the line's item: a GS1 scan with (01) selects the line by them."""
    as_of_seq: int | None = field(default=None, compare=False)
    """Set on lines merged from the journal: the newest journal seq the merge saw.
    ``Station.load`` applies again what the station decided after it."""


def put_order(lines: list[CachedLine]) -> Callable[[sqlite3.Connection], None]:
    """Job: replace the cached copy of the order(s) these lines belong to.

    Only what differs is written: the store sends the whole order after every
    batch it books, and rewriting a line of thousands of serials for each scan
    cost more disk than the scan itself. A line keeps the rows of its longest
    common prefix with the new list; the rest is deleted and inserted.
    """

    def job(conn: sqlite3.Connection) -> None:
        by_order: dict[str, list[CachedLine]] = {}
        for line in lines:
            by_order.setdefault(line.order_id, []).append(line)
        for order_id, order_lines in by_order.items():
            _store_order(conn, order_id, order_lines)

    return job


def _store_order(conn: sqlite3.Connection, order_id: str, lines: list[CachedLine]) -> None:
    cached = {n: (item, qty, gtins) for n, item, qty, gtins in conn.execute(
        "SELECT line_number, item_id, quantity, gtins FROM cached_lines WHERE order_id = ?",
        (order_id,))}
    for gone in cached.keys() - {line.line_number for line in lines}:
        conn.execute("DELETE FROM cached_lines WHERE order_id = ? AND line_number = ?",
                     (order_id, gone))
        conn.execute("DELETE FROM cached_serials WHERE order_id = ? AND line_number = ?",
                     (order_id, gone))
    for line in lines:
        meta = (line.item_id, line.quantity, ",".join(line.gtins))
        if cached.get(line.line_number) != meta:
            conn.execute("INSERT OR REPLACE INTO cached_lines (order_id, line_number, item_id,"
                         " quantity, gtins) VALUES (?, ?, ?, ?, ?)",
                         (order_id, line.line_number, *meta))
        have = conn.execute("SELECT position, serial FROM cached_serials WHERE order_id = ?"
                            " AND line_number = ? ORDER BY position",
                            (order_id, line.line_number)).fetchall()
        keep = 0
        for (_position, serial), wanted in zip(have, line.serials, strict=False):
            if serial != wanted:
                break
            keep += 1
        if keep < len(have):
            conn.execute("DELETE FROM cached_serials WHERE order_id = ? AND line_number = ?"
                         " AND position >= ?", (order_id, line.line_number, have[keep][0]))
        start = have[keep - 1][0] + 1 if keep else 0
        conn.executemany(
            "INSERT INTO cached_serials (order_id, line_number, position, serial)"
            " VALUES (?, ?, ?, ?)",
            [(order_id, line.line_number, start + i, s)
             for i, s in enumerate(line.serials[keep:])])


def load_all(conn: sqlite3.Connection) -> list[CachedLine]:
    """Job: every cached line with its registration list in order."""
    lines = {
        (o, n): CachedLine(o, n, item, qty, [], tuple(g for g in gtins.split(",") if g))
        for o, n, item, qty, gtins in conn.execute(
            "SELECT order_id, line_number, item_id, quantity, gtins FROM cached_lines"
            " ORDER BY order_id, line_number"
        )
    }
    for o, n, serial in conn.execute(
        "SELECT order_id, line_number, serial FROM cached_serials"
        " ORDER BY order_id, line_number, position"
    ):
        line = lines.get((o, n))
        if line is not None:
            line.serials.append(serial)
    return list(lines.values())


def add_serial(
    order_id: str, line_number: int, serial: str | None
) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO cached_serials (order_id, line_number, position, serial)"
            " SELECT ?, ?, COALESCE(MAX(position) + 1, 0), ? FROM cached_serials"
            " WHERE order_id = ? AND line_number = ?",
            (order_id, line_number, serial, order_id, line_number),
        )

    return change


def remove_serial(
    order_id: str, line_number: int, serial: str | None
) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        # by key, not rowid: newer files keep cached_serials WITHOUT ROWID
        conn.execute(
            "DELETE FROM cached_serials WHERE order_id = ? AND line_number = ? AND position ="
            " (SELECT position FROM cached_serials WHERE order_id = ? AND line_number = ?"
            " AND serial IS ? ORDER BY position DESC LIMIT 1)",
            (order_id, line_number, order_id, line_number, serial),
        )

    return change


def undo_entry(conn: sqlite3.Connection, entry: JournalEntry) -> None:
    """Take a refused entry's effect off its cached line (the store said no)."""
    if entry.order_id is None or entry.line_number is None:
        return
    undo = remove_serial if entry.mode == "add" else add_serial
    undo(entry.order_id, entry.line_number, entry.serial)(conn)


def merge_store_truth(
    order_id: str, lines: list[CachedLine]
) -> Callable[[sqlite3.Connection], list[CachedLine]]:
    """Job: cache the store's view of an order, replaying on top of it what this
    station registered that the store has not acknowledged yet. Returns the lines
    as cached."""

    def job(conn: sqlite3.Connection) -> list[CachedLine]:
        as_of = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0])
        merged = {ln.line_number: CachedLine(ln.order_id, ln.line_number, ln.item_id,
                                             ln.quantity, list(ln.serials), ln.gtins, as_of)
                  for ln in lines}
        counts: dict[int, Counter[str | None]] = {}
        for line_number, mode, serial in conn.execute(
            "SELECT line_number, mode, serial FROM journal WHERE state = 'pending'"
            " AND order_id = ? ORDER BY seq", (order_id,),
        ):
            line = merged.get(line_number)
            if line is None:
                continue
            # a count per line, not ``in`` on the list: thousands of pending
            # registrations on a line of thousands (a burst) were quadratic here
            present = counts.get(line_number)
            if present is None:
                present = counts[line_number] = Counter(line.serials)
            if mode == "add" and (serial is None or not present[serial]):
                line.serials.append(serial)
                present[serial] += 1
            elif mode == "remove" and present[serial]:
                line.serials.remove(serial)
                present[serial] -= 1
        result = list(merged.values())
        if result:
            _store_order(conn, order_id, result)
        else:  # nothing left to ship: the order leaves the cache
            conn.execute("DELETE FROM cached_lines WHERE order_id = ?", (order_id,))
            conn.execute("DELETE FROM cached_serials WHERE order_id = ?", (order_id,))
        return result

    return job


def save_context(scope: str, mode: ScanMode, current: tuple[str, int] | None,
                 ) -> Callable[[sqlite3.Connection], None]:
    """Change: remember a packer's mode and line, so a restart resumes there."""

    def change(conn: sqlite3.Connection) -> None:
        order_id, line_number = current if current else (None, None)
        conn.execute("INSERT OR REPLACE INTO station_state VALUES (?, ?, ?, ?)",
                     (scope, mode.value, order_id, line_number))

    return change


def load_contexts(conn: sqlite3.Connection) -> list[tuple[str, ScanMode, tuple[str, int] | None]]:
    """Job: every saved (scope, mode, current line)."""
    return [(scope, ScanMode(mode), None if order_id is None else (order_id, int(line)))
            for scope, mode, order_id, line in conn.execute(
                "SELECT scope, mode, order_id, line_number FROM station_state")]
