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

from gateway.database import Relaxed


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
    useq: int | None = None
    """Uplink sequence number, given at commit to entries that go to the store."""
    store_reason: str | None = None
    store_message: str | None = None


_COLUMNS = (
    "seq, id, ts, scanner, data, accepted, reason, message, state,"
    " order_id, line_number, item_id, mode, serial, useq, store_reason, store_message"
)


def _row(e: JournalEntry) -> tuple[object, ...]:
    return (e.seq, e.id, e.ts, e.scanner, e.data, int(e.accepted), e.reason, e.message,
            e.state.value, e.order_id, e.line_number, e.item_id, e.mode, e.serial, e.useq,
            e.store_reason, e.store_message)


def _entry(row: tuple[object, ...]) -> JournalEntry:
    seq, id_, ts, scanner, data, accepted, reason, message, state, *rest = row
    order_id, line_number, item_id, mode, serial, useq, store_reason, store_message = rest
    return JournalEntry(
        int(str(seq)), str(id_), float(str(ts)), str(scanner), str(data), bool(accepted),
        str(reason), str(message), EntryState(str(state)),
        None if order_id is None else str(order_id),
        None if line_number is None else int(str(line_number)),
        None if item_id is None else str(item_id),
        None if mode is None else str(mode),
        None if serial is None else str(serial),
        None if useq is None else int(str(useq)),
        None if store_reason is None else str(store_reason),
        None if store_message is None else str(store_message),
    )


def append(entry: JournalEntry, change: Callable[[sqlite3.Connection], None] | None = None,
           ) -> Callable[[sqlite3.Connection], int | None]:
    """Job: record ``entry`` and, in the same transaction, its effect on the cache.

    An entry for the store gets the next uplink sequence number here, inside the
    transaction, so the numbers the store sees have no gaps even when a commit
    fails. Returns that number.
    """

    def job(conn: sqlite3.Connection) -> int | None:
        useq = None
        if entry.state is EntryState.PENDING:
            useq = int(conn.execute("SELECT COALESCE(MAX(useq), 0) + 1 FROM journal")
                       .fetchone()[0])
        row = _row(entry)
        conn.execute(f"INSERT INTO journal ({_COLUMNS}) VALUES ({','.join('?' * 17)})",
                     (*row[:14], useq, *row[15:]))
        if change is not None:
            change(conn)
        return useq

    return job


def epoch(conn: sqlite3.Connection) -> str:
    """Job: the id of this journal, made when the file was created."""
    return str(conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0])


def last_useq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(useq), 0) FROM journal").fetchone()[0])


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()
    return int(row[0])


def outbox(limit: int, after_seq: int = 0) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    """Job: the oldest registrations the store has not acknowledged yet."""

    def job(conn: sqlite3.Connection) -> list[JournalEntry]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM journal WHERE state = 'pending' AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        return [_entry(r) for r in rows]

    return job


def sent_from(useq: int, limit: int) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    """Job: what was sent to the store from uplink sequence ``useq`` on, in any state
    (the store asks for these when it notices a gap)."""

    def job(conn: sqlite3.Connection) -> list[JournalEntry]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM journal WHERE useq >= ? ORDER BY useq LIMIT ?",
            (useq, limit),
        ).fetchall()
        return [_entry(r) for r in rows]

    return job


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    depth: int
    oldest_ts: float | None
    oldest: JournalEntry | None


def outbox_summary(conn: sqlite3.Connection) -> OutboxSummary:
    """Job: how many registrations wait for the store, and the oldest one."""
    depth = int(conn.execute("SELECT COUNT(*) FROM journal WHERE state = 'pending'")
                .fetchone()[0])
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM journal WHERE state = 'pending' ORDER BY seq LIMIT 1"
    ).fetchone()
    oldest = None if row is None else _entry(row)
    return OutboxSummary(depth, None if oldest is None else oldest.ts, oldest)


@dataclass(frozen=True, slots=True)
class StoreVerdict:
    id: str
    accepted: bool
    reason: str
    message: str


UndoChange = Callable[[sqlite3.Connection, JournalEntry], None]


def settle(
    verdicts: Iterable[StoreVerdict], undo: UndoChange | None = None
) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    """Job: record the store's verdicts; returns the entries that were still pending
    (with their new state). A refused entry's effect on the cache is undone in the
    same transaction, so the station's list follows the store's truth.

    Relaxed (committed without an fsync of its own): if a crash loses it, the
    entries are pending again, go out again, and the store answers them with the
    verdict it gave first."""
    batch = list(verdicts)

    def job(conn: sqlite3.Connection) -> list[JournalEntry]:
        settled = []
        for v in batch:
            state = EntryState.CONFIRMED if v.accepted else EntryState.REFUSED
            row = conn.execute(
                f"UPDATE journal SET state = ?, store_reason = ?, store_message = ?"
                f" WHERE id = ? AND state = 'pending' RETURNING {_COLUMNS}",
                (state.value, v.reason, v.message, v.id),
            ).fetchone()
            if row is None:
                continue
            entry = _entry(row)
            settled.append(entry)
            if state is EntryState.REFUSED and undo is not None:
                undo(conn, entry)
        return settled

    return Relaxed(job)



def entries(limit: int = 100) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    """Job: the newest journal entries, newest last."""

    def job(conn: sqlite3.Connection) -> list[JournalEntry]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM journal ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_entry(r) for r in reversed(rows)]

    return job
