"""The order store's database: the sales ledger, and what stations sent.

The ledger (``scangw.sales``) is held in memory as the cache of the record rows.
Every change runs in ``write()``: one transaction that first bumps the store's
revision row -- on PostgreSQL that row lock orders ledger writers across all
store instances, on SQLite ``BEGIN IMMEDIATE`` does -- then pulls in the rows
other instances or the office CLI wrote since this instance last looked
(``revision > seen``), lets the caller change the ledger, and persists exactly
what changed. Memory and database never disagree after a commit; a failed
transaction is rolled back in both. The partial unique index behind R17 stays
the last word: a write that would make a second live sale of a serial raises
``LiveSaleConflict`` instead of committing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from orderstore.backends import REVISION_LOCK_SQL, Backend, Row, SqliteBackend, open_backend
from orderstore.config import StoreSection
from orderstore.migrations import migrate
from orderstore.records_db import load_all, load_since, upsert
from scangw import protocol
from scangw.sales.ledger import SalesLedger
from scangw.sales.returns import ReturnCheck

log = logging.getLogger(__name__)


class LiveSaleConflict(RuntimeError):
    """The database refused a second live sale of one serial (R17), written by
    another store instance since this one last looked; retry to get a refusal."""


class StoreDatabase:
    """One connection and the ledger it caches; used from one thread at a time."""

    def __init__(self, target: Path | StoreSection | Backend,
                 return_check: ReturnCheck = ReturnCheck.WARN) -> None:
        self._section = target if isinstance(target, StoreSection) else None
        if isinstance(target, Backend):
            self.db = target
        elif isinstance(target, StoreSection):
            self.db = open_backend(target)
        else:
            self.db = SqliteBackend(target)
        self.return_check = return_check
        for step in migrate(self.db):
            log.info("store database: applied migration %d (%s)", step.version, step.name)
        self._dirty = False
        self._revision = self._current_revision()
        self.ledger = self._load()

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        return self.db.path if isinstance(self.db, SqliteBackend) else None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def write(self) -> Iterator[SalesLedger]:
        """A write transaction over the ledger: changes are persisted on success,
        dropped (and the ledger reloaded) on any error."""
        unsure, self._dirty = self._dirty, True  # memory may be ahead until the commit
        with self._transaction():
            row = self.db.one(REVISION_LOCK_SQL)
            assert row is not None, "store_revision has no row: run scangw store migrate"
            revision = int(row[0])
            if unsure:  # an earlier failure could not reload: start from the rows
                self.ledger, self._revision = self._load(), revision - 1
            self._catch_up(revision - 1)
            yield self.ledger
            changes = self.ledger.take_changes()
            try:
                upsert(self.db, changes, revision)
            except Exception as exc:
                if self.db.is_live_sale_violation(exc):
                    raise LiveSaleConflict(
                        "another store instance registered one of these serials first") from exc
                raise
            orders = sorted({o for r in changes if (o := getattr(r, "order_id", None))})
            self.db.executemany("INSERT INTO changed_orders VALUES (?) ON CONFLICT (order_id)"
                                " DO NOTHING", [(o,) for o in orders])
        self._revision = revision
        self._dirty = False

    def read(self) -> SalesLedger:
        """The ledger, brought up to date if anyone committed since."""
        if self._dirty:
            self._revision, self.ledger = self._current_revision(), self._load()
        else:
            self._catch_up(self._current_revision())
        return self.ledger

    def take_changed_orders(self) -> list[str]:
        """Orders changed since the last call (by this or any store instance or process)."""
        with self._transaction():
            return sorted(r[0] for r in self.db.execute(
                "DELETE FROM changed_orders RETURNING order_id"))

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Rows of one statement with ``?`` placeholders (reports, exports, tests)."""
        return self.db.execute(sql, args)

    # -- what the stations said ---------------------------------------------------

    def record_presence(self, site: str, p: protocol.StationPresence, at: str) -> None:
        names = ["site", "station", "status", "version", "config_hash", "epoch", "last_seq",
                 "seen_at"]
        with self._transaction():
            self.db.execute(self.db.upsert_sql("stations", names, ["site", "station"]),
                            (site, p.station, p.status, p.version, p.config_hash, p.epoch,
                             p.last_seq, at))

    def registration_count(self, status: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM station_registrations"
        args: tuple[str, ...] = ()
        if status is not None:
            sql, args = sql + " WHERE status = ?", (status,)
        row = self.db.one(sql, args)
        return int(row[0]) if row else 0

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
        return SalesLedger.from_records(load_all(self.db), return_check=self.return_check)

    def _catch_up(self, revision: int) -> None:
        """Take in the rows written after the revision this instance last saw."""
        if revision == self._revision:
            return
        changed = load_since(self.db, self._revision)
        log.debug("store database: %d row(s) changed elsewhere since revision %d",
                  len(changed), self._revision)
        state = self.ledger._state  # records never go away: putting the new rows is enough
        for record in changed:
            state.put(record, track=False)
        self._revision = revision

    def _reconnect(self) -> None:
        """A new connection after a lost one; the catch-up on the next write
        takes in whatever changed meanwhile."""
        if self._section is None:
            return
        log.warning("store database: connection lost; reconnecting")
        with suppress(Exception):
            self.db.close()
        self.db = open_backend(self._section)

    def _current_revision(self) -> int:
        row = self.db.one("SELECT revision FROM store_revision")
        return int(row[0]) if row else 0

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self.db.lost():
            self._reconnect()
        try:
            self.db.begin()
        except Exception:
            if not self.db.lost():
                raise
            self._reconnect()  # found out on first use: the server restarted
            self.db.begin()
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            with suppress(Exception):
                self.db.execute("ROLLBACK")
            if self._dirty:
                with suppress(Exception):
                    self._revision = self._current_revision()
                    self.ledger = self._load()
                    self._dirty = False
            raise
