"""The order store's schema, one numbered migration at a time.

``schema_migrations`` records what ran; ``migrate`` applies what is missing in
one transaction (on PostgreSQL under an advisory lock, so instances starting
together do not race) and runs on every store start and from
``scangw store migrate``. The record tables follow the dataclasses in
``scangw.sales.records``: after the numbered steps, ``sync_record_tables`` adds
any column a record gained. Never edit a released step; add one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from orderstore.backends import Backend
from orderstore.records_db import RECORD_TABLES, create_record_tables, sync_record_tables

_STATION_TABLES = (
    """CREATE TABLE IF NOT EXISTS station_registrations (
    id TEXT PRIMARY KEY, site TEXT NOT NULL, station TEXT NOT NULL, epoch TEXT NOT NULL,
    seq INTEGER NOT NULL, scanner TEXT NOT NULL, order_id TEXT NOT NULL,
    line_number INTEGER NOT NULL, item_id TEXT NOT NULL, mode TEXT NOT NULL, serial TEXT,
    scanned_at TEXT NOT NULL, received_at TEXT NOT NULL, document_id TEXT,
    status TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS station_progress (
    site TEXT NOT NULL, station TEXT NOT NULL, epoch TEXT NOT NULL,
    contiguous INTEGER NOT NULL, PRIMARY KEY (site, station, epoch))""",
    """CREATE TABLE IF NOT EXISTS stations (
    site TEXT NOT NULL, station TEXT NOT NULL, status TEXT NOT NULL, version TEXT,
    config_hash TEXT, epoch TEXT, last_seq INTEGER, seen_at TEXT NOT NULL,
    PRIMARY KEY (site, station))""",
    "CREATE TABLE IF NOT EXISTS changed_orders (order_id TEXT PRIMARY KEY)",
)


def _v1_tables(db: Backend) -> None:
    """The schema as it was before migrations were numbered (IF NOT EXISTS: a
    store file from then is taken over as it is)."""
    for sql in _STATION_TABLES:
        db.execute(sql)
    create_record_tables(db)


def _v2_revisions(db: Backend) -> None:
    """A revision counter bumped by every ledger write, and the revision each
    record row was last written at: an instance refreshes its ledger with just
    the rows other instances wrote since it last looked."""
    db.execute("CREATE TABLE IF NOT EXISTS store_revision (id INTEGER PRIMARY KEY,"
               " revision BIGINT NOT NULL)")
    db.execute("INSERT INTO store_revision VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
    for table in RECORD_TABLES:
        if "revision" not in db.columns(table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN revision BIGINT NOT NULL DEFAULT 0")
        db.execute(f"CREATE INDEX IF NOT EXISTS {table}_revision ON {table}(revision)")
    db.execute("CREATE INDEX IF NOT EXISTS station_registrations_station ON"
               " station_registrations(site, station, epoch, seq)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Backend], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tables", _v1_tables),
    Migration(2, "revisions", _v2_revisions),
)


def migrate(db: Backend) -> list[Migration]:
    """Bring the schema up to date; returns the steps that ran (none if current)."""
    ran: list[Migration] = []
    with db.transaction():
        db.lock_migrations()
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                   " name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        done = {int(r[0]) for r in db.execute("SELECT version FROM schema_migrations")}
        newest = max(done, default=0)
        if newest > MIGRATIONS[-1].version:
            raise RuntimeError(
                f"the store database is at schema version {newest}, newer than this scangw"
                f" knows ({MIGRATIONS[-1].version}): upgrade scangw on this host")
        for step in MIGRATIONS:
            if step.version not in done:
                step.apply(db)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                           (step.version, step.name, datetime.now(UTC).isoformat()))
                ran.append(step)
        sync_record_tables(db)
    return ran


def schema_version(db: Backend) -> int:
    if not db.columns("schema_migrations"):
        return 0
    row = db.one("SELECT MAX(version) FROM schema_migrations")
    return int(row[0]) if row and row[0] is not None else 0
