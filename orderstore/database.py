"""The order store's SQLite database and how a registration takes effect.

Registrations are idempotent by id: the first delivery decides, and every
redelivery gets the same verdict back without changing anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from scangw import protocol
from scangw.sales.registration import LineView, ScanMode, decide_scan

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    customer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id TEXT NOT NULL REFERENCES orders(order_id),
    line_number INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, line_number)
);
CREATE TABLE IF NOT EXISTS item_gtins (
    item_id TEXT NOT NULL,
    gtin TEXT NOT NULL UNIQUE,
    PRIMARY KEY (item_id, gtin)
);
CREATE TABLE IF NOT EXISTS line_serials (
    order_id TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    position INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    serial TEXT,
    PRIMARY KEY (order_id, line_number, position)
);
CREATE INDEX IF NOT EXISTS line_serials_by_serial ON line_serials(item_id, serial);
CREATE TABLE IF NOT EXISTS registrations (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    station TEXT NOT NULL,
    seq INTEGER NOT NULL,
    scanner TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    serial TEXT,
    scanned_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    epoch TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS station_progress (
    site TEXT NOT NULL,
    station TEXT NOT NULL,
    epoch TEXT NOT NULL,
    contiguous INTEGER NOT NULL,
    PRIMARY KEY (site, station, epoch)
);
CREATE TABLE IF NOT EXISTS stations (
    site TEXT NOT NULL,
    station TEXT NOT NULL,
    status TEXT NOT NULL,
    version TEXT,
    config_hash TEXT,
    epoch TEXT,
    last_seq INTEGER,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (site, station)
);
"""


@dataclass
class Applied:
    """What one commit did: acknowledgements per message, orders changed, gaps seen."""

    acks: list[list[protocol.Ack]] = field(default_factory=list)
    changed_orders: set[str] = field(default_factory=set)
    gaps: dict[str, tuple[str, int]] = field(default_factory=dict)
    """station -> (epoch, first missing uplink sequence number)."""


@dataclass(frozen=True, slots=True)
class OrderLine:
    order_id: str
    line_number: int
    item_id: str
    quantity: int
    serials: tuple[str | None, ...] = ()


