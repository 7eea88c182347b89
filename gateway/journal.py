"""The journal: every decision the station made, and the outbox of what the
store has not yet acknowledged.

Each function here is a job for ``StationDatabase.submit``: it runs on the
writer thread inside the batch's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class EntryState(StrEnum):
    LOCAL = "local"
    """Refused or a bad read: journaled for the record, nothing to send."""
    PENDING = "pending"
    """Accepted here, waiting for the store's acknowledgement."""
    CONFIRMED = "confirmed"
    """The store accepted it."""
    REFUSED = "refused"
    """The store refused what the station had accepted (a late refusal)."""


@dataclass(slots=True)
class JournalEntry:
    seq: int
    id: str
    ts: float
    scanner: str
    data: str
    accepted: bool
    reason: str
    message: str
    state: EntryState
    order_id: str | None = None
    line_number: int | None = None
    item_id: str | None = None
    mode: str | None = None
    serial: str | None = None


_COLUMNS = (
    "seq, id, ts, scanner, data, accepted, reason, message, state,"
    " order_id, line_number, item_id, mode, serial"
)


def _row(e: JournalEntry) -> tuple[object, ...]:
    return (e.seq, e.id, e.ts, e.scanner, e.data, int(e.accepted), e.reason, e.message,
            e.state.value, e.order_id, e.line_number, e.item_id, e.mode, e.serial)


def _entry(row: tuple[object, ...]) -> JournalEntry:
    seq, id_, ts, scanner, data, accepted, reason, message, state, *rest = row
    order_id, line_number, item_id, mode, serial = rest
    return JournalEntry(
        int(str(seq)), str(id_), float(str(ts)), str(scanner), str(data), bool(accepted),
        str(reason), str(message), EntryState(str(state)),
        None if order_id is None else str(order_id),
        None if line_number is None else int(str(line_number)),
        None if item_id is None else str(item_id),
        None if mode is None else str(mode),
        None if serial is None else str(serial),
    )


def append(entry: JournalEntry, change: Callable[[sqlite3.Connection], None] | None = None,
           ) -> Callable[[sqlite3.Connection], None]:
    """Job: record ``entry`` and, in the same transaction, its effect on the cache."""

    def job(conn: sqlite3.Connection) -> None:
        conn.execute(f"INSERT INTO journal ({_COLUMNS}) VALUES ({','.join('?' * 14)})",
                     _row(entry))
        if change is not None:
            change(conn)

    return job


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()
    return int(row[0])


def outbox(limit: int) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    """Job: the oldest registrations the store has not acknowledged yet."""

    def job(conn: sqlite3.Connection) -> list[JournalEntry]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM journal WHERE state = 'pending' ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [_entry(r) for r in rows]

    return job


@dataclass(frozen=True, slots=True)
class StoreVerdict:
    id: str
    accepted: bool
    reason: str
    message: str


def settle(verdicts: Iterable[StoreVerdict]) -> Callable[[sqlite3.Connection], list[str]]:
    """Job: record the store's verdicts; returns the ids that were still pending."""
    batch = list(verdicts)

    def job(conn: sqlite3.Connection) -> list[str]:
        settled = []
        for v in batch:
            state = EntryState.CONFIRMED if v.accepted else EntryState.REFUSED
            cur = conn.execute(
                "UPDATE journal SET state = ?, store_reason = ?, store_message = ?"
                " WHERE id = ? AND state = 'pending'",
                (state.value, v.reason, v.message, v.id),
            )
            if cur.rowcount:
                settled.append(v.id)
        return settled

    return job


def entries(limit: int = 100) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    """Job: the newest journal entries, newest last."""

    def job(conn: sqlite3.Connection) -> list[JournalEntry]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM journal ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_entry(r) for r in reversed(rows)]

    return job
