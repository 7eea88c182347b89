"""The order store's SQLite database: the sales ledger, and what stations sent.

The ledger (``scangw.sales``) is held in memory and is the cache of the rows in
this file. Every change runs in ``write()``: one SQLite write transaction that
first reloads the ledger if another process (the office CLI, another store)
committed since, then persists every record the ledger changed, so memory and
disk never disagree after a commit and a failed transaction is rolled back in
both.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orderstore.records_db import create_tables, load_all, upsert
from scangw import protocol
from scangw.sales.ledger import SalesLedger
from scangw.sales.returns import ReturnCheck

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS station_registrations (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    station TEXT NOT NULL,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL,
    scanner TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    serial TEXT,
    scanned_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    document_id TEXT,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
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
CREATE TABLE IF NOT EXISTS changed_orders (
    order_id TEXT PRIMARY KEY
);
"""


class StoreDatabase:
    """One connection and the ledger it caches; used from one thread at a time."""

    def __init__(self, path: Path, return_check: ReturnCheck = ReturnCheck.WARN) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.return_check = return_check
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self._stale = False
        self.conn.executescript(SCHEMA)
        with self._transaction():
            create_tables(self.conn)
        self.ledger = self._load()
        self._seen_version = self._data_version()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[SalesLedger]:
        """A write transaction over the ledger: changes are persisted on success,
        dropped (and the ledger reloaded) on any error."""
        with self._transaction():
            if self._data_version() != self._seen_version:
                log.info("store database changed by another process: reloading the ledger")
                self.ledger = self._load()
            try:
                yield self.ledger
                changes = self.ledger.take_changes()
                upsert(self.conn, changes)
                orders = {getattr(r, "order_id", None) for r in changes}
                self.conn.executemany("INSERT OR IGNORE INTO changed_orders VALUES (?)",
                                      [(o,) for o in orders if o])
            except BaseException:
                self._stale = True  # memory may be ahead of the rolled-back file
                raise
        self._seen_version = self._data_version()

    def read(self) -> SalesLedger:
        """The ledger, fresh if another process committed since."""
        if self._data_version() != self._seen_version:
            self.ledger = self._load()
            self._seen_version = self._data_version()
        return self.ledger

    def take_changed_orders(self) -> list[str]:
        """Orders changed since the last call (by this or any process)."""
        with self._transaction():
            orders = [o for (o,) in self.conn.execute("SELECT order_id FROM changed_orders")]
            self.conn.execute("DELETE FROM changed_orders")
        return orders

    # -- what the stations said ---------------------------------------------------

    def record_presence(self, site: str, p: protocol.StationPresence, at: str) -> None:
        with self._transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO stations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (site, p.station, p.status, p.version, p.config_hash, p.epoch, p.last_seq, at))

    def registration_count(self, status: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM station_registrations"
        args: tuple[str, ...] = ()
        if status is not None:
            sql, args = sql + " WHERE status = ?", (status,)
        return int(self.conn.execute(sql, args).fetchone()[0])

    # -- convenience for demos, tests and first runs ---------------------------------

    def put_order(self, order_id: str, customer: str, lines: list[tuple[int, str, int]],
                  gtins: dict[str, list[str]] | None = None) -> None:
        """Create an order, with its customer and serialized items if they are new.

        Items get the group ``SERIAL-SALES`` (active in sales process, R1).
        """
        with self.write() as ledger:
            known = {type(r).__name__ + ":" + str(r.key) for r in ledger.records()}
            if "TrackingGroup:SERIAL-SALES" not in known:
                ledger.define_group("SERIAL-SALES", "Serials registered in sales",
                                    active_in_sales_process=True)
            if f"Customer:{customer}" not in known:
                ledger.define_customer(customer, customer)
            for _, item, _ in lines:
                if f"Item:{item}" not in known or (gtins and item in gtins):
                    ledger.define_item(item, item, "SERIAL-SALES",
                                       gtins=(gtins or {}).get(item, ()))
            ledger.add_order(order_id, customer, {n: (item, qty) for n, item, qty in lines})

    def put_item_gtins(self, item_id: str, gtins: list[str]) -> None:
        with self.write() as ledger:
            item = ledger.item(item_id)
            ledger.define_item(item.id, item.name, item.group_id, catch_weight=item.catch_weight,
                               gtins=gtins, warranty_days=item.warranty_days,
                               warranty_months=item.warranty_months)

    # -- internals ------------------------------------------------------------------

    def _load(self) -> SalesLedger:
        return SalesLedger.from_records(load_all(self.conn), return_check=self.return_check)

    def _data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            if self._stale:
                self.ledger = self._load()
                self._seen_version = self._data_version()
                self._stale = False
            raise
        self.conn.execute("COMMIT")