class StoreDatabase:
    """One connection; used from one thread at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def put_order(self, order_id: str, customer: str, lines: list[tuple[int, str, int]]) -> None:
        """Create or replace an order's header and lines (line, item, quantity)."""
        with _transaction(self.conn):
            self.conn.execute("INSERT OR REPLACE INTO orders VALUES (?, ?)", (order_id, customer))
            self.conn.execute("DELETE FROM order_lines WHERE order_id = ?", (order_id,))
            self.conn.executemany(
                "INSERT INTO order_lines VALUES (?, ?, ?, ?)",
                [(order_id, n, item, qty) for n, item, qty in lines],
            )

    def order_lines(self, order_id: str) -> list[OrderLine]:
        lines = []
        for n, item, qty in self.conn.execute(
            "SELECT line_number, item_id, quantity FROM order_lines WHERE order_id = ?"
            " ORDER BY line_number", (order_id,),
        ).fetchall():
            lines.append(OrderLine(order_id, n, item, qty, self._serials(order_id, n)))
        return lines

    def apply(self, site: str, batches: list[protocol.RegistrationBatch]) -> Applied:
        """Decide every registration of several messages in one transaction.

        A station's registrations take effect in its uplink sequence order: one
        that arrives ahead of a missing predecessor is held (not acknowledged) and
        the gap is reported, so the station sends again from the first missing one.
        """
        now = datetime.now(UTC).isoformat()
        result = Applied()
        with _transaction(self.conn):
            for batch in batches:
                result.acks.append(self._apply_batch(site, batch, now, result))
        return result

    def _apply_batch(self, site: str, batch: protocol.RegistrationBatch, now: str,
                     result: Applied) -> list[protocol.Ack]:
        key = (site, batch.station, batch.epoch)
        row = self.conn.execute(
            "SELECT contiguous FROM station_progress WHERE site = ? AND station = ?"
            " AND epoch = ?", key).fetchone()
        contiguous = 0 if row is None else int(row[0])
        acks = []
        for r in batch.registrations:
            seen = self.conn.execute(
                "SELECT status, reason, message FROM registrations WHERE id = ?", (r.id,)
            ).fetchone()
            if seen is not None:
                acks.append(protocol.Ack(id=r.id, status=seen[0], reason=seen[1],
                                         message=seen[2]))
                continue
            if r.seq > contiguous + 1:
                result.gaps.setdefault(batch.station, (batch.epoch, contiguous + 1))
                continue
            contiguous = max(contiguous, r.seq)
            acks.append(self._apply_one(site, batch, r, now, result))
        self.conn.execute(
            "INSERT INTO station_progress VALUES (?, ?, ?, ?) ON CONFLICT"
            " (site, station, epoch) DO UPDATE SET contiguous = excluded.contiguous",
            (*key, contiguous))
        return acks

    def _apply_one(self, site: str, batch: protocol.RegistrationBatch,
                   r: protocol.Registration, now: str, result: Applied) -> protocol.Ack:
        accepted, reason, message = self._decide(r)
        self.conn.execute(
            "INSERT INTO registrations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (r.id, site, batch.station, r.seq, r.scanner, r.order_id, r.line_number,
             r.item_id, r.mode.value, r.serial, r.scanned_at.isoformat(), now,
             "accepted" if accepted else "refused", reason, message, batch.epoch),
        )
        if accepted:
            self._change_list(r)
            result.changed_orders.add(r.order_id)
        return protocol.Ack(id=r.id, status="accepted" if accepted else "refused",
                            reason=reason, message=message)

    def record_presence(self, site: str, p: protocol.StationPresence) -> None:
        with _transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO stations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (site, p.station, p.status, p.version, p.config_hash, p.epoch, p.last_seq,
                 datetime.now(UTC).isoformat()))

    def order_state(self, order_id: str) -> list[protocol.LineState] | None:
        """The order's lines as stations see them, or None if there is no such order."""
        lines = self.order_lines(order_id)
        if not lines:
            return None
        return [protocol.LineState(line_number=ln.line_number, item_id=ln.item_id,
                                   quantity=ln.quantity, serials=list(ln.serials),
                                   gtins=self.item_gtins(ln.item_id))
                for ln in lines]

    def item_gtins(self, item_id: str) -> list[str]:
        return [g for (g,) in self.conn.execute(
            "SELECT gtin FROM item_gtins WHERE item_id = ? ORDER BY gtin", (item_id,))]

    def put_item_gtins(self, item_id: str, gtins: list[str]) -> None:
        with _transaction(self.conn):
            self.conn.execute("DELETE FROM item_gtins WHERE item_id = ?", (item_id,))
            self.conn.executemany("INSERT INTO item_gtins VALUES (?, ?)",
                                  [(item_id, g) for g in gtins])

    def _decide(self, r: protocol.Registration) -> tuple[bool, str, str]:
        row = self.conn.execute(
            "SELECT item_id, quantity FROM order_lines WHERE order_id = ? AND line_number = ?",
            (r.order_id, r.line_number),
        ).fetchone()
        if row is None:
            return False, "unknown_line", f"{r.order_id} line {r.line_number} does not exist"
        item_id, quantity = row
        if item_id != r.item_id:
            return False, "wrong_item", (
                f"{r.order_id} line {r.line_number} is for {item_id}, not {r.item_id}")
        serials = self._serials(r.order_id, r.line_number)
        elsewhere = r.serial is not None and self.conn.execute(
            "SELECT 1 FROM line_serials WHERE item_id = ? AND serial = ?"
            " AND NOT (order_id = ? AND line_number = ?) LIMIT 1",
            (item_id, r.serial, r.order_id, r.line_number),
        ).fetchone() is not None
        view = LineView(r.order_id, r.line_number, item_id, quantity, serials)
        d = decide_scan(view, r.serial, r.mode, registered_elsewhere=elsewhere)
        return d.accepted, d.reason, d.message

    def _change_list(self, r: protocol.Registration) -> None:
        if r.mode is ScanMode.ADD:
            self.conn.execute(
                "INSERT INTO line_serials SELECT ?, ?, COALESCE(MAX(position) + 1, 0), ?, ?"
                " FROM line_serials WHERE order_id = ? AND line_number = ?",
                (r.order_id, r.line_number, r.item_id, r.serial, r.order_id, r.line_number),
            )
        else:
            self.conn.execute(
                "DELETE FROM line_serials WHERE rowid = (SELECT rowid FROM line_serials"
                " WHERE order_id = ? AND line_number = ? AND serial IS ?"
                " ORDER BY position DESC LIMIT 1)",
                (r.order_id, r.line_number, r.serial),
            )

    def _serials(self, order_id: str, line_number: int) -> tuple[str | None, ...]:
        return tuple(s for (s,) in self.conn.execute(
            "SELECT serial FROM line_serials WHERE order_id = ? AND line_number = ?"
            " ORDER BY position", (order_id, line_number),
        ))

    def registration_count(self, status: str | None = None) -> int:
        if status is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM registrations").fetchone()[0])
        return int(self.conn.execute(
            "SELECT COUNT(*) FROM registrations WHERE status = ?", (status,)).fetchone()[0])


class _transaction:  # noqa: N801 - used as a context manager
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
