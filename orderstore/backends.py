"""Where the order store keeps its rows: SQLite (embedded default) or PostgreSQL
(several store instances sharing one database).

The store writes its SQL once, with ``?`` placeholders and the ``ON CONFLICT``
forms both databases understand; what differs (connecting, placeholders, how a
write transaction starts and locks, the catalog, what a unique violation looks
like) lives here, so no other module names a dialect.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orderstore.config import PostgresSection, StoreSection

log = logging.getLogger(__name__)

Row = tuple[Any, ...]

REVISION_LOCK_SQL = "UPDATE store_revision SET revision = revision + 1 RETURNING revision"
"""Run first in every ledger write: bumps the store's revision and, on PostgreSQL,
takes the row lock that orders ledger writers across store instances."""


LIVE_SALE_TABLE = "sales_registration"
LIVE_SALE_INDEX = LIVE_SALE_TABLE + "_live_sale"
"""The partial unique index behind R17 (one live sale per item and serial)."""


class StoreUnavailable(RuntimeError):
    """The store's database cannot be opened; the message says which and why."""


class Backend(ABC):
    """One connection to the store's database, used from one thread at a time."""

    dialect: str
    for_update: str
    """Suffix of a ``SELECT`` that locks the rows it reads until commit."""

    @abstractmethod
    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run one statement (``?`` placeholders) and return its rows, if any."""

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def stream(self, sql: str, args: Sequence[Any] = (), size: int = 1000) -> Iterator[Row]:
        """Rows of a large query a chunk at a time, in one consistent snapshot."""

    @abstractmethod
    def begin(self) -> None:
        """Start a write transaction."""

    @abstractmethod
    def columns(self, table: str) -> set[str]:
        """Column names of ``table`` (empty if it does not exist)."""

    @abstractmethod
    def is_live_sale_violation(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the R17 index refusing a second live sale of a serial."""

    @abstractmethod
    def lock_migrations(self) -> None:
        """Inside a transaction: keep other instances from migrating at the same time."""

    @abstractmethod
    def close(self) -> None: ...

    def lost(self) -> bool:
        """Whether the connection is gone (server restart, network): reopen it."""
        return False

    def one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        rows = self.execute(sql, args)
        return rows[0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: commit on success, roll back on any error."""
        self.begin()
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @staticmethod
    def upsert_sql(table: str, names: Sequence[str], keys: Sequence[str]) -> str:
        """Insert or update by primary key. Never ``INSERT OR REPLACE``: that would
        silently delete a row that violates another unique index (R17) instead of
        refusing the write."""
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in keys)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        return (f"INSERT INTO {table} ({', '.join(names)}) VALUES"
                f" ({', '.join('?' * len(names))}) ON CONFLICT ({', '.join(keys)}) {action}")


class SqliteBackend(Backend):
    """One SQLite file in WAL mode; ``BEGIN IMMEDIATE`` serializes writers."""

    dialect = "sqlite"
    for_update = ""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the store database {path}: {exc}"
                                   " (check store.database in the store config)") from exc
        self.path = path
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=10000")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, tuple(args)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def stream(self, sql: str, args: Sequence[Any] = (), size: int = 1000) -> Iterator[Row]:
        cur = self.conn.execute(sql, tuple(args))
        while rows := cur.fetchmany(size):
            yield from rows

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}

    def is_live_sale_violation(self, exc: BaseException) -> bool:
        # SQLite names the columns, not the index
        return isinstance(exc, sqlite3.IntegrityError) and str(exc) == (
            f"UNIQUE constraint failed: {LIVE_SALE_TABLE}.item_id, {LIVE_SALE_TABLE}.serial")

    def lock_migrations(self) -> None:
        """``BEGIN IMMEDIATE`` already excludes every other writer."""

    def close(self) -> None:
        self.conn.close()


class PostgresBackend(Backend):
    """A psycopg 3 connection in autocommit mode with explicit transactions, so
    the store's transaction boundaries are the same on both databases."""

    dialect = "postgres"
    for_update = " FOR UPDATE"
    _MIGRATION_LOCK = 0x5CA9_0001

    def __init__(self, section: PostgresSection) -> None:
        import psycopg

        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(section.conninfo(), autocommit=True,
                                        password=section.password_value())
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {section.where()}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
                " (check store.postgres in the store config)") from exc
        if section.schema_name:
            with self.transaction():  # IF NOT EXISTS alone races with another instance
                self.lock_migrations()
                self.conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{section.schema_name}"')
            self.conn.execute(f'SET search_path TO "{section.schema_name}"')
        self.where = section.where()

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        cur = self.conn.execute(self._sql(sql), tuple(args))
        return list(cur.fetchall()) if cur.description is not None else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), rows)

    def stream(self, sql: str, args: Sequence[Any] = (), size: int = 1000) -> Iterator[Row]:
        with self.conn.transaction(), self.conn.cursor(name="scangw_stream") as cur:
            cur.execute(self._sql(sql), tuple(args))
            while rows := cur.fetchmany(size):
                yield from rows

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def columns(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
            " AND table_schema = current_schema()", (table,))
        return {r[0] for r in rows}

    def is_live_sale_violation(self, exc: BaseException) -> bool:
        return (isinstance(exc, self._psycopg.errors.UniqueViolation)
                and exc.diag.constraint_name == LIVE_SALE_INDEX)

    def lock_migrations(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (self._MIGRATION_LOCK,))

    def close(self) -> None:
        self.conn.close()

    def lost(self) -> bool:
        return self.conn.closed or self.conn.broken


def open_backend(section: StoreSection) -> Backend:
    """The backend the store config chooses: ``store.postgres`` if given, else
    the SQLite file ``store.database``."""
    if section.postgres is not None:
        return PostgresBackend(section.postgres)
    return SqliteBackend(section.database)


def read_secret_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise StoreUnavailable(f"store.postgres.password_env names {name}, which is not set"
                               " in the store's environment")
    return value
